"""The serving floor: a pyfunc model that answers its input unchanged, logged from this file
(models from code). `mlflow models serve` of it costs what MLflow's server, parsing and answer
cost for a request, with no model; bench/serving.py measures the champion against it."""

import mlflow


class Identity(mlflow.pyfunc.PythonModel):
    """Answers each request with its own rows."""

    def predict(self, context, model_input, params=None):
        return model_input


mlflow.models.set_model(Identity())
