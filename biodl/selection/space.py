"""The search space of `biodl tune`: a YAML file of config keys, each a range or choices.

    task.optimizer.lr: {low: 1.0e-4, high: 1.0e-2, log: true}   # float, log scale
    model.dropout: {low: 0.0, high: 0.5}                       # float
    model.kernel_size: {low: 7, high: 21, step: 2}             # int (both bounds ints)
    model.channels: {choices: [[32, 64], [64, 128]]}           # any YAML values
    model: {choices: [{name: cnn1d}, {name: danq}]}            # a whole section

Any config key works, as in `--set`. Every bound and every choice is applied to the pipeline
and validated (key names with the closest suggested, types, model arguments) before any
training, with the space file's line in the error. No torch until a model is checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from biodl.config.binding import closest
from biodl.errors import BiodlError

SPEC_KEYS = ("low", "high", "log", "step", "choices")


@dataclass(frozen=True)
class Param:
    key: str
    line: int
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple[Any, ...] | None = None

    @property
    def integer(self) -> bool:
        return all(isinstance(v, int) and not isinstance(v, bool)
                   for v in (self.low, self.high) + ((self.step,) if self.step else ()))

    def probes(self) -> list[Any]:
        """The values validated before the search: both bounds, or every choice."""
        return list(self.choices) if self.choices is not None else [self.low, self.high]

    def suggest(self, trial) -> Any:
        """The trial's value (choices travel through Optuna as their JSON text)."""
        if self.choices is not None:
            return json.loads(trial.suggest_categorical(self.key, [json.dumps(c) for c in
                                                                    self.choices]))
        if self.integer:
            return trial.suggest_int(self.key, self.low, self.high, step=self.step or 1,
                                     log=self.log)
        return trial.suggest_float(self.key, float(self.low), float(self.high), log=self.log,
                                   step=self.step)


def read_space(path: Path) -> list[Param]:
    """The parameters of a space file, each checked for shape (not yet against the config)."""
    try:
        text = Path(path).read_text()
        root = yaml.compose(text)
    except OSError as error:
        raise BiodlError(f"{path}: cannot read the search space ({error.strerror}); give "
                         "--space FILE or put space.yaml beside the pipeline") from None
    except yaml.YAMLError as error:
        raise BiodlError(f"{path}: not valid YAML ({getattr(error, 'problem', error)})") from None
    if root is None or not isinstance(root, yaml.MappingNode) or not root.value:
        raise BiodlError(f"{path}: expected a mapping of config keys to ranges or choices, "
                         "e.g. `task.optimizer.lr: {low: 1.0e-4, high: 1.0e-2, log: true}`")
    data = yaml.safe_load(text)
    return [parse_param(f"{path} line {k.start_mark.line + 1}", k.value, data[k.value],
                        k.start_mark.line + 1) for k, _ in root.value]


def parse_param(where: str, key: str, spec: Any, line: int) -> Param:
    if not isinstance(spec, dict):
        raise BiodlError(f"{where}: {key}: expected {{low, high}} or {{choices: [...]}}, got "
                         f"{spec!r}")
    for name in spec:
        if name not in SPEC_KEYS:
            raise BiodlError(f"{where}: {key}.{name}: not a range or choice setting"
                             f"{closest(str(name), SPEC_KEYS, 'settings')}")
    if "choices" in spec:
        return _choices(where, key, spec, line)
    return _range(where, key, spec, line)


def _choices(where: str, key: str, spec: dict, line: int) -> Param:
    choices = spec["choices"]
    if set(spec) != {"choices"}:
        raise BiodlError(f"{where}: {key}: give choices or low/high, not both")
    if not isinstance(choices, list) or not choices:
        raise BiodlError(f"{where}: {key}.choices: expected a non-empty list, got {choices!r}")
    return Param(key, line, choices=tuple(choices))


def _range(where: str, key: str, spec: dict, line: int) -> Param:
    low, high = spec.get("low"), spec.get("high")
    numbers = [_number(where, f"{key}.{n}", spec.get(n)) for n in ("low", "high")]
    low, high = numbers
    if not low < high:
        raise BiodlError(f"{where}: {key}: the range [{low}, {high}] is empty; give low < high")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise BiodlError(f"{where}: {key}.log: expected true or false, got {log!r}")
    if log and low <= 0:
        raise BiodlError(f"{where}: {key}: a log range needs low > 0, got {low}")
    step = spec.get("step")
    if step is not None and (_number(where, f"{key}.step", step) <= 0 or log):
        raise BiodlError(f"{where}: {key}.step: must be above 0 and without log: true")
    return Param(key, line, low=low, high=high, log=log, step=step)


def _number(where: str, key: str, value: Any) -> float | int:
    if isinstance(value, str):  # YAML 1.1 reads 1e-3 as a string
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BiodlError(f"{where}: {key}: expected a number, got {value!r}")
    return value


def as_override(key: str, value: Any) -> str:
    """`--set` text for a value (JSON is YAML)."""
    return f"{key}={json.dumps(value)}"


def check_space(params: list[Param], pipeline: str, overrides: list[str], path: Path) -> None:
    """Apply every probe value to the pipeline and validate the config and model arguments."""
    from biodl.config import load_config
    from biodl.models import check_model_kwargs

    for param in params:
        for value in param.probes():
            try:
                cfg = load_config(pipeline, [*overrides, as_override(param.key, value)])
                check_model_kwargs(cfg.model.name, cfg.model.kwargs)
            except BiodlError as error:
                raise BiodlError(f"{path} line {param.line}: {param.key}={json.dumps(value)}: "
                                 f"{error}") from None
