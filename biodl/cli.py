"""The `biodl` command: a thin Typer shell over biodl's Python API.

Heavy imports (torch, Lightning, MLflow) happen inside the commands so `biodl --help` is fast.
A `BiodlError` (bad config or data) becomes one red line on stderr and exit code 2.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Callable, List, Optional

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


@app.command()
@fails_cleanly
def init(out: Path = typer.Argument(..., metavar="OUT_FOLDER",
                                    help="Folder to write pipeline.yaml into (made if missing)."),
         fasta: Optional[List[str]] = typer.Option(
             None, "--fasta", metavar="CLASS=FILE",
             help="One FASTA per class, two or more; the second listed is the positive class."),
         table: Optional[Path] = typer.Option(
             None, "--table", help="A CSV/TSV with a sequence column and a label column."),
         images: Optional[Path] = typer.Option(
             None, "--images", help="A folder holding one sub-folder of images per class."),
         sequence_column: Optional[str] = typer.Option(
             None, help="--table: the sequence column (default: found from the rows)."),
         label_column: Optional[str] = typer.Option(
             None, help="--table: the label column (default: found from the names)."),
         delimiter: str = typer.Option("auto", help="--table: auto (from the suffix), ',', "
                                                    "';' or tab."),
         force: bool = typer.Option(False, help="Replace an existing pipeline.yaml.")) -> None:
    """Write a commented pipeline.yaml for your own data, then say the next commands."""
    from biodl.init import plan_fasta, plan_images, plan_table, target_file, write_pipeline

    given = [name for name, value in (("--fasta", fasta), ("--table", table),
                                      ("--images", images)) if value]
    if len(given) != 1:
        got = f" (got {' and '.join(given)})" if given else ""
        raise BiodlError("give one input: --fasta CLASS=FILE (two or more), --table FILE, or "
                         f"--images FOLDER{got}")
    if not table and (sequence_column or label_column or delimiter != "auto"):
        raise BiodlError("--sequence-column, --label-column and --delimiter go with --table")
    target_file(out, force)  # refuse before reading any data
    plan = (plan_fasta(fasta, out) if fasta else
            plan_table(table, out, sequence_column, label_column, delimiter) if table else
            plan_images(images, out))
    typer.echo(f"wrote {write_pipeline(out, plan, force)}")
    for note in plan.notes:
        typer.echo(f"  {note}")
    command = _own_command()
    typer.echo("next:")
    typer.echo(f"  {command} check-data {out}   # read and check the data, no training")
    typer.echo(f"  {command} fit {out}          # train, test the best checkpoint, record it")


def _own_command() -> str:
    """`biodl`, or the path it was run by when `biodl` is not on PATH (.venv/bin/biodl)."""
    import shutil

    program = Path(sys.argv[0])
    if shutil.which("biodl") or program.name != "biodl":
        return "biodl"
    return str(program)


@app.command()
@fails_cleanly
def fit(pipeline: Optional[str] = typer.Argument(
            None, help="A pipeline: YAML file, folder with pipeline.yaml, or a name under "
                       "./pipelines/ (not needed with --resume or --from-run)."),
        overrides: Optional[List[str]] = SET,
        resume: Optional[str] = typer.Option(
            None, "--resume", metavar="RUN_ID",
            help="Continue this run from its last checkpoint, into the same MLflow run."),
        from_run: Optional[str] = typer.Option(
            None, "--from-run", metavar="RUN_ID",
            help="Replay this run's recorded config as a new run (with any --set)."),
        register: Optional[str] = typer.Option(
            None, "--register", metavar="NAME",
            help="Register the best checkpoint in MLflow's model registry under NAME."),
        init_from: Optional[Path] = typer.Option(
            None, "--init-from", metavar="FILE",
            help="Start from these weights (a biodl checkpoint or a state_dict, e.g. "
                 "torchvision's), with a new head."),
        freeze_backbone: bool = typer.Option(
            False, "--freeze-backbone", help="Train only the output layers.")) -> None:
    """Train a pipeline, test its best checkpoint, record everything in MLflow."""
    overrides = list(overrides or [])
    if init_from:
        overrides.append(f"finetune.init_from={init_from.resolve()}")
    if freeze_backbone:
        overrides.append("finetune.freeze_backbone=true")
    resume, from_run = _run_id(resume), _run_id(from_run)
    cfg = _fit_config(pipeline, overrides, resume or from_run)
    _writable_for(cfg)
    from biodl.train import fit as run_fit  # after the config is known to be valid

    result = run_fit(cfg, echo=typer.echo, resume=resume, register=register)
    if result.run_id is None:  # a DDP worker process: rank 0 reports
        return
    typer.echo("test metrics (best checkpoint):")
    _print_metrics(result.test_metrics)
    typer.echo(f"best checkpoint: {result.best_checkpoint}")
    typer.echo(f"mlflow run id: {result.run_id}   ({result.seconds:.0f} s; see it with `biodl ui`)")


def _fit_config(pipeline: Optional[str], overrides: list[str], run_id: Optional[str]):
    from biodl.config import config_from_yaml, load_config

    if run_id and pipeline:
        raise BiodlError("give a pipeline or --resume/--from-run RUN_ID, not both")
    if run_id:
        from biodl.tracking import run_config

        cfg = config_from_yaml(run_config(run_id), overrides, f"run {run_id} config.yaml")
    elif not pipeline:
        raise BiodlError("give a pipeline to fit, e.g. `biodl fit pipelines/ecoli_promoters`")
    else:
        cfg = load_config(pipeline, overrides)
    if run_id or not cfg.tracking.run_name:  # a name set in the config or by --set wins
        from biodl.runs import run_name  # a replay adds its overrides to the recorded name

        cfg.tracking.run_name = run_name(cfg.tracking.run_name or cfg.name, overrides)
    return cfg


def _run_id(text: Optional[str]) -> Optional[str]:
    """The full id for a run id or a unique prefix of one (>= 6 characters)."""
    if text is None:
        return None
    from biodl.tracking import resolve_run_id

    return resolve_run_id(text)


def _writable_for(cfg) -> None:
    from biodl.tracking import check_writable, tracking_uri

    check_writable(tracking_uri(cfg.tracking.uri), Path(cfg.callbacks.checkpoint.dir))


SOURCE = typer.Argument(..., help="A .ckpt file, an MLflow run id, or models:/NAME/VERSION.")


@app.command()
@fails_cleanly
def test(source: str = SOURCE, overrides: Optional[List[str]] = SET) -> None:
    """Metrics of a trained model on its pipeline's test split (or other data via --set)."""
    _evaluate(source, overrides or [], "test")


