"""Found motifs -> the files `biodl motifs` writes: a MEME file, a TSV table and logos.

Each found motif is trimmed of uninformative edge columns, matched against JASPAR CORE
(Tomtom) and against short consensus sites that JASPAR lacks (bacterial sigma-70 boxes), and
given the distribution of its sites' 1-based start positions in the input window.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from biodl.interpret.jaspar import (ALPHABET, Match, Motif, consensus, information_content,
                                    match, trim, write_meme)

# consensus sites that are no JASPAR CORE matrix (it holds eukaryotic factors): name -> site
CONSENSUS_SITES = {"sigma70 -10 box": "TATAAT", "sigma70 -35 box": "TTGACA"}
MIN_CONSENSUS_SCORE = 0.75  # mean probability of the site's bases at the best alignment


@dataclass
class Found:
    """One motif found by a method, with where its sites lie and how often it fires."""
    motif: Motif  # trimmed
    kind: str  # "filter" or "modisco"
    positions: np.ndarray  # sites per 0-based start of the untrimmed motif in the window
    offset: int = 0  # columns trimmed off the left
    fired: dict[str, float] = field(default_factory=dict)  # class -> fraction of sequences
    label: str = ""  # the class it speaks for (modisco: its metacluster; filters: most fired)


def found_motif(name: str, counts: np.ndarray, kind: str, positions: np.ndarray,
                fired: dict[str, float] | None = None, min_bits: float = 0.25) -> Found:
    """A Found from aligned base counts (4, w): trimmed probabilities, sites = column total."""
    totals = counts.sum(axis=0)
    sites = int(totals.max()) if totals.size else 0
    probs = counts / np.where(totals > 0, totals, 1)[None, :]
    probs[:, totals == 0] = 0.25
    trimmed, offset = trim(probs, min_bits)
    fired = fired or {}
    label = max(fired, key=fired.get) if fired else ""
    return Found(Motif(name, trimmed, sites), kind, positions, offset, fired, label)


def consensus_match(probs: np.ndarray) -> tuple[str, float, int, str]:
    """(name, score, offset in the motif, strand) of the best consensus site; score is the
    mean probability of the site's bases where the whole site fits inside the motif."""
    best = ("", 0.0, 0, "+")
    for name, site in CONSENSUS_SITES.items():
        for strand, matrix in (("+", probs), ("-", probs[::-1, ::-1])):
            for start in range(matrix.shape[1] - len(site) + 1):
                score = float(np.mean([matrix[ALPHABET.index(b), start + i]
                                       for i, b in enumerate(site)]))
                if score > best[1]:
                    where = start if strand == "+" else probs.shape[1] - start - len(site)
                    best = (name, score, where, strand)
    return best


HEADER = ["motif", "kind", "class", "sites", "consensus", "information_bits", "jaspar_id", "jaspar_name",
          "jaspar_family", "p_value", "q_value", "strand", "consensus_site", "site_score",
          "site_position", "position"]


def rows(found: Sequence[Found], matches: Sequence[Match | None],
         classes: Sequence[str]) -> list[list[str]]:
    """One TSV row per motif (HEADER, then `fired_<class>` columns)."""
    out = []
    for item, hit in zip(found, matches):
        probs = item.motif.probs
        site, score, where, _ = consensus_match(probs)
        named = score >= MIN_CONSENSUS_SCORE
        jaspar_id, _, jaspar_name = hit.target.name.partition(" ") if hit else ("", "", "")
        out.append([item.motif.name, item.kind, item.label, str(item.motif.sites), consensus(probs),
                    f"{information_content(probs).sum():.2f}", jaspar_id, jaspar_name,
                    hit.target.family if hit else "",
                    f"{hit.p:.3g}" if hit else "", f"{hit.q:.3g}" if hit else "",
                    hit.strand if hit else "", site if named else "",
                    f"{score:.2f}" if named else "",
                    position_text(item.positions, item.offset + where) if named else "",
                    position_text(item.positions, item.offset),
                    *[f"{item.fired.get(c, float('nan')):.3f}" for c in classes]])
    return out


def position_text(histogram: np.ndarray, offset: int = 0) -> str:
    """'45 (43-47)': median and interquartile range of 1-based start positions, from a
    histogram of 0-based starts moved by `offset` columns."""
    total = int(histogram.sum())
    if total == 0:
        return ""
    cumulative = np.cumsum(histogram) / total
    q1, median, q3 = (int(np.searchsorted(cumulative, f)) + 1 + offset for f in (0.25, 0.5, 0.75))
    return f"{median} ({q1}-{q3})"


def write_report(folder: Path, found: Sequence[Found], database: Sequence[Motif],
                 classes: Sequence[str], logos: int) -> list[list[str]]:
    """motifs.meme, motifs.tsv and logos/<motif>.png (the `logos` most informative motifs
    with sites) in `folder`; returns the TSV rows."""
    folder.mkdir(parents=True, exist_ok=True)
    with_sites = [f for f in found if f.motif.sites > 0]
    matches = match([f.motif for f in with_sites], database) if database else []
    hits = dict(zip((id(f) for f in with_sites), matches))
    table = rows(found, [hits.get(id(f)) for f in found], classes)
    write_meme(folder / "motifs.meme", [f.motif for f in with_sites])
    with open(folder / "motifs.tsv", "w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(HEADER + [f"fired_{c}" for c in classes])
        writer.writerows(table)
    ranked = sorted(with_sites, key=lambda f: -information_content(f.motif.probs).sum())
    for item in ranked[:logos]:
        hit = hits.get(id(item))
        title = f"{item.motif.name} ({item.motif.sites} sites)" + (
            f" ~ {hit.target.name}, q={hit.q:.2g}" if hit else "")
        draw_logo(folder / "logos" / f"{item.motif.name}.png", item.motif.probs, title)
    return table


def draw_logo(path: Path, probs: np.ndarray, title: str) -> None:
    """An information-content sequence logo (bits) of a (4, w) motif."""
    import logomaker
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    bits = probs * information_content(probs)[None, :]
    frame = pd.DataFrame(bits.T, columns=list(ALPHABET))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure, axis = plt.subplots(figsize=(max(3.0, 0.45 * probs.shape[1]), 1.8))
    logomaker.Logo(frame, ax=axis, color_scheme="classic")
    axis.set_ylim(0, 2)
    axis.set_ylabel("bits")
    axis.set_title(title, fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
