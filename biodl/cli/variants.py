"""The variant-effect command: a VCF scored against a genome with a trained sequence model."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from biodl.cli.app import SOURCE, app, checkpoint_of, fails_cleanly
from biodl.errors import BiodlError

ARTIFACT_FOLDER = "variant_effects"


@app.command("variant-effect")
@fails_cleanly
def variant_effect(
        source: str = SOURCE,
        vcf: Path = typer.Option(..., "--vcf", help="VCF, plain, gzip or bgzip; only CHROM, "
                                                    "POS, ID, REF and ALT are read."),
        genome: Path = typer.Option(..., "--genome", help="Reference FASTA, plain (a .fai is "
                                                          "made if missing) or bgzip."),
        output: Path = typer.Option(Path("effects.tsv"), "--output", "-o",
                                    help="Tab-separated table, one row per ALT allele."),
        strands: str = typer.Option("auto", help="forward, both (score each window and its "
                                    "reverse complement) or auto (both when the model trained "
                                    "with reverse complement)."),
        strand_merge: str = typer.Option("mean", help="Both strands: mean (average the logits, "
                                         "as predict does) or max (per output, the strand with "
                                         "the larger |diff|)."),
        chrom_map: Optional[str] = typer.Option(
            None, "--chrom-map", help="Map VCF chromosome names to the genome's: add-chr "
                                      "('1' -> 'chr1'), strip-chr, or a two-column TSV."),
        strict: bool = typer.Option(False, help="Refuse a REF that differs from the genome "
                                    "(default: score it and flag it ref_match=no)."),
        batch_size: int = typer.Option(256, help="Alleles scored at a time."),
        log: bool = typer.Option(True, help="When SOURCE is a run id, log the table to that "
                                            f"run under {ARTIFACT_FOLDER}/."),
        force: bool = typer.Option(False, help="Overwrite an existing output file.")) -> None:
    """Score every ALT allele of a VCF: reference and alternative predictions of the window
    centred on it, their difference, |difference|, log2 fold change and log-odds change."""
    from biodl.data.genome_bgzip import open_genome
    from biodl.data.vcf import VcfStream, chrom_mapper
    from biodl.inference import output as out, variants
    from biodl.inference.model import load

    out.check_output(output, force)
    if not vcf.is_file():
        raise BiodlError(f"--vcf {vcf}: file not found; check the path")
    run_id = _run_of(source) if log else None
    task, spec, _ = load(checkpoint_of(source))
    setup = variants.plan(spec, strands, strand_merge)
    summary = variants.Summary()
    with open_genome(genome) as reference:
        lookup = chrom_mapper(set(reference.lengths), chrom_map, vcf)
        stream = variants.alleles(VcfStream(vcf), reference, lookup, setup.window, summary,
                                  strict)
        rows = variants.effects(task, spec, setup, stream, summary, batch_size, str(genome))
        out.write_table(output, variants.header(setup), rows, force, delimiter="\t")
    _report(summary, setup, output)
    if run_id:
        from biodl.tracking import attach_artifact

        typer.echo(f"logged to run {run_id} as {attach_artifact(run_id, output, ARTIFACT_FOLDER)}")


def _report(summary, setup, output: Path) -> None:
    merge = f", {setup.merge}" if setup.strands == "both" else ""
    typer.echo(f"effects of {summary.scored} alleles of {summary.records} records written to "
               f"{output} (window {setup.window}, strands {setup.strands}{merge}: "
               f"{setup.reason})")
    for line in summary.lines(setup.window)[1:]:
        typer.echo(f"  {line}")


def _run_of(source: str) -> Optional[str]:
    """The run id SOURCE names, or None for a checkpoint file or a registered model."""
    if Path(source).is_file() or source.startswith("models:/"):
        return None
    from biodl.tracking import resolve_run_id

    return resolve_run_id(source, other="a .ckpt file, models:/NAME/VERSION or ")
