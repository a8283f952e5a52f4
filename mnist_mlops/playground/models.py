"""Where the page's answers come from: a running model server (its /invocations URL) or a model
loaded in this process (a models:/ or runs:/ URI), both the same serving model asked the same way,
so the page answers as /invocations does for the same image."""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from mnist_mlops import registry, registry_text
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.serving.inputs import image_requests
from mnist_mlops.serving.model import answer, load_served

PARAMS = {"show": True, "answer_refused": True}  # what the model saw, and a refusal's reason as an answer
TIMEOUT = 30  # seconds a model server may take to answer


@dataclass
class Source:
    """One model the page can ask: a server's URL or a model URI (loaded on first use, then kept)."""

    name: str  # as the page's model picker lists it
    url: str | None = None
    uri: str | None = None
    loaded: object = field(default=None, repr=False)

    def answer(self, image: bytes) -> dict:
        """The serving model's answer to one encoded image: digit, probabilities, number, digits (each
        with its box and the 28x28 it saw) and, for an image it cannot read, refused."""
        request = image_requests([image])
        if self.url:
            return asked(self.url, {"dataframe_split": request.to_dict(orient="split", index=False), "params": PARAMS})
        answers = answer(self.load(), request, PARAMS)  # a refused image: MnistMlopsError
        return json.loads(answers.to_json(orient="records"))[0]  # the JSON the server would send

    def load(self):
        """The model loaded in this process (once), or None for a server's."""
        if self.uri and self.loaded is None:
            self.loaded = load_served(self.uri)
        return self.loaded

    def describe(self) -> str:
        """The model in one line: its registered version and figures, or where it is served."""
        if self.url:
            return f"`mlflow models serve` at {self.url}"
        prefix, uri = f"models:/{registry.MODEL_NAME}", self.uri or ""
        if uri.startswith((f"{prefix}/", f"{prefix}@")):
            return registry_text.version_text(uri[len(prefix) + 1 :])
        return f"{uri}, loaded in the page's process"


def asked(url: str, body: dict) -> dict:
    """A model server's answer to one request; its own message when it refuses it."""
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return json.loads(response.read())["predictions"][0]
    except urllib.error.HTTPError as error:
        message = json.loads(error.read() or b"{}").get("message", error.reason)
        raise MnistMlopsError(f"{url} answered {error.code}: {message}") from None
    except (urllib.error.URLError, TimeoutError) as error:
        raise MnistMlopsError(f"cannot reach the model server at {url}: {error}") from None


def name_of(uri: str) -> str:
    """How the page names a model URI: @alias or version N for mnist-digits, else the URI."""
    prefix = f"models:/{registry.MODEL_NAME}"
    if uri.startswith(f"{prefix}@"):
        return uri.removeprefix(prefix)
    return f"version {uri.removeprefix(prefix + '/')}" if uri.startswith(f"{prefix}/") else uri


def sources(model_urls: tuple[str, ...], model_uris: tuple[str, ...]) -> dict[str, Source]:
    """The models the page offers, by name: the servers and URIs given first, then every alias and
    version of mnist-digits in the registry."""
    registered = [f"models:/{registry.MODEL_NAME}@{alias}" for alias in registry.alias_names()]
    registered += [f"models:/{registry.MODEL_NAME}/{version}" for version in registry.version_numbers()]
    found = {f"server {url}": Source(f"server {url}", url=url) for url in model_urls}
    for uri in (*model_uris, *registered):
        found.setdefault(name_of(uri), Source(name_of(uri), uri=uri))
    if not found:
        raise MnistMlopsError("no model to ask: register one (make run), or pass --model-url or --model-uri")
    return found
