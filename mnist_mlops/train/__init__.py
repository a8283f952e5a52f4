"""Training: fitting any model family, timed, and scoring it on every split. Knows nothing of MLflow."""
