"""The Typer app, and what every command shares: clean failures (a `BiodlError` becomes one
red line on stderr and exit code 2), the common arguments, and sources of trained models."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Callable, Optional

import typer

from biodl.errors import BiodlError

app = typer.Typer(help="Deep learning on DNA sequences and cell images, tracked in MLflow.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
config_app = typer.Typer(help="Show or check a pipeline's resolved config.", no_args_is_help=True)
app.add_typer(config_app, name="config")

PIPELINE = typer.Argument(..., help="A pipeline: YAML file, folder with pipeline.yaml, or a "
                                    "name under ./pipelines/.")
SET = typer.Option(None, "--set", "-s", metavar="KEY=VALUE",
                   help="Override a config value, e.g. --set trainer.max_epochs=5 (repeatable).")
SOURCE = typer.Argument(..., help="A .ckpt file, an MLflow run id (or a unique prefix), or "
                                  "models:/NAME/VERSION.")


def fails_cleanly(command: Callable) -> Callable:
    """Bad input (BiodlError, a file the OS refuses) -> one red line and exit 2; Ctrl-C -> 130;
    anything else -> one line and exit 1, with the traceback only when BIODL_DEBUG is set."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BrokenPipeError:  # output piped into `head`
            raise typer.Exit(0) from None
        except (BiodlError, OSError) as error:
            _fail(str(error) if isinstance(error, BiodlError) else _os_message(error), 2)
        except KeyboardInterrupt:
            typer.secho("interrupted", fg=typer.colors.YELLOW, err=True)
            raise typer.Exit(130) from None
        except Exception as error:
            if os.environ.get("BIODL_DEBUG"):
                raise
            _fail(f"{type(error).__name__}: {error} (set BIODL_DEBUG=1 for the traceback)", 1)
    return wrapper


def _fail(message: str, code: int) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _os_message(error: OSError) -> str:
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{error.strerror or error}; check the path and its permissions"


def checkpoint_of(source: str) -> Path:
    if Path(source).is_file():
        return Path(source)
    from biodl.tracking import fetch_checkpoint, resolve_run_id

    if not source.startswith("models:/"):
        source = resolve_run_id(source, other="a .ckpt file, models:/NAME/VERSION or ")
    return fetch_checkpoint(source)


SOURCES = typer.Argument(..., metavar="SOURCE...",
                         help="One model or several to average: .ckpt files, MLflow run ids "
                              "(a `biodl cv` run stands for its fold models) or "
                              "models:/NAME/VERSION.")


def checkpoints_of(sources: list[str]) -> list[Path]:
    """Each source's checkpoint; a run with an ensemble (a `biodl cv` parent) gives its
    members' checkpoints."""
    found: list[Path] = []
    for source in sources:
        if Path(source).is_file() or source.startswith("models:/"):
            found.append(checkpoint_of(source))
            continue
        from biodl.tracking import ensemble_members, resolve_run_id

        run_id = resolve_run_id(source, other="a .ckpt file, models:/NAME/VERSION or ")
        members = ensemble_members(run_id) or [run_id]
        found += [checkpoint_of(member) for member in members]
    return found


def print_metrics(metrics: dict[str, float]) -> None:
    """One line per metric; a metric undefined on the data (NaN) is said to be so."""
    import math

    for name, value in sorted(metrics.items()):
        typer.echo(f"  {name:<14} {value:.4f}")
    undefined = [name for name, value in sorted(metrics.items()) if math.isnan(value)]
    if undefined:
        typer.secho(f"warning: {', '.join(undefined)} undefined (NaN) on this split: a class or "
                    "label has no positive or no negative example there", fg=typer.colors.YELLOW,
                    err=True)


def run_id_of(text: Optional[str]) -> Optional[str]:
    """The full id for a run id or a unique prefix of one (>= 6 characters)."""
    if text is None:
        return None
    from biodl.tracking import resolve_run_id

    return resolve_run_id(text)
