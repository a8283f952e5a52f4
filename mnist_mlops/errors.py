"""The one error type the CLI turns into a clear one-line message and a non-zero exit."""


class MnistMlopsError(Exception):
    """A problem the user can fix: bad input, missing or corrupt data, an unknown name."""
