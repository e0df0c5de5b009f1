"""Commands that apply a trained model: predict (tables and genome scans) and sample."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from biodl.cli.app import SOURCE, SOURCES, app, checkpoint_of, checkpoints_of, fails_cleanly
from biodl.errors import BiodlError


@app.command()
@fails_cleanly
def predict(sources: List[str] = SOURCES,
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
    """Apply trained models to new data: ids, class probabilities and labels (taggers: per
    base; seq2seq: proteins; LMs: NLL), or a genome track (--scan); several models averaged."""
    from biodl.data.spec import PREDICT_LENGTH_POLICIES
    from biodl.inference import batches, output as out, predict as scoring, sequences
    from biodl.inference.inputs import sequence_records
    from biodl.inference.ensemble import load_models

    if length_policy not in PREDICT_LENGTH_POLICIES:
        raise BiodlError(f"--length-policy: {length_policy!r} is not a length policy; choose "
                         f"{', '.join(PREDICT_LENGTH_POLICIES)}")
    checkpoints = checkpoints_of(sources)
    if scan or length_policy == "scan":
        return _scan(sources, len(checkpoints), inputs, output, stride, strands, output_name,
                     batch_size, force)
    if stride is not None or strands != "auto" or output_name is not None:
        raise BiodlError("--stride, --strands and --output-name are for a genome scan; add "
                         "--scan (or drop them)")
    out.check_output(output, force)
    task, spec, _ = load_models(checkpoints)
    if spec.target in sequences.TABLES:
        header, rows = sequences.table(task, spec, sequence_records(inputs), batch_size,
                                       length_policy)
    else:
        header, rows = scoring.table(task, spec, batches.file_batches(inputs, spec, batch_size,
                                                                       length_policy))
    count = out.write_table(output, header, rows, force,
                            "\t" if output.suffix.lower() in (".tsv", ".tab") else ",")
    typer.echo(f"{count} predictions written to {output}")


def _scan(sources: list[str], models: int, genome: Path, output: Path, stride: Optional[int],
          strands: str, output_name: Optional[str], batch_size: int, force: bool) -> None:
    from biodl.data.spec import Target
    from biodl.inference import output as out, scan, tracks
    from biodl.inference.model import load

    if models > 1:
        raise BiodlError(f"--scan takes one model, got {models}; scan with each")
    source = sources[0]
    tracks.track_format(output)
    out.check_output(output, force)
    task, spec, _ = load(checkpoint_of(source))
    plan = scan.plan(spec, genome, stride, strands)
    labels = scan.column_names(spec)
    columns = tracks.select_columns(output, scan.track_names(spec), labels, output_name)
    settings = (f"window {plan.window}, stride {plan.stride}, strands {plan.strands} "
                f"({plan.reason})")
    for warning in plan.warnings:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
    scored = scan.scored(task, spec, plan, batch_size)
    if spec.target is Target.COVERAGE:
        bins = tracks.write_coverage(output, scored, columns[0], plan.sizes, spec, force)
        typer.echo(f"{bins} bins of predicted {labels[columns[0]]} coverage ({settings}) "
                   f"written to {output}")
        return
    count = tracks.write_track(output, scored, columns, labels, plan.sizes, plan.window,
                               plan.stride, f"biodl scan of {source}: {settings}", force)
    typer.echo(f"{count} windows of {len(plan.sizes) - len(plan.skipped)} record(s) scored "
               f"({settings}); track written to {output}")
    _skipped(plan.skipped, plan.window)


def _skipped(skipped: list, window: int) -> None:
    if skipped:
        shown = ", ".join(f"'{name}' ({size} bp)" for name, size in skipped[:3])
        more = ", ..." if len(skipped) > 3 else ""
        typer.secho(f"skipped {len(skipped)} record(s) shorter than the {window}-bp "
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
    sequences = draw(load_language_model(checkpoint_of(source)), num, length, temperature,
                     prompt, seed)
    description = f"temperature={temperature:g} seed={seed} length={length}"
    write_fasta(output, sequences, description + (f" prompt={prompt.upper()}" if prompt else ""),
                force)
    typer.echo(f"{num} sequences of {length} bases written to {output}")
