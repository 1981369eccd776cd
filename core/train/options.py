"""Training options: command-line/TUI overrides over the project's `[student]` section.

`TrainOptions` declares no field of its own: it holds overrides by option name (the [student]
field's name, or its `option`: `student` for `model`), and `resolve_options` merges them into
the section and validates them exactly like ekt.toml (the same pydantic model), so a bad `--lr`
and a bad `lr =` read the same; the result is what the run's `config` column stores.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.config import ProjectConfig, StudentSection, _expected, section_fields
from core.errors import TrainError


class TrainOptions:
    """Overrides of [student] by option name (None: take it from [student]; gold policy and K
    fall back to [verifier]) and the run's `name`. Unknown names fail in `resolve_options`."""

    def __init__(self, *, name: str | None = None, **overrides: Any) -> None:
        self.name = name
        self.overrides = {k: v for k, v in overrides.items() if v is not None}

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_") or key in ("name", "overrides"):
            raise AttributeError(key)
        return self.__dict__.get("overrides", {}).get(key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrainOptions) and (self.name, self.overrides) == (
            other.name, other.overrides,
        )  # fmt: skip

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in {**self.overrides, "name": self.name}.items())
        return f"TrainOptions({items})"


def resolve_options(config: ProjectConfig, options: TrainOptions) -> StudentSection:
    """[student] with the overrides applied and validated; gold policy/K resolved."""
    specs = section_fields("student", type(config))
    by_option = {s.option: s for s in specs}
    data = config.student.model_dump()
    unknown: dict[str, Any] = {}
    for key, value in options.overrides.items():
        if key in by_option:
            data[by_option[key].name] = value
        else:
            unknown[key] = value
    if not data["gold_policy"]:
        data["gold_policy"] = config.verifier.gold_policy
    if not data["max_per_problem"]:
        data["max_per_problem"] = config.verifier.max_per_problem
    if unknown:
        raise TrainError("bad training option: " + "; ".join(
            f"--{k.replace('_', '-')} {v!r}: no such option" for k, v in unknown.items()
        ))  # fmt: skip
    flags = {s.name: s.flag for s in specs}
    try:
        return type(config.student).model_validate(data)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"])
            flag = flags.get(loc, "--" + loc.replace("_", "-"))
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
    """The overrides given (by option name) and the run name, as the spec records them."""
    out = dict(options.overrides)
    if options.name is not None:
        out["name"] = options.name
    return out
