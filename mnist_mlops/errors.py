"""The one error type the CLI turns into a clear one-line message and a non-zero exit."""


class MnistMlopsError(Exception):
    """A problem the user can fix: bad input, missing or corrupt data, an unknown name."""


class TrackingOutage(MnistMlopsError):
    """The tracking server stopped answering during a run (which was ended as soon as it answered again)."""
