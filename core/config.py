"""`ekt.toml`: every field has a default; a bad file fails with file, field, value and expectation.

These pydantic sections are the one field table: name, type, default, help text and bounds of
every setting are declared here once. `section_fields()` reads them back as `FieldSpec`s, from
which the `ekt` options (core/cli/options.py), the option objects, the TUI forms, the TOML
`ekt init` writes (`render_default_toml`) and the README reference (`reference_markdown`) are
derived, so none of them can drift from the declaration.

Secrets never live here: `api_key_env` names the environment variable that holds the key.
A field's `json_schema_extra` may carry `option` (the CLI/option name when it differs from the
field name, e.g. `--student` for [student] model) and `metavar`; `title` is the form label.
"""

from __future__ import annotations

import json
import tomllib
import types
import typing
from dataclasses import dataclass
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
        "local",
        description='"openai" for any OpenAI-compatible endpoint, "local" for a HF model.',
        json_schema_extra={"option": "teacher"},
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
    prompt: str = Field(
        "",
        description="Prompt to sample with: NAME, NAME@N, N or #ID (empty: the problems' kind).",
        json_schema_extra={"metavar": "VERSION"},
    )
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
    spurious_check: bool = Field(
        True, description="Flag answer passes that do not compute their answer (one re-run)."
    )


class GoldSection(_Section):
    allow_spurious: bool = Field(
        False,
        description="Let passes flagged spurious (they do not compute their answer) be gold.",
    )


class StudentSection(_Section):
    model: str = Field(
        "smollm2",
        description='Hub id, folder, .gguf file or "smollm2" (offline).',
        json_schema_extra={"option": "student", "metavar": "MODEL"},
    )
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
    seed: int = Field(0, description="Training (and dev slice) seed.")
    output: str = Field(
        "checkpoints",
        description="Folder for checkpoints (relative to the project).",
        json_schema_extra={"metavar": "DIR"},
    )
    report_to: Literal["none", "tensorboard", "wandb"] = Field("none", description="Logger.")
    dev: int = Field(
        0, ge=0, title="dev problems", description="Held-out dev problems for checkpoint selection."
    )
    eval_every: int = Field(0, ge=0, description="Dev pass@1 every N steps (0: never).")
    save_every: int = Field(
        0, ge=0, description="Checkpoint every N steps (0: at each dev eval and at the end)."
    )
    gold_policy: Literal["", "first", "all-distinct", "max-per-problem", "diverse"] = Field(
        "", description="Gold policy for the SFT set (empty: [verifier] gold_policy)."
    )
    diverse_k: int = Field(
        0,
        ge=0,
        title="K diverse",
        description="K gold programs picked by k-center over code embeddings (diverse policy).",
        json_schema_extra={"option": "k", "metavar": "K"},
    )
    min_judge_score: int = Field(
        0,
        ge=0,
        le=10,
        description="Leave out gold the judge scored below S, 1-10 (0: no filter; unjudged stays).",
        json_schema_extra={"metavar": "S"},
    )
    max_per_problem: int = Field(
        0,
        ge=0,
        title="K per problem",
        description="K for max-per-problem (0: [verifier] max_per_problem).",
    )
    gold_sources: str = Field(
        "teacher,edit,refine",
        pattern=r"^(teacher|edit|refine)(,(teacher|edit|refine))*$",
        description="Candidate sources whose gold enters the SFT set (comma-separated:"
        " teacher, edit, refine).",
        json_schema_extra={"metavar": "SOURCES"},
    )
    launcher: Literal["python", "accelerate", "torchrun"] = Field(
        "python", description="How the trainer starts: plain python, accelerate launch, torchrun."
    )
    num_processes: int = Field(1, ge=1, description="Processes (GPUs) for accelerate/torchrun.")
    method: Literal["ekt", "kd", "expert-iteration"] = Field(
        "ekt",
        description="What the student learns: ekt (verified gold), kd (every teacher sample),"
        " expert-iteration (its own verified programs, round after round).",
    )
    rounds: int = Field(
        1, ge=1, le=100,
        description="Training rounds; after each but the last the student samples the training"
        " problems and its verified programs join the next round's SFT set.",
    )  # fmt: skip
    round_samples: int = Field(
        4, ge=1, le=1024, description="Samples per training problem the student draws per round."
    )
    ei_restart: bool = Field(
        False, description="Each round trains from the base model (else from the last round's)."
    )
    kd_drop_syntax: bool = Field(
        False, description="kd: leave out teacher samples that do not parse."
    )


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
    gold: GoldSection = Field(default_factory=GoldSection)
    student: StudentSection = Field(default_factory=StudentSection)
    eval: EvalSection = Field(default_factory=EvalSection)


