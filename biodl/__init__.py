"""biodl: deep learning on DNA sequences and cell images with Lightning, MLflow and a CLI."""

__version__ = "0.1.0"
