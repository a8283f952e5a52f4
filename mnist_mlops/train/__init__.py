"""Training: fitting models and timing it. Does not import mlflow."""
