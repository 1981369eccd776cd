"""Student training: the SFT set from gold, and the trainer subprocess that learns it.

Importing this package never imports torch: `launch` writes the set and the spec, then starts
`python -m core.train` (core/train/worker.py, where torch lives) as a detached process.
"""

from core.train.methods import METHODS, Method, RoundContext, preview_method, register
from core.train.options import TrainOptions, resolve_options, trainer_command
from core.train.runs import (
    cancel,
    find_run,
    launch,
    list_runs,
    reconcile,
    resume,
    run_checkpoints,
    run_events,
)
from core.train.sft import SftExample, SftPreview, SftSet, build_sft, preview_sft, write_sft

__all__ = [
    "METHODS",
    "Method",
    "RoundContext",
    "SftExample",
    "SftPreview",
    "SftSet",
    "TrainOptions",
    "build_sft",
    "cancel",
    "find_run",
    "launch",
    "list_runs",
    "preview_method",
    "preview_sft",
    "reconcile",
    "register",
    "resolve_options",
    "resume",
    "run_checkpoints",
    "run_events",
    "trainer_command",
    "write_sft",
]
