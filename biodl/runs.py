"""The comparison table of `biodl runs`: the params that differ between runs and final metrics."""

from __future__ import annotations

import csv
import io

SKIP_METRICS = ("epoch",)


def comparison(runs: list[dict], sort: str | None = None, metrics: list[str] | None = None
               ) -> tuple[list[str], list[list[str]]]:
    """Header and rows: run, name, status, each differing param, each (chosen) metric."""
    params = sorted({k for r in runs for k in r["params"]})
    differing = [k for k in params if len({r["params"].get(k) for r in runs}) > 1]
    names = metrics or sorted({k for r in runs for k in r["metrics"]
                               if k not in SKIP_METRICS and not k.endswith("_step")
                               and k.startswith(("test/", "val/"))})
    if sort:
        descending = not sort.endswith("loss")
        runs = sorted(runs, key=lambda r: _sort_key(r, sort, descending))
    header = ["run", "name", "status", *differing, *names]
    rows = [[r["run_id"][:8], r["name"] or "", r["status"],
             *[str(r["params"].get(k, "")) for k in differing],
             *[_number(r["metrics"].get(k)) for k in names]] for r in runs]
    return header, rows


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
