"""Evaluation: metrics, tables and figures. Does not import mlflow."""
