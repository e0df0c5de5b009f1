"""Next-base language modelling of DNA windows, with optional truncated backprop through time.

Batches: {"tokens": (N, L) int64}, PAD (0) after each window. The model maps tokens to
`(N, L, V)` logits where `logits[:, t]` predicts `tokens[:, t + 1]`; the loss is the mean
next-token cross-entropy over non-PAD targets. Metrics, pooled over the epoch:
- `perplexity`: exp(summed NLL / number of predicted tokens) -- not a mean of batch
  perplexities; uniform logits over 4 bases give 4.0;
- `acc`: next-token accuracy over the same tokens.

With `tbptt_steps` = k, training cuts each window into chunks of k predictions and steps the
optimiser after each chunk, carrying the recurrent state forward detached. Lightning 2 has no
automatic TBPTT, so this uses manual optimisation: the model must offer `step(tokens, state)
-> (logits, state)` (DNALM does); Trainer's `gradient_clip_val` and
`accumulate_grad_batches` do not apply, pass `gradient_clip_val` to the task instead.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from biodl.config.binding import closest
from biodl.config.schema import TaskConfig
from biodl.errors import BiodlError
from biodl.tasks.base import Task
from biodl.tasks.seq2seq import Ratio
from biodl.tasks.tagging import require_cross_entropy
from biodl.vocab import PAD

METRICS = ("perplexity", "acc")


class Perplexity(Ratio):
    """exp(summed NLL / tokens) over the epoch."""

    def compute(self) -> torch.Tensor:
        return super().compute().exp()


def next_token_nll(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """Summed NLL of `targets` (N, T) under `logits` (N, T, V), the number of non-PAD targets
    and how many of them the argmax gets right."""
    valid = targets != PAD
    nll = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), ignore_index=PAD,
                          reduction="sum")
    hits = int(((logits.argmax(dim=-1) == targets) & valid).sum())
    return nll, int(valid.sum()), hits


def detach(state):
    """A recurrent state (tensor, or an LSTM's (h, c) pair) cut from its graph."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


class LanguageModelTask(Task):
    kind = "lm"

    def __init__(
        self,
        model: nn.Module,
        tbptt_steps: int | None = None,
        gradient_clip_val: float | None = None,
        metrics: list[str] | None = None,
        l1: float = 0.0,
        optimizer: dict | None = None,
        scheduler: dict | None = None,
        model_spec: dict | None = None,
        input_spec: dict | None = None,
    ):
        super().__init__(model, l1, optimizer, scheduler)
        self.save_hyperparameters(ignore=["model"])
        self.metric_names = metrics or list(METRICS)
        for name in self.metric_names:
            if name not in METRICS:
                raise BiodlError(f"task.metrics: unknown lm metric '{name}'"
                                 f"{closest(name, METRICS, 'metrics')}")
        if tbptt_steps is not None and (tbptt_steps < 1 or not hasattr(model, "step")):
            raise BiodlError(f"task.tbptt_steps: {tbptt_steps} needs a positive chunk length "
                             f"and a model with step(tokens, state); {type(model).__name__} "
                             f"{'has one' if hasattr(model, 'step') else 'has none'}")
        self.tbptt_steps, self.gradient_clip_val = tbptt_steps, gradient_clip_val
        self.automatic_optimization = tbptt_steps is None
        self.init_metrics()

    def make_metrics(self, prefix: str) -> nn.ModuleDict:
        table = {"perplexity": Perplexity, "acc": Ratio}
        return nn.ModuleDict({name: table[name]() for name in self.metric_names})

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model(tokens)  # (N, L, V)

    def loss(self, logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Mean next-token NLL: logits[:, t] against tokens[:, t + 1], PAD ignored."""
        nll, count, _ = next_token_nll(logits[:, :-1], tokens[:, 1:])
        return nll / max(count, 1)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int):
        tokens = batch["tokens"]
        if self.tbptt_steps is not None:
            return self._tbptt_step(tokens)
        loss = self.loss(self(tokens), tokens)
        self.log_train_loss(loss, len(tokens), batch_idx)
        return loss + self.l1 * self.l1_norm() if self.l1 else loss

    def _tbptt_step(self, tokens: torch.Tensor) -> None:
        optimizer = self.optimizers()
        inputs, targets = tokens[:, :-1], tokens[:, 1:]  # (N, L - 1) each
        state, total, count = None, 0.0, 0
        for start in range(0, inputs.shape[1], self.tbptt_steps):
            chunk = slice(start, start + self.tbptt_steps)
            logits, state = self.model.step(inputs[:, chunk], state)  # (N, k, V)
            state = detach(state)  # the next chunk's gradients stop here
            nll, n, _ = next_token_nll(logits, targets[:, chunk])
            if n == 0:
                continue
            loss = nll / n + (self.l1 * self.l1_norm() if self.l1 else 0.0)
            optimizer.zero_grad()
            self.manual_backward(loss)
            if self.gradient_clip_val:
                self.clip_gradients(optimizer, gradient_clip_val=self.gradient_clip_val)
            optimizer.step()
            total, count = total + float(nll.detach()), count + n
        self.log("train/loss", total / max(count, 1), on_epoch=True, on_step=False,
                 batch_size=max(count, 1))
        self._step_scheduler("step")

    def on_train_epoch_end(self) -> None:
        if not self.automatic_optimization:
            self._step_scheduler("epoch")

    def _step_scheduler(self, interval: str) -> None:
        """Manual optimisation steps no scheduler itself: one-cycle per batch, others per
        epoch (plateau with its monitored metric once it exists)."""
        scheduler = self.lr_schedulers()
        if scheduler is None:
            return
        per_step = isinstance(scheduler, torch.optim.lr_scheduler.OneCycleLR)
        if per_step != (interval == "step"):
            return
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            value = self.trainer.callback_metrics.get(self.scheduler_cfg["monitor"])
            if value is not None:
                scheduler.step(value)
        else:
            scheduler.step()

    def _evaluate(self, batch: dict[str, torch.Tensor], split: str, metrics) -> None:
        tokens = batch["tokens"]
        nll, count, hits = next_token_nll(self(tokens)[:, :-1], tokens[:, 1:])
        size = max(count, 1)  # weights each batch's mean by its tokens: an exact epoch mean
        self.log(f"{split}/loss", nll / size, prog_bar=True, batch_size=size, sync_dist=True)
        updates = {"perplexity": nll, "acc": hits}
        for name, metric in metrics.items():
            metric.update(updates[name], count)
            self.log(f"{split}/{name}", metric, batch_size=size)

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self(batch["tokens"]).softmax(dim=-1)  # (N, L, V) next-token probabilities


def build(cfg: TaskConfig, model: nn.Module, model_spec: dict, input_spec: dict,
          gradient_clip_val: float | None = None) -> LanguageModelTask:
    require_cross_entropy(cfg, "lm")
    return LanguageModelTask(model, tbptt_steps=cfg.tbptt_steps,
                             gradient_clip_val=gradient_clip_val, metrics=cfg.metrics, l1=cfg.l1,
                             optimizer=dataclasses.asdict(cfg.optimizer),
                             scheduler=dataclasses.asdict(cfg.scheduler), model_spec=model_spec,
                             input_spec=input_spec)
