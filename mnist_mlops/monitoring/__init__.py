"""Monitoring the served model: profiles of the inference log's windows and their drift. Knows nothing of MLflow."""
