"""`python -m mnist_mlops`: the same CLI as `mnist-mlops`."""

from mnist_mlops.cli import main

main()
