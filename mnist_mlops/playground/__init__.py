"""The playground: a page where a person draws or photographs a digit and two models answer it."""
