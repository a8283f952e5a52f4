"""The serving model's code (MLflow's models-from-code): logging points MLflow at this file instead
of pickling an object, and loading runs it, so what a registered version executes is readable here."""

from mlflow.models import set_model

from mnist_mlops.serving.model import DigitClassifier

set_model(DigitClassifier())
