"""Find a pipeline, compose its YAML files, apply `--set` overrides, bind to `Config`.

A YAML file may start with `defaults:`, a list of YAML files merged in order beneath its own
values, like Hydra's defaults list. An entry is relative to the file naming it, or, written
`biodl:configs/model/cnn1d.yaml`, one of biodl's shipped `configs/` parts wherever biodl is
installed (so a pipeline copied out of the repository still composes them). Sections merge
key by key; lists, scalars and value mappings (`data.classes`, `tracking.tags`) replace; a
section whose `name` changes is replaced whole (so switching `model.name` drops the old
model's arguments), and switching `data.format` drops the keys only the other formats have.
Each value remembers the folder of the file that set it, so relative paths work from any
working folder.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

import yaml

from biodl.config.binding import Origins, bind, closest
from biodl.config.data import TableData, check_table_files
from biodl.config.schema import DATA_FORMATS, Config, ModelConfig
from biodl.config.shipped import SHIPPED, shipped_config
from biodl.errors import BiodlError

PIPELINE_FILE = "pipeline.yaml"


def find_pipeline(source: str | Path, search: Path | None = None) -> Path:
    """A YAML path, a folder holding pipeline.yaml, or a name under ./pipelines/."""
    path = Path(source)
    candidates = [path, path / PIPELINE_FILE]
    if not path.is_absolute() and len(path.parts) == 1:
        root = search or Path.cwd() / "pipelines"
        candidates += [root / path / PIPELINE_FILE, root / f"{path}.yaml"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise BiodlError(f"pipeline '{source}' not found (looked for {tried}); "
                     "give a YAML file, a folder with pipeline.yaml, or a name under pipelines/")


def load_config(source: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """The resolved, validated config of a pipeline plus `key.sub=value` overrides."""
    path = find_pipeline(source)
    origins: Origins = {}
    tree = read_tree(path, origins, stack=())
    for item in overrides:
        key, value = parse_override(item)
        set_dotted(tree, key, value, origins, Path.cwd())
    return bind_config(tree, origins)


def config_from_yaml(text: str, overrides: list[str] | tuple[str, ...] = (),
                     where: str = "config") -> Config:
    """A config from resolved YAML text (as `biodl config show` prints and runs record)."""
    tree = yaml.safe_load(text) or {}
    if not isinstance(tree, dict):
        raise BiodlError(f"{where}: expected a mapping of sections")
    origins: Origins = {}
    for item in overrides:
        key, value = parse_override(item)
        set_dotted(tree, key, value, origins, Path.cwd())
    return bind_config(tree, origins)


def bind_config(tree: dict, origins: Origins | None = None) -> Config:
    tree = dict(tree)
    model = tree.pop("model", None) or {}
    if not isinstance(model, dict):
        raise BiodlError("model: expected a mapping with 'name' and the model's arguments")
    data = tree.pop("data", None) or {}
    if not isinstance(data, dict):
        raise BiodlError("data: expected a mapping with 'format' and the data's settings")
    cfg = bind(Config, tree, "", origins)
    fmt = data.get("format", "fasta")
    if fmt not in DATA_FORMATS:
        raise BiodlError(f"data.format: unknown format {fmt!r}{closest(str(fmt), DATA_FORMATS)}"
                         f" (formats: {', '.join(DATA_FORMATS)})")
    cfg.data = bind(DATA_FORMATS[fmt], _own_keys(data, fmt), "data", origins)
    if isinstance(cfg.data, TableData):
        check_table_files(cfg.data)  # before any data is read, and in `biodl config validate`
    model = dict(model)
    name = model.pop("name", ModelConfig.name)
    if not isinstance(name, str):
        raise BiodlError(f"model.name: expected a string, got {name!r}")
    cfg.model = ModelConfig(name=name, kwargs=model)
    return cfg


def read_tree(path: Path, origins: Origins, stack: tuple[Path, ...]) -> dict:
    """Load one YAML file with its `defaults`, recording where each value came from."""
    if path in stack:
        chain = " -> ".join(str(p) for p in (*stack, path))
        raise BiodlError(f"{path}: defaults include each other in a loop ({chain})")
    data = _read_yaml(path)
    tree: dict = {}
    for entry in _defaults(data.pop("defaults", []), path):
        entry_origins: Origins = {}
        merge(tree, read_tree(entry, entry_origins, (*stack, path)), origins)
        origins.update(entry_origins)
    own: Origins = {}
    _record(data, "", path.parent, own)
    merge(tree, data, origins)
    origins.update(own)
    return tree


def merge(base: dict, over: dict, origins: Origins, key: str = "") -> None:
    """Merge `over` into `base` in place, forgetting the origins of what it replaces."""
    for name, value in over.items():
        sub = f"{key}.{name}" if key else str(name)
        old = base.get(name)
        if (isinstance(old, dict) and isinstance(value, dict) and _same_name(old, value)
                and not _is_value_mapping(sub)):
            merge(old, value, origins, sub)
        else:
            base[name] = value
            _forget(origins, sub)


def parse_override(item: str) -> tuple[str, Any]:
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise BiodlError(f"--set '{item}': expected key.sub=value, e.g. --set trainer.max_epochs=5")
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as error:
        raise BiodlError(f"--set '{item}': value is not valid YAML ({error})") from None
    return key.strip(), value


def set_dotted(tree: dict, key: str, value: Any, origins: Origins, folder: Path) -> None:
    parts = key.split(".")
    node = tree
    for i, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise BiodlError(f"--set {key}: '{'.'.join(parts[:i + 1])}' is not a section")
        node = child
    node[parts[-1]] = value
    _forget(origins, key)
    _record({parts[-1]: value}, ".".join(parts[:-1]), folder, origins)


def to_dict(cfg: Config) -> dict:
    """Plain values (paths as strings), `model` flattened back to name + arguments."""
    out = _plain(dataclasses.asdict(cfg))
    model = out.pop("model")
    out["model"] = {"name": model["name"], **model["kwargs"]}
    order = ["name", "seed", "data", "model", "task", "trainer", "callbacks", "finetune",
             "tracking"]
    return {k: out[k] for k in order}


def dump_yaml(cfg: Config) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False, default_flow_style=False, width=100)


def flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}} -> {'a.b': 1}; the form MLflow params take."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text()
    except OSError as error:
        raise BiodlError(f"{path}: cannot read ({error.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise BiodlError(f"{path}{line}: not valid YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BiodlError(f"{path}: expected a mapping of sections (data, model, task, ...)")
    return data


def _defaults(entries: Any, path: Path) -> list[Path]:
    if isinstance(entries, str):
        entries = [entries]
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise BiodlError(f"{path}: 'defaults' must be a list of YAML files")
    found = []
    for entry in entries:
        if entry.startswith(SHIPPED):
            found.append(shipped_config(entry, path))
            continue
        target = (path.parent / entry).resolve()
        if not target.is_file():
            raise BiodlError(f"{path}: defaults entry '{entry}' not found (looked at {target})")
        found.append(target)
    return found


def _record(data: Any, key: str, folder: Path, origins: Origins) -> None:
    if isinstance(data, dict):
        for name, value in data.items():
            _record(value, f"{key}.{name}" if key else str(name), folder, origins)
    elif key:
        origins[key] = folder


def _forget(origins: Origins, key: str) -> None:
    for k in [k for k in origins if k == key or k.startswith(f"{key}.")]:
        del origins[k]


def _own_keys(data: dict, fmt: str) -> dict:
    """Drop keys that belong only to other data formats (left by a composed file of another
    format), in nested sections too (`augment` differs between sequences and images); keys
    that no format knows stay, so a typo is still reported."""
    return _drop_foreign(data, DATA_FORMATS[fmt], [c for c in DATA_FORMATS.values()])


def _drop_foreign(data: dict, own: type, others: list[type]) -> dict:
    own_hints = typing.get_type_hints(own)
    other_hints = [typing.get_type_hints(c) for c in others if c is not own]
    kept = {}
    for key, value in data.items():
        if key not in own_hints:
            if any(key in hints for hints in other_hints):
                continue  # another format's key
        elif isinstance(value, dict) and dataclasses.is_dataclass(own_hints[key]):
            nested = [h[key] for h in other_hints
                      if key in h and dataclasses.is_dataclass(h[key])]
            value = _drop_foreign(value, own_hints[key], nested)
        kept[key] = value
    return kept


def _is_value_mapping(key: str) -> bool:
    """True for keys typed as a plain dict (data.classes, tracking.tags): replaced, not merged."""
    first, _, rest = key.partition(".")
    if first == "data":  # the field of that name in any data format
        return any(_origin_at(fmt, rest.split(".")) is dict for fmt in DATA_FORMATS.values())
    return _origin_at(Config, key.split(".")) is dict


def _origin_at(tp: Any, parts: list[str]) -> Any:
    for part in parts:
        if not dataclasses.is_dataclass(tp):
            return None
        tp = typing.get_type_hints(tp).get(part)
    return typing.get_origin(tp)


def _same_name(old: dict, new: dict) -> bool:
    return "name" not in new or old.get("name", new["name"]) == new["name"]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


__all__ = ["load_config", "find_pipeline", "bind_config",
           "to_dict", "dump_yaml", "flatten", "closest"]
