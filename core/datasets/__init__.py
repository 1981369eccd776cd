"""Datasets: read GSM8K / MBPP / HumanEval / mapped jsonl-csv sources into the problems table."""

from core.datasets.formats import FORMATS, FieldMap, NewProblem, canonical_answer, entry_point_of
from core.datasets.importer import ImportOptions, ImportReport, import_dataset, write_problems

__all__ = [
    "FORMATS",
    "FieldMap",
    "ImportOptions",
    "ImportReport",
    "NewProblem",
    "canonical_answer",
    "entry_point_of",
    "import_dataset",
    "write_problems",
]
