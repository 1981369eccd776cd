"""`ekt.toml`: every field has a default; a bad file fails with file, field, value and expectation.

Secrets never live here: `api_key_env` names the environment variable that holds the key.
`render_default_toml()` writes the commented file `ekt init` creates, straight from these models,
so the documentation of a field cannot drift from its default.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import ConfigError

CONFIG_NAME = "ekt.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ProjectSection(_Section):
    name: str = Field("ekt-project", description="Shown in the TUI title bar.")


class TeacherSection(_Section):
    backend: Literal["local", "openai"] = Field(
        "local", description='"openai" for any OpenAI-compatible endpoint, "local" for a HF model.'
    )
    base_url: str = Field(
        "",
        description="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 (empty: OpenAI).",
    )
    model: str = Field(
        "qwen-coder-1.5b",
        description='Model name for openai; for local a hub id, folder, .gguf file or "smollm2".',
    )
    api_key_env: str = Field(
        "OPENAI_API_KEY", description="Environment variable holding the API key."
    )
    mode: Literal["chat", "completion"] = Field("completion", description="Endpoint flavour.")
    system: str = Field("", description="System message sent before the prompt in chat mode.")
    timeout_s: float = Field(120.0, gt=0, description="Per-request timeout in seconds.")
    max_retries: int = Field(5, ge=0, description="Retries per request (429, 5xx, dropped stream).")
    price_prompt: float = Field(0.0, ge=0, description="USD per 1M prompt tokens.")
    price_completion: float = Field(0.0, ge=0, description="USD per 1M completion tokens.")


class SamplingSection(_Section):
    n: int = Field(8, ge=1, le=1024, description="Samples per problem.")
    temperature: float = Field(0.8, ge=0, le=2, description="Sampling temperature.")
    top_p: float = Field(0.95, gt=0, le=1, description="Nucleus sampling.")
    max_tokens: int = Field(320, ge=1, description="Completion tokens per sample.")
    stop: list[str] = Field(default_factory=list, description="Extra stop sequences.")
    seed: int | None = Field(None, description="Sampling seed passed to the endpoint (optional).")
    concurrency: int = Field(8, ge=1, le=1024, description="Requests in flight at once.")
    budget_usd: float | None = Field(
        None, ge=0, description="Stop issuing requests past this spend."
    )
    prompt: str = Field("", description="Prompt name to sample with (empty: the problems' kind).")
    verify: bool = Field(True, description="Verify each candidate as soon as it arrives.")


class VerifierSection(_Section):
    timeout_s: float = Field(5.0, gt=0, description="Wall-clock limit per candidate.")
    memory_mb: int = Field(1024, ge=32, description="Address-space limit per candidate.")
    workers: int = Field(2, ge=1, le=256, description="Candidates run in parallel.")
    output_limit_kb: int = Field(64, ge=1, description="Captured stdout/stderr cap.")
    tolerance: float = Field(1e-3, ge=0, description="Numeric tolerance for answer checks.")
    entry: str = Field(
        "solution()", description="Expression evaluated for answer-checked problems."
    )
    gold_policy: Literal["first", "all-distinct", "max-per-problem"] = Field(
        "all-distinct", description="Which passing candidates become gold."
    )
    max_per_problem: int = Field(4, ge=1, description="K for the max-per-problem gold policy.")
    max_processes: int = Field(
        32, ge=1, description="Processes/threads one candidate may run (RLIMIT_NPROC)."
    )


class StudentSection(_Section):
    model: str = Field("smollm2", description='Hub id, folder, .gguf file or "smollm2" (offline).')
    epochs: float = Field(3.0, gt=0, description="Training epochs.")
    max_steps: int = Field(-1, description="Stop after this many steps (-1: use epochs).")
    lr: float = Field(5e-5, gt=0, description="Peak learning rate.")
    batch_size: int = Field(8, ge=1, description="Per-device batch size.")
    grad_accum: int = Field(1, ge=1, description="Gradient accumulation steps.")
    max_length: int = Field(
        512, ge=16, description="Truncate prompt + completion to this many tokens."
    )
    warmup: float = Field(0.03, ge=0, description="Warm-up: a ratio (<1) or a number of steps.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    seed: int = Field(0, description="Training seed.")
    output: str = Field(
        "checkpoints", description="Folder for checkpoints (relative to the project)."
    )
    report_to: Literal["none", "tensorboard", "wandb"] = Field("none", description="Logger.")
    dev: int = Field(0, ge=0, description="Held-out dev problems for checkpoint selection.")
    eval_every: int = Field(0, ge=0, description="Dev pass@1 every N steps (0: never).")
    save_every: int = Field(
        0, ge=0, description="Checkpoint every N steps (0: at each dev eval and at the end)."
    )
    gold_policy: Literal["", "first", "all-distinct", "max-per-problem"] = Field(
        "", description="Gold policy for the SFT set (empty: [verifier] gold_policy)."
    )
    max_per_problem: int = Field(
        0, ge=0, description="K for max-per-problem (0: [verifier] max_per_problem)."
    )
    launcher: Literal["python", "accelerate", "torchrun"] = Field(
        "python", description="How the trainer starts: plain python, accelerate launch, torchrun."
    )
    num_processes: int = Field(1, ge=1, description="Processes (GPUs) for accelerate/torchrun.")


class EvalSection(_Section):
    split: str = Field("test", description="Problem split to evaluate on.")
    n: int = Field(20, ge=1, description="Samples per problem.")
    temperature: float = Field(0.6, ge=0, le=2, description="Sampling temperature.")
    k: list[int] = Field(default_factory=lambda: [1, 10, 20], description="pass@k values.")
    max_tokens: int = Field(320, ge=1, description="Completion tokens per sample.")


class ProjectConfig(_Section):
    project: ProjectSection = Field(default_factory=ProjectSection)
    teacher: TeacherSection = Field(default_factory=TeacherSection)
    sampling: SamplingSection = Field(default_factory=SamplingSection)
    verifier: VerifierSection = Field(default_factory=VerifierSection)
    student: StudentSection = Field(default_factory=StudentSection)
    eval: EvalSection = Field(default_factory=EvalSection)


def _expected(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "no such field"
    if kind == "literal_error":
        return "expected " + err["ctx"]["expected"]
    return err["msg"][0].lower() + err["msg"][1:]


def format_validation_error(path: Path | str, exc: ValidationError) -> str:
    """One line: `ekt.toml: [teacher] temperature = 'hot': input should be a valid number`."""
    parts = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"]]
        where = f"[{loc[0]}] {'.'.join(loc[1:])}" if len(loc) > 1 else loc[0] if loc else "?"
        value = err.get("input")
        shown = "" if isinstance(value, dict) else f" = {json.dumps(value, default=str)}"
        parts.append(f"{where.strip()}{shown}: {_expected(err)}")
    return f"{path}: " + "; ".join(parts)


def parse_config(data: dict[str, Any], path: Path | str = CONFIG_NAME) -> ProjectConfig:
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from None


def load_config(path: Path | str) -> ProjectConfig:
    """Read and validate ekt.toml; a missing file is an error (use `ekt init`)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (run `ekt init` to create a project)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_config(data, path)


def _toml_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(value)


def render_default_toml(config: ProjectConfig | None = None) -> str:
    """The commented ekt.toml `ekt init` writes: every field, its default and what it means."""
    config = config or ProjectConfig()
    lines = [
        "# ekt project configuration. Every field is optional; shown values are defaults.",
        "# Secrets never go here: api_key_env names the environment variable to read.",
        "",
    ]
    for section_name in ProjectConfig.model_fields:
        section = getattr(config, section_name)
        lines.append(f"[{section_name}]")
        for name, field in type(section).model_fields.items():
            value = getattr(section, name)
            lines.append(f"# {field.description}")
            rendered = _toml_value(value)
            lines.append(f"# {name} =" if value is None else f"{name} = {rendered}")
        lines.append("")
    return "\n".join(lines)