@app.command()
@fails_cleanly
def validate(source: str = SOURCE, overrides: Optional[List[str]] = SET) -> None:
    """Metrics of a trained model on its pipeline's validation split."""
    _evaluate(source, overrides or [], "val")


def _evaluate(source: str, overrides: list[str], split: str) -> None:
    import torch

    from biodl.config import config_from_yaml
    from biodl.train import evaluate

    checkpoint = _checkpoint(source)
    recorded = torch.load(checkpoint, map_location="cpu", weights_only=True).get("biodl_config")
    if recorded is None:
        raise BiodlError(f"{checkpoint}: holds no biodl config (written before biodl 0.1?); "
                         "give the run id instead")
    metrics = evaluate(config_from_yaml(recorded, overrides, f"{checkpoint} config"),
                       checkpoint, split)
    _print_metrics(metrics)


def _print_metrics(metrics: dict[str, float]) -> None:
    """One line per metric; a metric undefined on the data (NaN) is said to be so."""
    import math

    for name, value in sorted(metrics.items()):
        typer.echo(f"  {name:<14} {value:.4f}")
    undefined = [name for name, value in sorted(metrics.items()) if math.isnan(value)]
    if undefined:
        typer.secho(f"warning: {', '.join(undefined)} undefined (NaN) on this split: a class or "
                    "label has no positive or no negative example there", fg=typer.colors.YELLOW,
                    err=True)


def _checkpoint(source: str) -> Path:
    if Path(source).is_file():
        return Path(source)
    from biodl.tracking import fetch_checkpoint, resolve_run_id

    if not source.startswith("models:/"):
        source = resolve_run_id(source, other="a .ckpt file, models:/NAME/VERSION or ")
    return fetch_checkpoint(source)


