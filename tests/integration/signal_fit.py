"""`python signal_fit.py SIGNAL EPOCH BATCH biodl-fit-args...`: a `biodl fit` that sends itself
SIGNAL (KILL or TERM) after training batch BATCH of epoch EPOCH, at a known point, so a test
can compare the resumed run with an uninterrupted one exactly."""

from __future__ import annotations

import os
import signal
import sys

import pytorch_lightning as pl


class SignalAt(pl.Callback):
    def __init__(self, signum: int, epoch: int, batch: int):
        self.signum, self.epoch, self.batch = signum, epoch, batch

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx: int) -> None:
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            os.kill(os.getpid(), self.signum)


def main(argv: list[str]) -> None:
    from biodl import train
    from biodl.cli import app

    signum = getattr(signal, f"SIG{argv[0]}")
    at = SignalAt(signum, int(argv[1]), int(argv[2]))
    others = train.other_callbacks
    train.other_callbacks = lambda cfg, echo: [at, *others(cfg, echo)]  # first: before any save
    app(["fit", *argv[3:]])


if __name__ == "__main__":
    main(sys.argv[1:])
