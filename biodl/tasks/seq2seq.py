"""Sequence to sequence (e.g. CDS -> protein): teacher-forced training, decoded evaluation.

Batches: {"src": (N, S), "src_lengths": (N,), "tgt_in": (N, T) BOS first, "tgt_out": (N, T)
EOS last, PAD after}. The loss is cross-entropy of the teacher-forced logits against
`tgt_out`, PAD ignored. Metrics (over an epoch, pooled):
- `token_acc`: teacher-forced next-token accuracy over the non-PAD positions of `tgt_out`
  (EOS included), i.e. hits / tokens summed over the epoch;
- `exact_match`: fraction of decoded sequences equal to their target (EOS left out of both);
- `identity`: mean over sequences of (positions i where decoded[i] == target[i]) /
  max(len(decoded), len(target)) -- position by position, no alignment, so an insertion
  early on costs everything after it; two empty sequences count as identical.
Decoding is greedy when `beam_size` is 1, else beam search, up to twice the batch's target
width; at most `decode_limit` validation sequences are decoded per epoch (all test ones).
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import Metric

from biodl.config.binding import closest
from biodl.config.schema import TaskConfig
from biodl.errors import BiodlError
from biodl.tasks.base import Task
from biodl.tasks.tagging import require_cross_entropy
from biodl.vocab import EOS, PAD

METRICS = ("token_acc", "exact_match", "identity")
DECODED = ("exact_match", "identity")


class Ratio(Metric):
    """sum(numerator) / sum(denominator) over the epoch, e.g. hits over tokens."""

    full_state_update = False

    def __init__(self):
        super().__init__()
        self.add_state("numerator", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("denominator", torch.tensor(0.0, dtype=torch.float64),
                       dist_reduce_fx="sum")

    def update(self, numerator: float | torch.Tensor, denominator: float | torch.Tensor) -> None:
        self.numerator += torch.as_tensor(numerator, dtype=torch.float64, device=self.device)
        self.denominator += torch.as_tensor(denominator, dtype=torch.float64, device=self.device)

    def compute(self) -> torch.Tensor:
        return (self.numerator / self.denominator.clamp(min=1e-12)).float()


def token_hits(logits: torch.Tensor, tgt_out: torch.Tensor) -> tuple[int, int]:
    """Correct argmax predictions and the number of non-PAD target tokens."""
    valid = tgt_out != PAD  # (N, T)
    return int(((logits.argmax(dim=-1) == tgt_out) & valid).sum()), int(valid.sum())


def target_rows(tgt_out: torch.Tensor) -> list[list[int]]:
    """Each row's tokens before its EOS (or before PAD if there is none)."""
    return [strip_eos([t for t in row if t != PAD]) for row in tgt_out.tolist()]


def strip_eos(row: list[int]) -> list[int]:
    return row[: row.index(EOS)] if EOS in row else row


def identity(decoded: list[int], target: list[int]) -> float:
    longest = max(len(decoded), len(target))
    if longest == 0:
        return 1.0
    return sum(a == b for a, b in zip(decoded, target)) / longest


def decoded_scores(decoded: list[list[int]], targets: list[list[int]]) -> dict[str, list[float]]:
    """Per sequence: exact_match (1.0 or 0.0) and identity."""
    return {"exact_match": [float(d == t) for d, t in zip(decoded, targets)],
            "identity": [identity(d, t) for d, t in zip(decoded, targets)]}


