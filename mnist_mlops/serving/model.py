"""The model the registry holds and `mlflow models serve` runs: any trained classifier behind one
input contract (see serving/inputs.py), answering each row with the digit and ten probabilities.

It is logged from code (served.py), not pickled. A Keras classifier is converted to LiteRT when the
model is logged, and the flatbuffer is one of its artifacts, so loading it needs no TensorFlow.
"""

import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import yaml
from mlflow.exceptions import MlflowException
from mlflow.models import Model, ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema
from mlflow.types.schema import Array, Object, Property

from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.native_logs import import_tensorflow
from mnist_mlops.serving.inference_log import ANSWER_DECIMALS, Answered, inference_log
from mnist_mlops.serving.inputs import IMAGE_COLUMN, IMAGE_PLACE, MAX_ROWS, InputError, Rows, encode_image, to_rows
from mnist_mlops.serving.litert import lite_forward, to_litert
from mnist_mlops.tracking.models import SKLEARN_REQUIREMENTS, pinned

CLASSIFIER = "classifier"  # the artifact: an MLflow sklearn or tensorflow (Keras) model
LITERT = "litert"  # the artifact of a Keras classifier: its network as a LiteRT flatbuffer
SERVING_REQUIREMENTS = (
    *SKLEARN_REQUIREMENTS, "tensorflow", "keras", "ai-edge-litert", "pillow", "opencv-python-headless"
)  # fmt: skip
PACKAGE = Path(__file__).resolve().parents[1]  # mnist_mlops/, logged with the model as its code
SERVED_CODE = Path(__file__).with_name("served.py")
FOUND = Object([Property("digit", "long"), Property("probabilities", Array("double")),
                Property("box", Array("long")), Property("seen", "string", required=False)])  # fmt: skip
# No input schema: the model takes pixels, tensors or images and checks them itself (inputs.py). An image's
# answer also has the number it holds and each digit found (its box; with show=true, the 28x28 PNG it saw,
# and the four corners of the sheet of a whole frame).
# With answer_refused=true, an image without a readable digit is answered with its reason, not a 400.
# With the inference log on (serving/inference_log.py), every answer carries its request's id.
SIGNATURE = ModelSignature(
    inputs=None,
    outputs=Schema([ColSpec("long", "digit"), ColSpec(Array("double"), "probabilities"),
                    ColSpec("string", "number", required=False), ColSpec(Array(FOUND), "digits", required=False),
                    ColSpec("string", "refused", required=False), ColSpec("string", "request_id", required=False),
                    ColSpec(Array(Array("long")), "sheet", required=False)]),
    params=ParamSchema([ParamSpec("show", "boolean", False), ParamSpec("answer_refused", "boolean", False)]),
)  # fmt: skip
SPARK_ANSWER = "digit long, probabilities array<double>, number string, refused string"  # an image's, answer_refused
IN_SERVER = "_MLFLOW_IS_IN_SERVING_ENVIRONMENT"  # "true" once `mlflow models serve` has loaded the model
ARRAYS = "reads_pixel_arrays"  # metadata of versions whose input code reads a column of pixel arrays
REGISTERED = "registered_model_meta"  # what MLflow writes beside a model it downloads from the registry
NOT_ONE = -1  # the digit of an image that holds several (read its number) or none (read refused)
# model_config "output": what predict answers. Load with {"output": "digit"} for mlflow.models.evaluate,
# whose classifier evaluator takes one prediction per row.
OUTPUTS = ("digit and probabilities", "digit")
# model_config of a load whose answers stay out of the inference log (versions logged since it exists)
UNRECORDED = {"record": False}


