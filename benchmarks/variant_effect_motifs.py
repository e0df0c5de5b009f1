"""Biology check of `biodl variant-effect`: do SNVs in known motif sites move a trained Oct4 vs
MafK model far more than random SNVs?

    .venv/bin/python benchmarks/variant_effect_motifs.py RUN_ID_OR_CKPT --out /tmp/motifs

SOURCE is a fit of `pipelines/oct4_mafk` (janggu's Oct4 and MafK ChIP-seq peaks, 200 bp). The
held-out peaks (`sample_test.fa`: Oct4, `sample2_test.fa`: MafK, 100 each, none in the
training files) are written as a small genome, one chromosome per factor (`oct4`, `mafk`) of
its peaks end to end, so the window centred on a variant holds peak sequence on both sides
(never N). Motif sites are found by the consensus alone, not by the model: the Oct4 octamer
ATGCAAAT (either strand) in the Oct4 peaks and the MafK MARE TGCTGA(C/G)TCA (either strand)
in the MafK peaks. The VCF holds every SNV of every site position (3 per base) and as many
random SNVs (uniform positions outside the sites on both chromosomes, a random other base).
The effects come from the CLI (`biodl variant-effect SOURCE --vcf variants.vcf --genome
genome.fa -o effects.tsv`); the report gives quantiles of |diff| (probability of the oct4
class) and |logit diff| per group, and the Mann-Whitney U of motif vs random with its AUROC
(U / (n_motif * n_random): the chance a motif SNV moves the prediction more than a random one).
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "janggu_oct4_mafk"
MOTIFS = {"oct4": ("sample_test.fa", "ATGCAAAT|ATTTGCAT"),
          "mafk": ("sample2_test.fa", "TGCTGA[CG]TCA|TGA[CG]TCAGCA")}
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def read_fasta(path: Path) -> list[str]:
    seqs: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            seqs.append("")
        elif line.strip():
            seqs[-1] += line.strip().upper()
    return seqs


def write_inputs(folder: Path, seed: int = 0) -> dict[str, int]:
    """genome.fa and variants.vcf (sorted); the number of SNVs per group."""
    chroms, sites = {}, []
    for name, (file, motif) in MOTIFS.items():
        chroms[name] = "".join(read_fasta(DATA / file))
        for hit in re.finditer(f"(?=({motif}))", chroms[name]):
            sites += [(name, p) for p in range(hit.start(), hit.start() + len(hit.group(1)))]
    with open(folder / "genome.fa", "w") as out:
        for name, seq in chroms.items():
            out.write(f">{name}\n" + "\n".join(seq[i:i + 60] for i in range(0, len(seq), 60))
                      + "\n")
    motif = [(c, p, alt, "motif") for c, p in sorted(set(sites)) for alt in "ACGT"
             if alt != chroms[c][p]]
    rng, taken, random = np.random.default_rng(seed), set(sites), []
    while len(random) < len(motif):
        chrom = ("oct4", "mafk")[int(rng.integers(2))]
        pos = int(rng.integers(len(chroms[chrom])))
        if (chrom, pos) not in taken:
            taken.add((chrom, pos))
            alt = rng.choice([b for b in "ACGT" if b != chroms[chrom][pos]])
            random.append((chrom, pos, str(alt), "random"))
    with open(folder / "variants.vcf", "w") as out:
        out.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for chrom, pos, alt, group in sorted(motif + random):
            out.write(f"{chrom}\t{pos + 1}\t{group}_{chrom}\t{chroms[chrom][pos]}\t{alt}\t.\t.\t."
                      "\n")
    return {"motif": len(motif), "random": len(random), "sites": len(set(sites))}


def run_cli(source: str, folder: Path) -> str:
    from typer.testing import CliRunner

    from biodl.cli import app

    command = ["variant-effect", source, "--vcf", str(folder / "variants.vcf"), "--genome",
               str(folder / "genome.fa"), "-o", str(folder / "effects.tsv"), "--force"]
    result = CliRunner().invoke(app, command)
    if result.exit_code:
        raise SystemExit(result.output)
    return "biodl " + " ".join(command) + "\n" + result.output


def report(folder: Path, column: str) -> list[str]:
    """Quantile rows per group and the Mann-Whitney line for one score column."""
    from scipy.stats import mannwhitneyu

    with open(folder / "effects.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    groups: dict[str, list[float]] = {}
    for row in rows:
        group, chrom = row["id"].split("_")
        for key in (group, f"{group} ({chrom} peaks)"):
            groups.setdefault(key, []).append(abs(float(row[column])))
    lines = [f"| {column} | n | mean | " + " | ".join(f"q{q:g}" for q in QUANTILES) + " |",
             "|---|---|---|" + "---|" * len(QUANTILES)]
    for key in sorted(groups):
        v = np.array(groups[key])
        lines.append(f"| {key} | {len(v)} | {v.mean():.4f} | " + " | ".join(
            f"{np.quantile(v, q):.4f}" for q in QUANTILES) + " |")
    for peaks in ("", " (oct4 peaks)", " (mafk peaks)"):
        motif, random = groups[f"motif{peaks}"], groups[f"random{peaks}"]
        u, p = mannwhitneyu(motif, random, alternative="greater")
        lines.append(f"Mann-Whitney U, motif{peaks or ' (all)'} > random{peaks}: U = {u:,.0f}, "
                     f"p = {p:.2e}, AUROC = {u / (len(motif) * len(random)):.3f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="run id or .ckpt of a pipelines/oct4_mafk fit")
    parser.add_argument("--out", type=Path, default=Path("variant_motifs"))
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    counts = write_inputs(args.out)
    print(f"{counts['sites']} motif positions -> {counts['motif']} motif SNVs, "
          f"{counts['random']} random SNVs")
    print(run_cli(args.source, args.out))
    for column in ("diff_oct4", "logit_diff_oct4"):
        print("\n".join(report(args.out, column)) + "\n")


if __name__ == "__main__":
    main()