class Seq2SeqTask(Task):
    kind = "seq2seq"

    def __init__(
        self,
        model: nn.Module,
        teacher_forcing: float = 1.0,
        beam_size: int = 1,
        decode_limit: int | None = 512,
        metrics: list[str] | None = None,
        l1: float = 0.0,
        optimizer: dict | None = None,
        scheduler: dict | None = None,
        model_spec: dict | None = None,
        input_spec: dict | None = None,
    ):
        super().__init__(model, l1, optimizer, scheduler)
        self.save_hyperparameters(ignore=["model"])
        self.teacher_forcing, self.beam_size, self.decode_limit = (teacher_forcing, beam_size,
                                                                   decode_limit)
        self.metric_names = metrics or list(METRICS)
        for name in self.metric_names:
            if name not in METRICS:
                raise BiodlError(f"task.metrics: unknown seq2seq metric '{name}'"
                                 f"{closest(name, METRICS, 'metrics')}")
        self.decoded = 0  # validation sequences decoded this epoch
        self.init_metrics()

    def make_metrics(self, prefix: str) -> nn.ModuleDict:
        return nn.ModuleDict({name: Ratio() for name in self.metric_names})

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor | None, tgt_in: torch.Tensor,
                teacher_forcing_ratio: float = 1.0) -> torch.Tensor:
        return self.model(src, src_lengths, tgt_in, teacher_forcing_ratio)  # (N, T, V)

    def loss(self, logits: torch.Tensor, tgt_out: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=PAD)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        logits = self(batch["src"], batch["src_lengths"], batch["tgt_in"], self.teacher_forcing)
        loss = self.loss(logits, batch["tgt_out"])
        size = len(batch["src"])
        self.log_train_loss(loss, size, batch_idx)
        if self.l1:
            loss = loss + self.l1 * self.l1_norm()
        return loss

    def on_validation_epoch_start(self) -> None:
        self.decoded = 0

    def _evaluate(self, batch: dict[str, torch.Tensor], split: str, metrics) -> None:
        logits = self(batch["src"], batch["src_lengths"], batch["tgt_in"])  # (N, T, V)
        tgt_out = batch["tgt_out"]
        hits, tokens = token_hits(logits, tgt_out)
        self.log(f"{split}/loss", self.loss(logits, tgt_out), prog_bar=True,
                 batch_size=max(tokens, 1), sync_dist=True)  # a mean over tokens
        if "token_acc" in metrics:
            metrics["token_acc"].update(hits, tokens)
            self.log(f"{split}/token_acc", metrics["token_acc"], batch_size=len(tgt_out))
        count = self._to_decode(split, len(tgt_out))
        if count and any(name in metrics for name in DECODED):
            self._score_decoded(batch, count, split, metrics)

    def _to_decode(self, split: str, size: int) -> int:
        if split != "val" or self.decode_limit is None:
            return size
        count = max(0, min(size, self.decode_limit - self.decoded))
        self.decoded += count
        return count

    def _score_decoded(self, batch: dict[str, torch.Tensor], count: int, split: str,
                       metrics) -> None:
        tgt_out = batch["tgt_out"][:count]
        decoded = self.decode(batch["src"][:count], batch["src_lengths"][:count],
                              max_len=2 * tgt_out.shape[1])
        scores = decoded_scores(decoded, target_rows(tgt_out))
        for name in DECODED:
            if name in metrics:
                metrics[name].update(sum(scores[name]), count)
                self.log(f"{split}/{name}", metrics[name], batch_size=count)

    def decode(self, src: torch.Tensor, src_lengths: torch.Tensor | None,
               max_len: int) -> list[list[int]]:
        """Decoded token ids per sequence, without BOS and EOS."""
        if self.beam_size > 1:
            rows = self.model.beam_search(src, src_lengths, beam_size=self.beam_size,
                                          max_len=max_len)
        else:
            rows = self.model.greedy_decode(src, src_lengths, max_len=max_len)
        return [strip_eos(row) for row in rows]

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> list[list[int]]:
        width = batch["tgt_out"].shape[1] if "tgt_out" in batch else batch["src"].shape[1]
        return self.decode(batch["src"], batch.get("src_lengths"), max_len=2 * width)


def build(cfg: TaskConfig, model: nn.Module, model_spec: dict, input_spec: dict,
          decode_limit: int | None = 512) -> Seq2SeqTask:
    require_cross_entropy(cfg, "seq2seq")
    if not 0.0 <= cfg.teacher_forcing <= 1.0 or cfg.beam_size < 1:
        raise BiodlError(f"task: teacher_forcing ({cfg.teacher_forcing}) must be in [0, 1] and "
                         f"beam_size ({cfg.beam_size}) at least 1")
    return Seq2SeqTask(model, teacher_forcing=cfg.teacher_forcing, beam_size=cfg.beam_size,
                       decode_limit=decode_limit, metrics=cfg.metrics, l1=cfg.l1,
                       optimizer=dataclasses.asdict(cfg.optimizer),
                       scheduler=dataclasses.asdict(cfg.scheduler), model_spec=model_spec,
                       input_spec=input_spec)
