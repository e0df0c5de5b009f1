"""biodl's shipped config parts, named `biodl:configs/...` in a `defaults` list, so a pipeline
copied out of the repository still composes them. No torch."""

from __future__ import annotations

from pathlib import Path

from biodl.errors import BiodlError

SHIPPED = "biodl:"  # the prefix of a defaults entry naming one of biodl's shipped configs


def shipped_root() -> Path:
    """The folder holding biodl's `configs/`: the package itself when a wheel ships them as
    package data (biodl/configs), else the source tree above it (an editable install)."""
    import biodl

    package = Path(biodl.__file__).resolve().parent
    return package if (package / "configs").is_dir() else package.parent

def shipped_config(entry: str, where: Path | str = "defaults") -> Path:
    """`biodl:configs/model/cnn1d.yaml` -> that file of biodl's shipped configs."""
    name = entry[len(SHIPPED):].strip().lstrip("/")
    root = shipped_root()
    target = (root / name).resolve()
    inside = target.is_relative_to((root / "configs").resolve())
    if not inside or not target.is_file():
        shipped = sorted(p.relative_to(root).as_posix() for p in (root / "configs").rglob("*.yaml"))
        raise BiodlError(f"{where}: defaults entry '{entry}' is not one of biodl's shipped "
                         f"configs (looked at {target}); shipped: "
                         f"{', '.join(SHIPPED + s for s in shipped)}")
    return target
