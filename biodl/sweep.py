"""Grids of overrides for `make sweep`: "lr=1e-3,3e-4 dropout=0.1,0.3" -> 4 runs. No torch.

Each word is `key=v1,v2,...`; commas inside brackets belong to a value (`channels=[64,64],[128]`).
`python -m biodl.sweep "GRID"` prints one line of `--set` arguments per combination.
"""

from __future__ import annotations

import itertools
import json
import shlex
import sys

from biodl.errors import BiodlError


def split_values(text: str) -> list[str]:
    values, depth, current = [], 0, ""
    for char in text:
        depth += {"[": 1, "{": 1, "]": -1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            values.append(current)
            current = ""
        else:
            current += char
    return [*values, current]


def grid(text: str) -> list[list[tuple[str, str]]]:
    """Every combination of the grid's values, as (key, value) pairs in the grid's order."""
    axes = []
    for word in shlex.split(text):
        key, sep, values = word.partition("=")
        if not sep or not key or not values:
            raise BiodlError(f"GRID word '{word}': expected key=v1,v2 (e.g. "
                             "task.optimizer.lr=1e-3,3e-4)")
        axes.append([(key, value) for value in split_values(values)])
    if not axes:
        raise BiodlError('GRID is empty; e.g. make sweep GRID="task.optimizer.lr=1e-3,3e-4"')
    return [list(combination) for combination in itertools.product(*axes)]


def plan_lines(text: str) -> list[str]:
    """One shell-quoted line of --set arguments per run, naming the run after its values."""
    lines = []
    for combination in grid(text):
        name = " ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in combination)
        args = [part for k, v in combination for part in ("--set", f"{k}={v}")]
        args += ["--set", f"tracking.run_name={json.dumps(name)}"]  # a YAML string
        lines.append(shlex.join(args))
    return lines


def main() -> None:
    try:
        print("\n".join(plan_lines(" ".join(sys.argv[1:]))))
    except BiodlError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
