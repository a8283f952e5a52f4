"""Hyperparameter search: declared spaces, Hyperopt TPE or random search. Knows nothing of MLflow."""
