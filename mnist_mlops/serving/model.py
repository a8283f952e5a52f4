"""The model the registry holds and `mlflow models serve` runs: any trained classifier behind one
input contract (see serving/inputs.py), answering each row with the digit and ten probabilities."""

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import Model
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from mnist_mlops.serving.inputs import InputError, to_rows

CLASSIFIER = "classifier"  # the artifact: an MLflow sklearn or tensorflow (Keras) model


class DigitClassifier(mlflow.pyfunc.PythonModel):
    """Wraps a scikit-learn pipeline or a Keras network; bad requests raise INVALID_PARAMETER_VALUE,
    which the scoring server answers with HTTP 400."""

    def load_context(self, context) -> None:
        path = context.artifacts[CLASSIFIER]
        if "sklearn" in Model.load(path).flavors:
            self.classifier = mlflow.sklearn.load_model(path)
            self.probabilities = self.classifier.predict_proba
        else:
            import keras

            self.classifier = mlflow.tensorflow.load_model(path)
            # A direct call, not predict(): predict() costs tens of milliseconds per request.
            self.probabilities = lambda rows: keras.ops.convert_to_numpy(self.classifier(rows, training=False))

    def predict(self, context, model_input, params=None) -> pd.DataFrame:
        try:
            rows = to_rows(model_input)
        except InputError as error:
            raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from error
        proba = np.asarray(self.probabilities(rows), dtype=np.float64)
        return pd.DataFrame({"digit": proba.argmax(axis=1), "probabilities": [list(row.round(6)) for row in proba]})
