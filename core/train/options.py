"""Training options: command-line/TUI overrides over the project's `[student]` section.

`resolve_options` merges and validates them exactly like ekt.toml (the same pydantic model), so a
bad `--lr` and a bad `lr =` read the same; the result is what the run's `config` column stores.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.config import ProjectConfig, StudentSection, _expected
from core.errors import TrainError


@dataclass
class TrainOptions:
    """Every field None means "take it from [student]" (gold policy/K fall back to [verifier])."""

    student: str | None = None
    epochs: float | None = None
    max_steps: int | None = None
    lr: float | None = None
    batch_size: int | None = None
    grad_accum: int | None = None
    max_length: int | None = None
    warmup: float | None = None
    weight_decay: float | None = None
    seed: int | None = None
    output: str | None = None
    report_to: str | None = None
    dev: int | None = None
    eval_every: int | None = None
    save_every: int | None = None
    gold_policy: str | None = None
    max_per_problem: int | None = None
    launcher: str | None = None
    num_processes: int | None = None
    name: str | None = None


_RENAMED = {"student": "model"}


def resolve_options(config: ProjectConfig, options: TrainOptions) -> StudentSection:
    """[student] with the overrides applied and validated; gold policy/K resolved."""
    data = config.student.model_dump()
    for f in fields(options):
        value = getattr(options, f.name)
        if value is not None and f.name != "name":
            data[_RENAMED.get(f.name, f.name)] = value
    if not data["gold_policy"]:
        data["gold_policy"] = config.verifier.gold_policy
    if not data["max_per_problem"]:
        data["max_per_problem"] = config.verifier.max_per_problem
    try:
        return StudentSection.model_validate(data)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            flag = "--" + ".".join(str(x) for x in err["loc"]).replace("_", "-")
            flag = "--student" if flag == "--model" else flag
            parts.append(f"{flag} {err.get('input')!r}: {_expected(err)}")
        raise TrainError("bad training option: " + "; ".join(parts)) from None


def hparams(section: StudentSection) -> dict[str, Any]:
    """What the trainer subprocess needs of the section (JSON-ready)."""
    return section.model_dump()


def trainer_command(spec_path: Path, launcher: str, num_processes: int) -> list[str]:
    """The command line: plain python, or the multi-process launcher owning the distribution."""
    tail = ["-m", "core.train", "--spec", str(spec_path)]
    if launcher == "python":
        if num_processes != 1:
            raise TrainError("--num-processes needs --launcher accelerate or torchrun")
        return [sys.executable, *tail]
    if launcher == "accelerate":
        head = ["-m", "accelerate.commands.launch", "--num_processes", str(num_processes)]
        return [sys.executable, *head, *tail]
    if launcher == "torchrun":
        head = ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={num_processes}"]
        return [sys.executable, *head, *tail]
    raise TrainError(f"unknown launcher {launcher!r} (expected python, accelerate or torchrun)")


def options_dict(options: TrainOptions) -> dict[str, Any]:
    return {k: v for k, v in asdict(options).items() if v is not None}
