"""Bind plain YAML values to typed dataclasses, with errors that name the key and the fix.

`bind(cls, data, key)` checks every key against the dataclass fields (suggesting the closest
valid name for a typo) and every value against the field's annotation. Supported annotations:
bool, int, float, str, Path, Any, Literal, Optional/Union, list, tuple, dict and nested
dataclasses. Paths are resolved against the folder of the YAML file that set them, which
the caller passes as `origins` (dotted key -> folder).
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union

from biodl.errors import BiodlError

Origins = dict[str, Path]


def closest(name: str, choices: typing.Iterable[str], noun: str = "keys") -> str:
    """"; did you mean 'x'?" for the closest choice, or a list of the valid ones."""
    choices = sorted(choices)
    match = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    if match:
        return f"; did you mean '{match[0]}'?"
    return f"; valid {noun}: {', '.join(choices)}"


def bind(cls: type, data: Any, key: str = "", origins: Origins | None = None) -> Any:
    """Build dataclass `cls` from a mapping, checking names and types recursively."""
    origins = origins or {}
    where = key or "config"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BiodlError(f"{where}: expected a mapping of keys, got {_show(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for name in data:
        if name not in fields:
            raise BiodlError(f"{_join(key, str(name))}: unknown key{closest(str(name), fields)}")
    values = {name: convert(hints[name], data[name], _join(key, name), origins) for name in data}
    return cls(**values)


def convert(tp: Any, value: Any, key: str, origins: Origins) -> Any:
    """Check `value` against annotation `tp` and convert it (str -> Path, int -> float, ...)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        return bind(tp, value, key, origins)
    if origin in (Union, types.UnionType):
        return _convert_union(args, value, key, origins)
    if origin is Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            raise BiodlError(f"{key}: {_show(value)} is not one of {choices}")
        return value
    if origin in (list, tuple):
        return _convert_sequence(tp, origin, args, value, key, origins)
    if origin is dict:
        if not isinstance(value, dict):
            raise BiodlError(f"{key}: expected a mapping, got {_show(value)}")
        return {k: convert(args[1], v, _join(key, str(k)), origins) for k, v in value.items()}
    return _convert_scalar(tp, value, key, origins)


def _convert_union(args: tuple, value: Any, key: str, origins: Origins) -> Any:
    if value is None and type(None) in args:
        return None
    errors = []
    for arg in args:
        if arg is type(None):
            continue
        try:
            return convert(arg, value, key, origins)
        except BiodlError as error:
            errors.append(str(error).split(": ", 1)[-1])
    raise BiodlError(f"{key}: {'; or '.join(errors)}")


def _convert_sequence(tp, origin, args, value, key, origins) -> Any:
    if not isinstance(value, (list, tuple)):
        raise BiodlError(f"{key}: expected a list, got {_show(value)}")
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(value) != len(args):
            raise BiodlError(f"{key}: expected a list of {len(args)} values, got {len(value)}")
        return tuple(convert(a, v, f"{key}[{i}]", origins) for i, (a, v) in enumerate(zip(args, value)))
    item = args[0] if args else Any
    items = [convert(item, v, f"{key}[{i}]", origins) for i, v in enumerate(value)]
    return tuple(items) if origin is tuple else items


def _convert_scalar(tp: Any, value: Any, key: str, origins: Origins) -> Any:
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads 1e-3 as a string
            try:
                return float(value)
            except ValueError:
                pass
    elif tp is str:
        if isinstance(value, str):
            return value
    elif tp is Path:
        if isinstance(value, str) and value:
            return _resolve(Path(value).expanduser(), key, origins)
    else:
        raise TypeError(f"{key}: unsupported annotation {tp!r}")
    raise BiodlError(f"{key}: expected {_type_name(tp)}, got {_show(value)}")


def _resolve(path: Path, key: str, origins: Origins) -> Path:
    """A relative path is relative to the YAML file that set it (or an enclosing key)."""
    if path.is_absolute():
        return path
    probe = key.split("[")[0]
    while probe:
        if probe in origins:
            return origins[probe] / path
        probe = probe.rpartition(".")[0]
    return Path.cwd() / path


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _type_name(tp: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
             Path: "a file path"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _show(value: Any) -> str:
    kind = "null" if value is None else type(value).__name__
    if isinstance(value, (dict, list)):
        return f"a {kind}"
    return f"{value!r} ({kind})"
