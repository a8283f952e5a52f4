"""Jobs: straight-line recipes that wire data, models, training, evaluation and tracking."""
