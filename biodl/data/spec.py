"""The input spec: how a model's inputs are prepared, saved with the model. No torch.

A data format decides the spec when it reads its training data (`DataFormat.input_spec()`);
it travels in every checkpoint (hyperparameter `input_spec`, plain values) and in the MLflow
model, and training's setup, `predict`, `test`, the pyfunc model and every later inference
command prepare inputs from it through `biodl.data.prepare`. Two models whose specs are equal
take the same inputs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional

from biodl.errors import BiodlError

SPEC_VERSION = 1


class Target(str, Enum):
    """What a data format asks the model to predict; picks the task that trains it."""

    CLASS = "class"  # one class per input (binary or multiclass)
    MULTILABEL = "multilabel"  # K independent 0/1 labels per input
    REGRESSION = "regression"  # K real values per input
    TAGS = "tags"  # one class per base
    SEQ2SEQ = "seq2seq"  # a protein per DNA sequence
    LM = "lm"  # the next base at every position
    COVERAGE = "coverage"  # (T, bins) coverage of T tracks along the window's centre


class Kind(str, Enum):
    """What the model reads."""

    ONEHOT = "onehot"  # DNA as (N, 4, L) float32, ACGT
    TOKENS = "tokens"  # DNA as (N, L) int64 tokens (biodl.vocab.DNA_TOKENS)
    IMAGES = "images"  # (N, C, S, S) float32
    SERIES = "series"  # (N, C, L) float32 time series


LENGTH_POLICIES = ("error", "crop", "pad", "crop_pad")
PREDICT_LENGTH_POLICIES = (*LENGTH_POLICIES, "scan")


@dataclass(frozen=True)
class InputSpec:
    """Every value that decides how raw inputs become the tensors a model was trained on."""

    format: str  # the data.format trained on
    kind: Kind
    target: Target
    output_names: tuple[str, ...]  # class names (in label order) or output names
    # sequences: the window the model takes; None: any length (variable-length RNNs, per-base
    # taggers and language models, whose inputs are cut into `window`-base pieces instead)
    length: Optional[int] = None
    length_policy: str = "error"  # how training treated other lengths (LENGTH_POLICIES)
    variable_length: bool = False  # padded at the end, true lengths given to the model
    unknown: str = "zeros"  # N/IUPAC policy (biodl.data.encoding)
    lowercase: str = "upper"
    window: Optional[int] = None  # tags/lm: long records are cut into windows of this size
    stride: Optional[int] = None
    strands: str = "forward"  # "both": predictions average the sequence and its reverse complement
    trained_reverse_complement: bool = False  # training saw random strands (scan may average)
    channels: tuple[str, ...] = ()  # image channels or series names, in order
    size: Optional[int] = None  # images: size x size pixels
    resize: str = "resize"  # images: resize or center_crop
    mean: tuple[float, ...] = ()  # per-channel normalisation; empty: none
    std: tuple[float, ...] = ()
    transform: str = "linear"  # series: "log" is log10(percent + one person's percent)
    population: int = 0  # series: people per outbreak (the log transform's floor)
    # coverage: the central bases predicted, bases per bin and how bins were made (sum or
    # mean), and the track each output becomes on the reverse strand (+ and - swap)
    output_length: Optional[int] = None
    bin_size: int = 1
    bin_reduce: str = "sum"
    strand_swap: tuple[int, ...] = ()
    version: int = SPEC_VERSION

    @property
    def positive_class(self) -> Optional[str]:
        """The class whose probability a binary model outputs."""
        if self.target is Target.CLASS and len(self.output_names) == 2:
            return self.output_names[1]
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain values (str, int, float, bool, list), loadable under `weights_only`."""
        out = dataclasses.asdict(self)
        return {k: (v.value if isinstance(v, Enum) else list(v) if isinstance(v, tuple) else v)
                for k, v in out.items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "checkpoint") -> "InputSpec":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise BiodlError(f"{where}: input spec keys {unknown} are from a newer biodl; "
                             "upgrade biodl to read this model")
        converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        converted["kind"] = Kind(converted["kind"])
        converted["target"] = Target(converted["target"])
        return cls(**converted)

    def differences(self, other: "InputSpec") -> list[str]:
        """`key: a != b` for every value that differs (e.g. to refuse an ensemble)."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [f"{k}: {mine[k]!r} != {theirs[k]!r}" for k in mine if mine[k] != theirs[k]]


def spec_of_checkpoint(hparams: dict, where: str) -> InputSpec:
    """The input spec a biodl checkpoint carries, or an error that says to re-train."""
    values = hparams.get("input_spec")
    if not values:
        raise BiodlError(f"{where}: this checkpoint has no input spec (it was written before "
                         "biodl recorded how inputs are prepared); re-train it with this "
                         "version, e.g. `biodl fit --from-run RUN_ID` replays its run")
    return InputSpec.from_dict(values, where)