@app.command()
@fails_cleanly
def predict(source: str = SOURCE,
            inputs: Path = typer.Argument(..., help="FASTA, CSV/TSV with a sequence column, "
                                                    "an image folder or an image manifest."),
            output: Path = typer.Option(Path("predictions.csv"), "--output", "-o",
                                        help="CSV/TSV; with --scan: .bedgraph, .bw or .tsv."),
            length_policy: str = typer.Option(
                "error", "--length-policy",
                help="Records of another length than the model's window: error (refuse), "
                     "crop, pad, crop_pad, or scan (slide the window; same as --scan)."),
            scan: bool = typer.Option(False, "--scan", help="Slide the model along every "
                                      "record (a genome) and write a track."),
            stride: Optional[int] = typer.Option(None, help="Scan step in bases (default: "
                                                 "half the window)."),
            strands: str = typer.Option("auto", help="Scan: forward, both (average each window "
                                        "and its reverse complement) or auto (both when the "
                                        "model trained with reverse complement)."),
            output_name: Optional[str] = typer.Option(
                None, help="Scan: the class or output a .bedgraph/.bw track holds (needed for "
                           "models with several; .tsv gets all)."),
            batch_size: int = typer.Option(512, help="Inputs (taggers and language models: "
                                                     "windows) encoded and scored at a time."),
            force: bool = typer.Option(False, help="Overwrite an existing output file.")) -> None:
    """Apply a trained model to new data: a table of ids, class probabilities and labels
    (taggers: one row per base; seq2seq: the protein; language models: NLL and perplexity
    per window), or with --scan a genome track."""
    from biodl.data.spec import PREDICT_LENGTH_POLICIES
    from biodl.inference import batches, output as out, predict as scoring, sequences
    from biodl.inference.inputs import sequence_records
    from biodl.inference.model import load

    if length_policy not in PREDICT_LENGTH_POLICIES:
        raise BiodlError(f"--length-policy: {length_policy!r} is not a length policy; choose "
                         f"{', '.join(PREDICT_LENGTH_POLICIES)}")
    if scan or length_policy == "scan":
        return _scan(source, inputs, output, stride, strands, output_name, batch_size, force)
    if stride is not None or strands != "auto" or output_name is not None:
        raise BiodlError("--stride, --strands and --output-name are for a genome scan; add "
                         "--scan (or drop them)")
    out.check_output(output, force)
    task, spec, _ = load(_checkpoint(source))
    if spec.target in sequences.TABLES:
        header, rows = sequences.table(task, spec, sequence_records(inputs), batch_size,
                                       length_policy)
    else:
        header, rows = scoring.table(task, spec, batches.file_batches(inputs, spec, batch_size,
                                                                       length_policy))
    delimiter = "\t" if output.suffix.lower() in (".tsv", ".tab") else ","
    count = out.write_table(output, header, rows, force, delimiter)
    typer.echo(f"{count} predictions written to {output}")


def _scan(source: str, genome: Path, output: Path, stride: Optional[int], strands: str,
          output_name: Optional[str], batch_size: int, force: bool) -> None:
    from biodl.inference import output as out, scan, tracks
    from biodl.inference.model import load

    tracks.track_format(output)
    out.check_output(output, force)
    task, spec, _ = load(_checkpoint(source))
    plan = scan.plan(spec, genome, stride, strands)
    labels = scan.column_names(spec)
    columns = tracks.select_columns(output, scan.track_names(spec), labels, output_name)
    settings = (f"window {plan.window}, stride {plan.stride}, strands {plan.strands} "
                f"({plan.reason})")
    for warning in plan.warnings:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
    count = tracks.write_track(output, scan.scored(task, spec, plan, batch_size), columns,
                               labels, plan.sizes, plan.window, plan.stride,
                               f"biodl scan of {source}: {settings}", force)
    typer.echo(f"{count} windows of {len(plan.sizes) - len(plan.skipped)} record(s) scored "
               f"({settings}); track written to {output}")
    if plan.skipped:
        shown = ", ".join(f"'{name}' ({size} bp)" for name, size in plan.skipped[:3])
        more = ", ..." if len(plan.skipped) > 3 else ""
        typer.secho(f"skipped {len(plan.skipped)} record(s) shorter than the {plan.window}-bp "
                    f"window: {shown}{more}", fg=typer.colors.YELLOW, err=True)


