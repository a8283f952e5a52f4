"""The model the registry holds and `mlflow models serve` runs: any trained classifier behind one
input contract (see serving/inputs.py), answering each row with the digit and ten probabilities."""

from collections.abc import Callable

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import Model
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from mnist_mlops.data import N_PIXELS
from mnist_mlops.serving.inputs import InputError, to_rows

CLASSIFIER = "classifier"  # the artifact: an MLflow sklearn or tensorflow (Keras) model
CHUNK = 250  # rows per call of a network


class DigitClassifier(mlflow.pyfunc.PythonModel):
    """Wraps a scikit-learn pipeline or a Keras network; bad requests raise INVALID_PARAMETER_VALUE,
    which the scoring server answers with HTTP 400."""

    def load_context(self, context) -> None:
        path = context.artifacts[CLASSIFIER]
        if "sklearn" in Model.load(path).flavors:
            self.classifier = mlflow.sklearn.load_model(path)
            self.probabilities = self.classifier.predict_proba
        else:
            self.classifier = mlflow.tensorflow.load_model(path)
            self.probabilities = graph_forward(self.classifier)

    def predict(self, context, model_input, params=None) -> pd.DataFrame:
        try:
            rows = to_rows(model_input)
        except InputError as error:
            raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from error
        proba = np.asarray(self.probabilities(rows), dtype=np.float64)
        # Plain lists of Python floats: the server's JSON encoder then never calls back per number.
        return pd.DataFrame({"digit": proba.argmax(axis=1), "probabilities": proba.round(6).tolist()})


def graph_forward(network) -> Callable[[np.ndarray], np.ndarray]:
    """The network's inference pass traced once into a TensorFlow graph, run on CHUNK rows at a time.

    A graph call runs every layer at once, where an eager call dispatches each from Python: for the
    default CNN on two cores, 2.1 ms instead of 22.8 ms for one image. Chunks keep the activations
    in cache and bounded: 1,000 images take 208 ms in chunks of 250, 287 ms in one graph call and
    696 ms in one eager call.
    """
    import tensorflow as tf

    signature = [tf.TensorSpec([None, N_PIXELS], tf.float32)]
    forward = tf.function(lambda rows: network(rows, training=False), input_signature=signature)
    return lambda rows: np.concatenate([forward(rows[i : i + CHUNK]).numpy() for i in range(0, len(rows), CHUNK)])
