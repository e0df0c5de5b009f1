"""The registry of data formats: `data.format` -> its data module (see `biodl.data.base` for the
contract and how to add a format)."""

from __future__ import annotations

from biodl.config.binding import closest
from biodl.data.base import DataFormat
from biodl.data.coverage import CoverageDataModule
from biodl.data.datamodules import SequenceDataModule
from biodl.data.epidemic import EpidemicDataModule
from biodl.data.genome_windows import GenomeDataModule
from biodl.data.image_datamodule import ImageDataModule
from biodl.data.labelled_windows import GenbankTagsDataModule, LanguageDataModule
from biodl.data.pairs import PairsDataModule
from biodl.errors import BiodlError

FORMATS: dict[str, type[DataFormat]] = {
    "fasta": SequenceDataModule,
    "table": SequenceDataModule,
    "fasta_labels": SequenceDataModule,
    "genome": GenomeDataModule,
    "images": ImageDataModule,
    "genbank_tags": GenbankTagsDataModule,
    "pairs": PairsDataModule,
    "lm": LanguageDataModule,
    "sir": EpidemicDataModule,
    "coverage": CoverageDataModule,
}


def build_datamodule(cfg) -> DataFormat:
    """The data module of a data config, by its `format`."""
    if cfg.format not in FORMATS:
        raise BiodlError(f"data.format: unknown format '{cfg.format}'"
                         f"{closest(cfg.format, FORMATS, 'formats')}")
    return FORMATS[cfg.format](cfg)