@app.command()
@fails_cleanly
def sample(source: str = SOURCE,
           num: int = typer.Option(10, "--num", "-n", help="Sequences to draw."),
           length: int = typer.Option(500, help="Bases per sequence, the prompt included."),
           temperature: float = typer.Option(1.0, help="Below 1 sharper, above 1 flatter."),
           prompt: str = typer.Option("", help="Bases (ACGT) that begin every sequence; "
                                               "without one the first base is uniform."),
           seed: int = typer.Option(0, help="Same seed, same sequences."),
           output: Path = typer.Option(Path("samples.fa"), "--output", "-o"),
           force: bool = typer.Option(False, help="Overwrite an existing output file.")) -> None:
    """Draw DNA from a trained language model (an lm pipeline run) into a FASTA file."""
    from biodl.inference.sample import (check_options, load_language_model, refuse_existing,
                                        sample as draw, write_fasta)

    check_options(num, length, temperature, prompt)
    refuse_existing(output, force)
    sequences = draw(load_language_model(_checkpoint(source)), num, length, temperature,
                     prompt, seed)
    description = f"temperature={temperature:g} seed={seed} length={length}"
    write_fasta(output, sequences, description + (f" prompt={prompt.upper()}" if prompt else ""),
                force)
    typer.echo(f"{num} sequences of {length} bases written to {output}")


@app.command()
@fails_cleanly
def runs(experiment: str = typer.Argument(..., help="An MLflow experiment, or a pipeline (its "
                                                    "tracking.experiment)."),
         sort: Optional[str] = typer.Option(None, help="Sort by this metric, e.g. test/auroc "
                                                       "(losses ascending, others descending)."),
         metric: Optional[List[str]] = typer.Option(None, "--metric", "-m",
                                                    help="Show only these metrics."),
         as_csv: bool = typer.Option(False, "--csv", help="Print CSV.")) -> None:
    """Compare the runs of an experiment: the params that differ and the final metrics."""
    from biodl.runs import as_csv as to_csv
    from biodl.runs import as_text, comparison
    from biodl.tracking import list_runs

    header, rows = comparison(list_runs(_experiment_of(experiment)), sort, metric or None)
    typer.echo(to_csv(header, rows) if as_csv else as_text(header, rows), nl=not as_csv)


def _experiment_of(name: str) -> str:
    """A pipeline's experiment when `name` is a pipeline, else `name` itself."""
    from biodl.config import find_pipeline, load_config

    try:
        find_pipeline(name)
    except BiodlError:
        return name
    return load_config(name).tracking.experiment


@config_app.command("show")
@fails_cleanly
def config_show(pipeline: str = PIPELINE, overrides: Optional[List[str]] = SET) -> None:
    """Print the resolved config (defaults, composed files and overrides applied) as YAML."""
    from biodl.config import dump_yaml, load_config

    typer.echo(dump_yaml(load_config(pipeline, overrides or [])), nl=False)


@config_app.command("validate")
@fails_cleanly
def config_validate(pipeline: str = PIPELINE, overrides: Optional[List[str]] = SET) -> None:
    """Check a config, the model's arguments included, without reading data or training."""
    from biodl.config import load_config
    from biodl.models import check_model_kwargs

    cfg = load_config(pipeline, overrides or [])
    check_model_kwargs(cfg.model.name, cfg.model.kwargs)
    typer.echo(f"{pipeline}: config is valid")


@app.command("check-data")
@fails_cleanly
def check_data(pipeline: str = PIPELINE, overrides: Optional[List[str]] = SET,
               as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Read and check a pipeline's data without training: counts, lengths, N content,
    duplicates across splits."""
    import warnings

    from biodl.config import load_config
    from biodl.data.formats import build_datamodule
    from biodl.data.report import format_report

    cfg = load_config(pipeline, overrides or [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the report states duplicates itself
        datamodule = build_datamodule(cfg.data)
        datamodule.setup("fit")
    report = datamodule.report()
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    for line in format_report(report):
        typer.echo(line)


@app.command()
@fails_cleanly
def models(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the registered models with their parameter counts at default settings."""
    from biodl.models import MODELS, build_model, count_parameters

    rows = [{"name": name, "params": count_parameters(build_model(name))} for name in MODELS]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        typer.echo(f"{row['name']:<16} {row['params']:>12,}")


@app.command()
def ui(port: int = typer.Option(5000, help="Port to serve on."),
       uri: Optional[str] = typer.Option(None, help="Tracking store (default: as `biodl fit`).")) -> None:
    """Serve the MLflow UI on biodl's tracking store."""
    from biodl.tracking import tracking_uri, ui_address

    store = tracking_uri(uri)
    typer.echo(f"MLflow UI for {store} at http://127.0.0.1:{port}")
    for line in ui_address(port, store):  # each experiment's runs, with their metric columns
        typer.echo(f"  {line}")
    mlflow = os.path.join(os.path.dirname(sys.executable), "mlflow")
    os.execv(mlflow, [mlflow, "ui", "--backend-store-uri", store, "--port", str(port)])


def main() -> None:
    app()


if __name__ == "__main__":
    main()
