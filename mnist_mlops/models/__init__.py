"""Model definitions: scikit-learn baseline pipelines and Keras networks."""
