"""Hyperparameter search: declared spaces, Hyperopt TPE or random search. Does not import mlflow."""
