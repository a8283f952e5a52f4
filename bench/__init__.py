"""Benchmarks: speed, accuracy and memory figures, written as JSON and Markdown to bench/results/."""