def _expected(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "no such field"
    if kind == "literal_error":
        return "expected " + err["ctx"]["expected"]
    return err["msg"][0].lower() + err["msg"][1:]


def format_validation_error(
    path: Path | str, exc: ValidationError, section: str | None = None
) -> str:
    """One line: `ekt.toml: [teacher] temperature = 'hot': input should be a valid number`.

    `section` names the section when `exc` comes from validating one section alone."""
    parts = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"]]
        loc = [section, *loc] if section else loc
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


def _allowed(spec: FieldSpec) -> str:
    if spec.choices:
        return " One of " + ", ".join(json.dumps(c) for c in spec.choices) + "."
    return f" [{spec.bounds}]" if spec.bounds else ""


def render_default_toml(config: ProjectConfig | None = None) -> str:
    """The commented ekt.toml `ekt init` writes: every field, its default and what it means."""
    config = config or ProjectConfig()
    lines = [
        "# ekt project configuration. Every field is optional; shown values are defaults.",
        "# Secrets never go here: api_key_env names the environment variable to read.",
        "",
    ]
    for section_name in type(config).model_fields:
        section = getattr(config, section_name)
        lines.append(f"[{section_name}]")
        for spec in section_fields(section_name, type(config)):
            value = getattr(section, spec.name)
            lines.append(f"# {spec.description}{_allowed(spec)}")
            rendered = _toml_value(value)
            lines.append(f"# {spec.name} =" if value is None else f"{spec.name} = {rendered}")
        lines.append("")
    return "\n".join(lines)


# -- the field table, read back ------------------------------------------------------------------
_KINDS = (bool, int, float, str)


@dataclass(frozen=True)
class FieldSpec:
    """One configurable field as each surface shows it: a CLI option, a form input, a README row."""

    section: str  # "student"
    name: str  # the key in ekt.toml
    option: str  # the CLI/option name: `--{option}` with "_" as "-" ("student" for [student] model)
    label: str  # the form label
    kind: type  # bool | int | float | str | list
    item: type | None  # the element type of a list
    optional: bool  # None (unset) is a valid value
    choices: tuple[str, ...]  # a Literal's values, else ()
    default: Any
    description: str
    lower: tuple[Any, bool] | None  # (bound, inclusive): ge=1 -> (1, True), gt=0 -> (0, False)
    upper: tuple[Any, bool] | None
    metavar: str | None

    @property
    def bounds(self) -> str:
        """Click's notation: `1<=x<=1024`, `x>=1`, `x>0`, `x<=2`, or ""."""
        lo, hi = self.lower, self.upper
        if lo and hi:
            return f"{lo[0]}{'<=' if lo[1] else '<'}x{'<=' if hi[1] else '<'}{hi[0]}"
        if lo:
            return f"x{'>=' if lo[1] else '>'}{lo[0]}"
        return f"x{'<=' if hi[1] else '<'}{hi[0]}" if hi else ""

    @property
    def flag(self) -> str:
        return "--" + self.option.replace("_", "-")

    @property
    def where(self) -> str:
        """How errors name the field: `[sampling] n`."""
        return f"[{self.section}] {self.name}"

    def parse(self, text: str) -> Any:
        """Form text to a value (None: left empty); ValueError says what was expected."""
        text = text.strip()
        if self.kind is str:
            return text
        if not text:
            return None
        try:
            if self.kind is bool:
                low = text.lower()
                if low not in ("true", "false", "yes", "no", "1", "0"):
                    raise ValueError
                return low in ("true", "yes", "1")
            if self.kind is list:
                value = json.loads(text) if text.startswith("[") else text.split(",")
                if not isinstance(value, list):
                    raise ValueError
                item = self.item or str
                return [item(v.strip() if isinstance(v, str) else v) for v in value]
            return self.kind(text)
        except ValueError:
            name = "list (JSON, or comma-separated)" if self.kind is list else self.kind.__name__
            raise ValueError(f"{text!r} is not a valid {name}") from None

    def show(self, value: Any) -> str:
        """A value as form text (the inverse of `parse`)."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return json.dumps(value)
        return str(value)


def _bounds(metadata: list[Any]) -> tuple[tuple[Any, bool] | None, tuple[Any, bool] | None]:
    """(lower, upper) from pydantic's constraint objects (annotated_types Ge/Gt/Le/Lt)."""
    lower = upper = None
    for m in metadata:
        if getattr(m, "ge", None) is not None:
            lower = (m.ge, True)
        elif getattr(m, "gt", None) is not None:
            lower = (m.gt, False)
        elif getattr(m, "le", None) is not None:
            upper = (m.le, True)
        elif getattr(m, "lt", None) is not None:
            upper = (m.lt, False)
    return lower, upper


def _kind(annotation: Any) -> tuple[type, type | None, bool, tuple[str, ...]]:
    """(kind, list item, optional, choices) of a field annotation."""
    optional = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) != 1:
            raise TypeError(f"unsupported field type {annotation!r}")
        annotation = args[0]
        origin = typing.get_origin(annotation)
    if origin is Literal:
        return str, None, optional, tuple(str(a) for a in typing.get_args(annotation))
    if origin is list:
        (item,) = typing.get_args(annotation)
        return list, item, optional, ()
    if annotation in _KINDS:
        return annotation, None, optional, ()
    raise TypeError(f"unsupported field type {annotation!r}")


