"""Evaluation: metrics, tables and figures. Knows nothing of MLflow."""
