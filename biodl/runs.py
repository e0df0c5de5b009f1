"""Names of runs, and the comparison table of `biodl runs`: the params that differ between runs
and the final metrics. No MLflow here: `tracking.py` makes the names unique in an experiment."""

from __future__ import annotations

import csv
import io
from collections import Counter

SKIP_METRICS = ("epoch",)
SKIP_PARAMS = ("tracking.run_name",)  # the name column shows it
NAME_VALUE_CHARS = 24  # longer override values are cut, so a name stays readable in the UI


def run_name(pipeline: str, overrides: list[str] | tuple[str, ...] = ()) -> str:
    """`gue_tf0 lr=3e-4 dropout=0.3` for `--set task.optimizer.lr=3e-4 --set model.dropout=0.3`:
    the pipeline, then each override as its last key part (the whole key when two overrides
    share it) and its value as typed; paths keep their file name. `tracking.*` is left out."""
    pairs = [(key.strip(), value.strip()) for key, _, value in
             (item.partition("=") for item in overrides)
             if not key.strip().startswith("tracking.")]
    lasts = Counter(key.rsplit(".", 1)[-1] for key, _ in pairs)
    words = [f"{_short_key(key, lasts)}={_short_value(value)}" for key, value in pairs]
    return " ".join([pipeline, *words])


def _short_key(key: str, lasts: Counter) -> str:
    last = key.rsplit(".", 1)[-1]
    return last if lasts[last] == 1 else key


def _short_value(value: str) -> str:
    if "/" in value and not value.startswith(("{", "[")):
        value = value.rstrip("/").rsplit("/", 1)[-1]  # a path: its file or folder name
    if len(value) > NAME_VALUE_CHARS:
        value = value[:NAME_VALUE_CHARS - 1] + "…"
    return value


def comparison(runs: list[dict], sort: str | None = None, metrics: list[str] | None = None
               ) -> tuple[list[str], list[list[str]]]:
    """Header and rows: run, name, status, each differing param, each (chosen) metric."""
    params = sorted({k for r in runs for k in r["params"] if k not in SKIP_PARAMS})
    differing = [k for k in params if len({r["params"].get(k) for r in runs}) > 1]
    names = metrics or shown_metrics(k for r in runs for k in r["metrics"])
    if sort:
        descending = not sort.endswith("loss")
        runs = sorted(runs, key=lambda r: _sort_key(r, sort, descending))
    header = ["run", "name", "status", *differing, *names]
    rows = [[r["run_id"], r["name"] or "", r["status"],  # the full id: every command takes it
             *[str(r["params"].get(k, "")) for k in differing],
             *[_number(r["metrics"].get(k)) for k in names]] for r in runs]
    return header, rows


def shown_metrics(names) -> list[str]:
    """The final val/ and test/ metrics (not per-step values, not the epoch), sorted."""
    return sorted({k for k in names if k not in SKIP_METRICS and not k.endswith("_step")
                   and k.startswith(("test/", "val/"))})


def as_csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def as_text(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def _sort_key(run: dict, metric: str, descending: bool) -> tuple:
    value = run["metrics"].get(metric)
    if value is None:
        return (1, 0.0)
    return (0, -value if descending else value)


def _number(value) -> str:
    return "" if value is None else f"{value:.4f}"
