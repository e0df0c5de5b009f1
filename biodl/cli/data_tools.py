"""Commands that make data: shuffle."""

from __future__ import annotations

from pathlib import Path

import typer

from biodl.cli.app import app, fails_cleanly


@app.command()
@fails_cleanly
def shuffle(fasta: Path = typer.Argument(..., help="FASTA (plain or gzip) to shuffle."),
            output: Path = typer.Option(..., "--output", "-o", help="FASTA to write."),
            copies: int = typer.Option(1, "--copies", "-n", help="Shuffles per record."),
            seed: int = typer.Option(0, "--seed", help="Record i is shuffled with seed + i."),
            force: bool = typer.Option(False, "--force", help="Replace an existing --output.")
            ) -> None:
    """Dinucleotide-shuffled copies of every record (tangermeme's shuffle: dinucleotide counts,
    first and last base kept): a background with each sequence's own composition, so a model
    trained against it learns order (motifs and their positions), not composition."""
    from biodl.data.shuffle import shuffle_fasta

    written = shuffle_fasta(fasta, output, copies, seed, force)
    typer.echo(f"{written} shuffled records written to {output}")
