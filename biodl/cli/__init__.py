"""The `biodl` command: a thin Typer shell over biodl's Python API.

Heavy imports (torch, Lightning, MLflow) happen inside the commands so `biodl --help` is fast.
A `BiodlError` (bad config or data) becomes one red line on stderr and exit code 2.
"""

# importing a command module registers its commands, in the order `biodl --help` lists them
from biodl.cli import training  # noqa: F401  (init, fit, test, validate)
from biodl.cli import inference  # noqa: F401  (predict, sample)
from biodl.cli import variants  # noqa: F401  (variant-effect)
from biodl.cli import inspection  # noqa: F401  (runs, config, check-data, models, ui)
from biodl.cli import interpretation  # noqa: F401  (explain)
from biodl.cli import motifs  # noqa: F401  (motifs)
from biodl.cli import selection  # noqa: F401  (cv, tune)
from biodl.cli import data_tools  # noqa: F401  (shuffle)
from biodl.cli.app import app


def main() -> None:
    app()
