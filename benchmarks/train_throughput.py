"""Training samples/s: a plain PyTorch loop vs biodl's Trainer path, side by side.

Same CNN, same data (the E. coli promoter pipeline), same DataLoader, optimiser, loss and
gradient clipping. The two alternate epoch by epoch in one process so machine noise hits both;
the first epoch of each is a warm-up and is not counted.

    .venv/bin/python benchmarks/train_throughput.py [--epochs 11] [--threads 1] [--pipeline PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl
import torch

from biodl import tracking
from biodl.config import load_config
from biodl.data.formats import build_datamodule
from biodl.models import build_model
from biodl.tasks.optim import build_optimizer
from biodl.train import build_task_for, other_callbacks

ROOT = Path(__file__).resolve().parent.parent


class EpochTimer(pl.Callback):
    def __init__(self):
        self.seconds: list[float] = []

    def on_train_epoch_start(self, trainer, module):
        self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer, module):
        self.seconds.append(time.perf_counter() - self.start)


def plain_epoch(model, loader, optimizer, clip: float) -> float:
    start = time.perf_counter()
    model.train()
    for batch in loader:
        logits = model(batch["x"]).squeeze(-1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, batch["y"].float())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
    return time.perf_counter() - start


def biodl_trainer(cfg, store: Path, timer: EpochTimer) -> pl.Trainer:
    """The Trainer as `biodl.train.fit` builds it, with validation switched off."""
    trainer_args = dataclasses.asdict(cfg.trainer) | {
        "max_epochs": 1, "limit_val_batches": 0, "num_sanity_val_steps": 0,
        "enable_progress_bar": False, "enable_model_summary": False,
        "enable_checkpointing": False}
    cfg.tracking.uri = f"sqlite:///{store}"
    logger = tracking.make_logger(cfg.tracking)
    return pl.Trainer(**trainer_args, logger=logger,
                      callbacks=[timer, *other_callbacks(cfg, echo=lambda _: None)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", default=str(ROOT / "pipelines" / "ecoli_promoters"))
    parser.add_argument("--epochs", type=int, default=11)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads; 1 keeps the epoch times steadiest on 2 shared cores")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    cfg = load_config(args.pipeline, ["callbacks.early_stopping.enabled=false"])
    pl.seed_everything(0, verbose=False)
    dm = build_datamodule(cfg.data)
    dm.setup("fit")
    n = len(dm.datasets["train"])
    task = build_task_for(cfg, dm)
    spec = task.hparams.model_spec
    plain_model = build_model(spec["name"], **spec["kwargs"])
    plain_opt = build_optimizer(plain_model, dataclasses.asdict(cfg.task.optimizer))

    timer = EpochTimer()
    plain, store = [], Path(tempfile.mkdtemp()) / "bench.db"
    trainer = biodl_trainer(cfg, store, timer)
    clip = cfg.trainer.gradient_clip_val or 1e9
    for epoch in range(args.epochs):  # alternate which goes first, so drift hits both alike
        trainer.fit_loop.max_epochs = epoch + 1
        if epoch % 2:
            trainer.fit(task, datamodule=dm)
        plain.append(plain_epoch(plain_model, dm.train_dataloader(), plain_opt, clip))
        if not epoch % 2:
            trainer.fit(task, datamodule=dm)
    ratios = [p / b for p, b in zip(plain[1:], timer.seconds[1:])]  # epoch 0 is a warm-up
    print(f"training samples: {n}, batch size {cfg.data.batch_size}, "
          f"torch threads {torch.get_num_threads()}, {args.epochs - 1} timed epochs each")
    print(f"| path | samples/s (median epoch) |\n|---|---|")
    print(f"| plain PyTorch loop | {n / statistics.median(plain[1:]):,.0f} |")
    print(f"| biodl Trainer path | {n / statistics.median(timer.seconds[1:]):,.0f} |")
    print(f"ratio biodl / plain, median of epoch pairs: {statistics.median(ratios):.3f} "
          f"(range {min(ratios):.3f}-{max(ratios):.3f}; goal >= 0.95)")


if __name__ == "__main__":
    main()
