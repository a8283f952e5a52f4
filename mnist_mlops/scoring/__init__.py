"""Batch scoring: a served model's answers to a Parquet file or folder, or a folder of images, in
chunks on this machine or with Spark."""
