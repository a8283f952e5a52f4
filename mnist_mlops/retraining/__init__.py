"""Retraining from corrections: the feedback set as training images and as held-out judges."""