class DigitClassifier(PythonModel):
    """Wraps a scikit-learn pipeline or a LiteRT network; bad requests raise INVALID_PARAMETER_VALUE,
    which the scoring server answers with HTTP 400."""

    def load_context(self, context) -> None:
        config = context.model_config or {}
        self.output = config.get("output", OUTPUTS[0])
        if self.output not in OUTPUTS:
            raise MnistMlopsError(f"model_config output {self.output!r}: choose one of {', '.join(OUTPUTS)}")
        if LITERT in context.artifacts:
            self.probabilities = lite_forward(Path(context.artifacts[LITERT]).read_bytes())
        elif "sklearn" in Model.load(context.artifacts[CLASSIFIER]).flavors:
            self.probabilities = mlflow.sklearn.load_model(context.artifacts[CLASSIFIER]).predict_proba
        else:  # a version logged before its network was converted at log time
            self.probabilities = lite_forward(to_litert(keras_network(context.artifacts[CLASSIFIER])))
        # Opened here so that a log folder that cannot be written stops a server before its first request.
        self.log = inference_log() if config.get("record", True) else None
        self.identity = identity_of(context.artifacts[CLASSIFIER]) if self.log else (None, None)

    def predict(
        self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame | pd.Series | list[dict]:
        """The digit and ten probabilities of each row (pixels, a tensor or an image; see serving/inputs.py);
        an image's answer also holds its number and digits (params: show, to add what the model saw)."""
        params, started = params or {}, time.perf_counter()
        request_id = uuid.uuid4().hex if self.log else ""
        try:
            rows = to_rows(model_input, bool(params.get("answer_refused", False)))
        except InputError as error:
            if self.log:
                self.record_refusal(request_id, started, kind_of(model_input), str(error))
            raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from error
        proba = np.asarray(self.probabilities(rows.pixels) if len(rows.pixels) else np.zeros((0, 10)), np.float64)
        if rows.digits is not None:
            answers = image_answers(rows, proba, bool(params.get("show", False)))
            answers = answers["digit"] if self.output == "digit" else answers
        elif self.output == "digit":
            answers = pd.Series(proba.argmax(axis=1), name="digit")
        else:  # plain lists of Python numbers: the server's JSON encoder then never calls back per number
            answers = {"digit": proba.argmax(axis=1).tolist(), "probabilities": proba.round(ANSWER_DECIMALS).tolist()}
        if self.log:
            self.record(request_id, started, rows, proba)
            if isinstance(answers, (dict, pd.DataFrame)):
                answers["request_id"] = [request_id] * len(proba if rows.digits is None else rows.digits)
        return answered(answers) if isinstance(answers, dict) else answers

    def record(self, request_id: str, started: float, rows: Rows, proba: np.ndarray) -> None:
        """Add a request's answers to the inference log."""
        assert self.log is not None  # called only with a log
        images = rows.digits is not None
        counts = np.array([len(found) for found in rows.digits or []]) if images else np.ones(len(proba), np.int64)
        seen = np.round(rows.pixels * 255).astype(np.uint8) if images else None
        latency = (time.perf_counter() - started) * 1000
        self.log.record(Answered(time.time(), request_id, *self.identity, "image" if images else "pixels", latency,
                                 proba, counts, rows.refused, seen))  # fmt: skip

    def record_refusal(self, request_id: str, started: float, kind: str, reason: str) -> None:
        """Add a request refused whole (HTTP 400) to the inference log, as one record with its reason."""
        assert self.log is not None  # called only with a log
        latency = (time.perf_counter() - started) * 1000
        self.log.record(Answered(time.time(), request_id, *self.identity, kind, latency, np.zeros((0, 10)),
                                 np.zeros(1, np.int64), [reason], None, whole=True))  # fmt: skip


def identity_of(artifact: str) -> tuple[str | None, str | None]:
    """The registered version (when the model was loaded through the registry) and the logged model id
    of the serving model holding this artifact."""
    folder = next(parent for parent in Path(artifact).parents if (parent / "MLmodel").exists())
    registered = yaml.safe_load((folder / REGISTERED).read_text()) if (folder / REGISTERED).exists() else {}
    version = registered.get("model_version")
    return None if version is None else str(version), Model.load(folder).model_id


def kind_of(model_input) -> str:
    """image or pixels: what a request sends, judged from its shape alone (it may be refused unread)."""
    if isinstance(model_input, dict) or (isinstance(model_input, pd.DataFrame) and IMAGE_COLUMN in model_input):
        return "image"
    first = np.ravel(np.asarray(model_input, dtype=object))[:1] if len(model_input) else np.array([])
    return "image" if len(first) and isinstance(first[0], (str, bytes)) else "pixels"


def answered(columns: dict[str, list]) -> pd.DataFrame | list[dict]:
    """Answers as a table; in MLflow's scoring server, as the records it writes as JSON, which it would
    make of the table (building and converting a table costs 0.15 ms a request, as much as the model)."""
    if os.environ.get(IN_SERVER) != "true":
        return pd.DataFrame(columns)
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def image_answers(rows: Rows, proba: np.ndarray, show: bool) -> pd.DataFrame:
    """Per image: its digit and probabilities (NOT_ONE and none unless it holds one digit), its number,
    and each digit found with its box (and, to show, the 28x28 image the classifier was given and the
    corners of the sheet it was found on, none for a crop); and
    why it was refused, when refusals are answered."""
    answers, start = [], 0
    for place, found in enumerate(rows.digits or []):
        digits = []
        for digit, row in zip(found, proba[start : start + len(found)], strict=True):
            said = {
                "digit": int(row.argmax()),
                "probabilities": row.round(ANSWER_DECIMALS).tolist(),
                "box": list(digit.box),
            }
            digits.append(said | ({"seen": encode_image(digit.pixels)} if show else {}))
        start += len(found)
        one = len(digits) == 1
        answers.append({"digit": digits[0]["digit"] if one else NOT_ONE,
                        "probabilities": digits[0]["probabilities"] if one else None,
                        "number": "".join(str(said["digit"]) for said in digits), "digits": digits}
                       | ({"sheet": rows.sheets[place]} if show and rows.sheets else {}))  # fmt: skip
    table = pd.DataFrame(answers)
    return table if rows.refused is None else table.assign(refused=rows.refused)


def keras_network(uri: str):
    """A logged Keras classifier's network, loaded without TensorFlow's start-up lines (for versions
    logged before their LiteRT conversion was)."""
    import_tensorflow()
    return mlflow.tensorflow.load_model(uri)


def log_serving_model(classifier_uri: str, network, example: np.ndarray, name: str) -> str:
    """Log the serving model (any input format, digit and probabilities out) from code around a
    logged classifier named name, with the LiteRT conversion of its Keras network (network: the one
    in memory, None for scikit-learn), this package's code and example rows, on the active run, as
    name-serving; return its URI for the registry."""
    with tempfile.TemporaryDirectory() as folder:
        artifacts = {CLASSIFIER: classifier_uri}
        if network is not None:
            artifacts[LITERT] = str(Path(folder) / "network.tflite")
            Path(artifacts[LITERT]).write_bytes(to_litert(network))
        info = mlflow.pyfunc.log_model(
            name=f"{name}-serving",
            python_model=str(SERVED_CODE),
            artifacts=artifacts,
            model_config={"output": OUTPUTS[0], "record": True},  # a load may only change a key logged
            metadata={ARRAYS: True},
            signature=SIGNATURE,
            input_example=example,
            code_paths=[str(PACKAGE)],
            pip_requirements=pinned(SERVING_REQUIREMENTS),
        )
    return info.model_uri


def load_served(model_uri: str, recorded: bool = True):
    """Load a served model in this process, as `mlflow models serve` does (recorded: its answers go into the
    inference log when there is one); a clear error if it does not load."""
    try:
        return mlflow.pyfunc.load_model(model_uri, model_config=None if recorded else UNRECORDED)
    except MlflowException as error:
        raise MnistMlopsError(f"cannot load {model_uri}: {error.message}") from error


def answer_all(model, requests: pd.DataFrame) -> pd.DataFrame:
    """A loaded served model's answers to requests of any length, sent MAX_ROWS at a time; an image it
    cannot read is answered with its reason (refused), not an error; rows refused as a whole (NaN
    pixels) are a clear error."""
    try:
        answers = [model.predict(requests.iloc[start : start + MAX_ROWS], params={"answer_refused": True})
                   for start in range(0, len(requests), MAX_ROWS)]  # fmt: skip
    except MlflowException as error:
        raise MnistMlopsError(error.message) from error
    return pd.concat(answers, ignore_index=True)


def answer(model, request: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
    """A loaded served model's answer to a one-image request; a refused image is a clear error."""
    try:
        return model.predict(request, params=params)
    except MlflowException as error:
        raise MnistMlopsError(error.message.removeprefix(IMAGE_PLACE.format(0))) from error


def spark_answers(session, model_uri: str, frame, columns: list[str]):
    """A Spark DataFrame's rows answered by the served model in Spark's workers (mlflow.pyfunc.spark_udf):
    the digit, probabilities, number and refused reason as columns after the others (pixel rows:
    their digit as the number, none refused, as an image of one digit)."""
    from pyspark.sql import functions

    images = columns == [IMAGE_COLUMN]
    arrays = not images and (mlflow.models.get_model_info(model_uri).metadata or {}).get(ARRAYS, False)
    result_type = SPARK_ANSWER if images else SPARK_ANSWER.rsplit(", number", 1)[0]
    ask = mlflow.pyfunc.spark_udf(session, model_uri, result_type=result_type, env_manager="local",
                                  params={"answer_refused": True})  # fmt: skip
    # A struct reaches the model as a DataFrame with the input's column names (image, or the pixels');
    # pixels go as one column of arrays, which Spark hands to Python three times faster than 784
    # columns, to versions whose input code reads such a column.
    asked = functions.array(*columns) if arrays else functions.struct(*columns)
    answered = frame.withColumn("answer", ask(asked)).select(
        *[name for name in frame.columns if name not in columns], "answer.*"
    )
    if images:
        return answered
    return answered.withColumn("number", functions.col("digit").cast("string")).withColumn("refused", functions.lit(""))
