"""`biodl motifs`: motifs a trained DNA model learned, named against JASPAR CORE, in its run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from biodl.cli.app import SOURCE, app, checkpoint_of, fails_cleanly
from biodl.cli.explain_outputs import log_run
from biodl.errors import BiodlError

METHODS = ("filters", "modisco", "both")
ATTRIBUTIONS = {"deeplift-shap": "deeplift_shap", "ism": "ism"}


# the command's options (module constants keep its signature readable)
INPUTS = typer.Argument(None, help="FASTA or CSV/TSV with a sequence column (default: a split "
                        "of the model's own pipeline, see --split).")
METHOD = typer.Option("both", help="filters (first-layer PWMs), modisco (TF-MoDISco on "
                      "attributions) or both.")
SPLIT = typer.Option("test", help="Without INPUTS: train, val or test.")
MAX_SEQUENCES = typer.Option(None, help="Use a seeded random subset of at most this many.")
THRESHOLD = typer.Option(0.5, help="Filters: a site is an activation above this fraction of "
                         "the filter's largest.")
TOP = typer.Option(None, help="Filters: instead of --threshold, the N strongest sites of each "
                   "filter.")
ATTRIBUTION = typer.Option("deeplift-shap", help="TF-MoDISco's contributions: deeplift-shap "
                           "or ism.")
TARGET = typer.Option(None, help="The class or output explained (default: the positive class, "
                      "or the first).")
REFERENCES = typer.Option(10, help="DeepLIFT/SHAP: dinucleotide-shuffled references per "
                          "sequence.")
MAX_SEQLETS = typer.Option(2000, help="TF-MoDISco: seqlets per metacluster.")
SEQLET_WINDOW = typer.Option(None, help="TF-MoDISco: seqlet core window in bp (default 21; 11 "
                             "under 150-bp sequences).")
TAX_GROUP = typer.Option(None, help="JASPAR CORE taxonomic group(s) to match (default all), "
                         "e.g. vertebrates (repeatable).")
RELEASE = typer.Option("JASPAR2026", help="JASPAR release (pyjaspar's).")
LOGOS = typer.Option(24, help="Logos of this many most informative motifs.")
LENGTH_POLICY = typer.Option("error", help="INPUTS of another length than the model's window: "
                             "error, crop, pad, crop_pad.")
SEED = typer.Option(0, help="Seed of the subset and the references.")
OUTPUT = typer.Option(None, "--output", "-o", help="Folder (default "
                      "./interpretation/motifs-N).")
FORCE = typer.Option(False, help="Write into a non-empty --output.")


@app.command()
@fails_cleanly
def motifs(source: str = SOURCE, inputs: Optional[Path] = INPUTS, method: str = METHOD,
           split: str = SPLIT, max_sequences: Optional[int] = MAX_SEQUENCES,
           threshold: float = THRESHOLD, top: Optional[int] = TOP,
           attribution: str = ATTRIBUTION, target: Optional[str] = TARGET,
           references: int = REFERENCES, max_seqlets: int = MAX_SEQLETS,
           seqlet_window: Optional[int] = SEQLET_WINDOW,
           tax_group: Optional[List[str]] = TAX_GROUP, release: str = RELEASE,
           logos: int = LOGOS, length_policy: str = LENGTH_POLICY, seed: int = SEED,
           output: Optional[Path] = OUTPUT, force: bool = FORCE) -> None:
    """Motifs a DNA model learned: first-layer filters as PWMs (the Basset/DeepBind method) and
    TF-MoDISco patterns of its attributions, matched against JASPAR CORE (Tomtom). Writes a
    MEME file, a TSV and logos; logs them in the run under interpretation/motifs-N."""
    from biodl.inference.model import load
    from biodl.interpret import jaspar, sequences

    _check_options(method, attribution, threshold, top, references, max_seqlets,
                   max_sequences, logos)
    task, spec, checkpoint = load(checkpoint_of(source))
    sequences.check_spec(spec, str(checkpoint))
    if method != "modisco":
        _check_first_conv(task.model, f"{checkpoint} ({spec.format} model)")
    database = jaspar.jaspar_core(tax_group or (), release)
    run_id, folder, destination = _destinations(source, output, force)
    seqs = sequences.subsample(
        sequences.from_file(inputs, spec, length_policy) if inputs is not None
        else sequences.from_split(checkpoint, spec, split), max_sequences, seed)
    typer.echo(f"reading motifs from {seqs.where}")
    found = _find(task, spec, seqs, method, threshold, top, ATTRIBUTIONS[attribution], target,
                  references, seed, max_seqlets, seqlet_window)
    table = _report(folder, found, database, spec, seqs, logos)
    _write_settings(folder, source=source, inputs=seqs.where, method=method,
                    threshold=threshold, top=top, attribution=attribution, target=target,
                    references=references, jaspar=release, max_seqlets=max_seqlets,
                    seqlet_window=seqlet_window, tax_groups=list(tax_group or []))
    _summary(table, folder)
    log_run(run_id, folder, destination)


def _check_options(method: str, attribution: str, threshold: float, top: Optional[int],
                   references: int, max_seqlets: int, max_sequences: Optional[int],
                   logos: int) -> None:
    """Every option checked before the model or the data is read."""
    if method not in METHODS:
        raise BiodlError(f"--method {method!r}: choose {', '.join(METHODS)}")
    if attribution not in ATTRIBUTIONS:
        raise BiodlError(f"--attribution {attribution!r}: choose {', '.join(ATTRIBUTIONS)}")
    if not 0.0 < threshold < 1.0:
        raise BiodlError(f"--threshold {threshold}: give a fraction of the largest activation "
                         "between 0 and 1 (the method's 0.5 is the default)")
    if min(top or 1, references, max_seqlets, max_sequences or 1) < 1 or logos < 0:
        raise BiodlError("--top, --references, --max-seqlets and --max-sequences must be at "
                         "least 1, --logos at least 0")


def _check_first_conv(model, where: str) -> None:
    from biodl.interpret.motifs import first_conv

    first_conv(model, where)


def _report(folder: Path, found: list, database, spec, seqs, logos: int):
    from biodl.interpret.motif_report import write_report

    classes = list(spec.output_names) if seqs.labels is not None else []
    return write_report(folder, found, database, classes, logos)


def _write_settings(folder: Path, **settings) -> None:
    (folder / "settings.json").write_text(json.dumps(settings, indent=2))


def _find(task, spec, seqs, method: str, threshold: float, top: Optional[int],
          attribution: str, target_name: Optional[str], references: int, seed: int,
          max_seqlets: int, window: Optional[int]) -> list:
    found = []
    if method in ("filters", "both"):
        from biodl.interpret.motifs import filter_motifs

        found += filter_motifs(task.model, seqs.x, seqs.labels, list(spec.output_names),
                               threshold, top)
    if method in ("modisco", "both"):
        from biodl.interpret import explain
        from biodl.interpret.attributions import check_method
        from biodl.interpret.modisco import modisco_motifs, negative_name

        target = explain.target_of(spec, target_name)
        model = explain.explained_model(task, spec, target)
        check_method(model, attribution)
        names = (target.name, negative_name(list(spec.output_names), target.name))
        found += modisco_motifs(model, seqs.x, attribution, target.index, names, references,
                                seed, max_seqlets=max_seqlets, window=window)
    return found


def _summary(table: list[list[str]], folder: Path, shown: int = 10) -> None:
    """The motifs with a JASPAR match at q < 0.05 or a consensus site, best q first."""
    from biodl.interpret.motif_report import HEADER

    col = {name: i for i, name in enumerate(HEADER)}
    named = [r for r in table if (r[col["q_value"]] and float(r[col["q_value"]]) < 0.05)
             or r[col["consensus_site"]]]
    named.sort(key=lambda r: float(r[col["q_value"]] or 1))
    typer.echo(f"{len(table)} motifs ({len(named)} named) written to {folder}/: motifs.tsv, "
               "motifs.meme, logos/")
    for r in named[:shown]:
        site = f"  ~ {r[col['consensus_site']]}" if r[col["consensus_site"]] else ""
        typer.echo(f"  {r[col['motif']]:<18} {r[col['sites']]:>6} sites  {r[col['consensus']]:<14}"
                   f" {r[col['jaspar_id']]} {r[col['jaspar_name']]} q={r[col['q_value']]}{site}")


def _destinations(source: str, output: Optional[Path],
                  force: bool) -> tuple[Optional[str], Path, Optional[str]]:
    """(run id or None, local folder, artefact folder in the run): a second call lands beside
    the first, in the run and here (the next free motifs-N), never over it."""
    from biodl.tracking.artifacts import free_folder, run_of_source

    run_id = run_of_source(source)
    destination = free_folder(run_id, "interpretation", "motifs") if run_id else None
    if output is not None:
        if output.exists() and any(output.iterdir()) and not force:
            raise BiodlError(f"{output}: already exists and is not empty; choose another "
                             "--output or pass --force")
        return run_id, output, destination
    number = int((destination or "motifs-1").rsplit("-", 1)[1])
    while (Path("interpretation") / f"motifs-{number}").exists():
        number += 1
    return run_id, Path("interpretation") / f"motifs-{number}", destination
