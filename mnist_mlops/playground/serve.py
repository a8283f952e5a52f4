"""`mnist-mlops playground`: the page served on 127.0.0.1, or beyond it behind a password."""

import os

from mnist_mlops import tracking
from mnist_mlops.config import is_loopback
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.playground.config import PASSWORD_VARIABLE, PlaygroundConfig
from mnist_mlops.playground.models import sources
from mnist_mlops.server import password_from


def login(config: PlaygroundConfig) -> tuple[str, str] | None:
    """The user and password the page asks for, if any; a clear error when a non-loopback bind has neither
    a password nor --insecure."""
    password = password_from(config.password_file, "--password-file", PASSWORD_VARIABLE)
    if password is None and not (config.insecure or is_loopback(config.host)):
        raise MnistMlopsError(
            f"--host {config.host} lets anyone who reaches port {config.port} use the models and write the "
            f"feedback set: set ${PASSWORD_VARIABLE} or pass --password-file FILE, or --insecure"
        )
    return (config.user, password) if password else None


def serve_playground(config: PlaygroundConfig, echo) -> None:
    """Serve the page until Ctrl-C."""
    auth = login(config)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # a local tool: no calls home
    from mnist_mlops.playground.page import build_page  # Gradio takes seconds to import: only when the page is served

    tracking.use_tracking_uri()
    found = sources((config.model_url,) if config.model_url else (), (config.model_uri,))
    page = build_page(found)
    echo(f"the playground: http://{config.host}:{config.port}/" + (f" (user {config.user})" if auth else ""))
    page.launch(server_name=config.host, server_port=config.port, auth=auth, ssr_mode=False, quiet=True)