def section_fields(section: str, config: type[ProjectConfig] | None = None) -> list[FieldSpec]:
    """The fields of one ekt.toml section, in declaration order."""
    config = config or ProjectConfig
    model = config.model_fields[section].annotation
    assert isinstance(model, type) and issubclass(model, BaseModel), section
    out = []
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        kind, item, optional, choices = _kind(field.annotation)
        option = str(extra.get("option", name))
        lower, upper = _bounds(field.metadata)
        out.append(
            FieldSpec(
                section=section, name=name, option=option,
                label=field.title or option.replace("_", " "), kind=kind, item=item,
                optional=optional, choices=choices,
                default=field.get_default(call_default_factory=True),
                description=field.description or "", lower=lower, upper=upper,
                metavar=str(extra["metavar"]) if "metavar" in extra else None,
            )
        )  # fmt: skip
    return out


def section_errors(model: type[BaseModel], data: dict[str, Any]) -> dict[str, str]:
    """Validate one section's values: {field name: what was expected}, empty when valid.

    For forms, which mark each bad field: `{"n": "input should be greater than or equal to 1"}`."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        out: dict[str, str] = {}
        for err in exc.errors():
            out.setdefault(".".join(str(x) for x in err["loc"]) or "?", _expected(err))
        return out
    return {}


def reference_markdown(config: type[ProjectConfig] | None = None) -> str:
    """The README's configuration reference: one table per section, from the field table.

    Regenerate the README block with
    `python -c "from core.config import reference_markdown as r; print(r())"`."""
    config = config or ProjectConfig
    blocks = []
    for section in config.model_fields:
        rows = ["| field | default | allowed | meaning |", "|---|---|---|---|"]
        for f in section_fields(section, config):
            default = "unset" if f.default is None else f"`{_toml_value(f.default)}`"
            allowed = " ".join(f"`{c}`" if c else '`""`' for c in f.choices) or (
                f"`{f.bounds}`" if f.bounds else ""
            )
            meaning = f.description.replace("|", "\\|")
            rows.append(f"| `{f.name}` | {default} | {allowed} | {meaning} |")
        blocks.append(f"**[{section}]**\n\n" + "\n".join(rows))
    return "\n\n".join(blocks) + "\n"
