"""A fit's log file: library warnings and log records go there, not to the user's terminal.

Lightning, MLflow and torch speak through `warnings` and `logging`; during a fit both are sent
to `<checkpoint folder>/fit.log` (saved with the run as `logs/fit.log`), so the terminal shows
biodl's own lines: one per epoch, the stop reason and the test metrics.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

LIBRARIES = ("pytorch_lightning", "lightning", "lightning_fabric", "mlflow", "torch", "alembic",
             "urllib3")


class FitLog:
    def __init__(self, path: Path):
        self.path = path
        self.warnings = 0

    def write(self, text: str) -> None:
        with open(self.path, "a") as handle:
            handle.write(text.rstrip("\n") + "\n")


@contextmanager
def library_output_to(path: Path) -> Iterator[FitLog]:
    """Inside the block, warnings and library log records are appended to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    log = FitLog(path)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    loggers = [logging.getLogger(name) for name in LIBRARIES]
    saved = [(logger, logger.handlers[:], logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.handlers, logger.propagate = [handler], False

    def show(message, category, filename, lineno, file=None, line=None):
        log.warnings += 1
        log.write(warnings.formatwarning(message, category, filename, lineno, line))

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show
            yield log
    finally:
        for logger, handlers, propagate in saved:
            logger.handlers, logger.propagate = handlers, propagate
        handler.close()
