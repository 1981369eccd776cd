"""The launch dialog of screen 5: what to evaluate (a base model, the teacher, or a checkpoint of
a finished training run), how (split, n, k, temperature, max tokens, limit, prompt) and under
which name; it dismisses with the `EvalOptions` that `ekt eval` would build, or None.

The [eval] inputs come from the field table (`section_fields("eval")`), like the training form's
[student] inputs, and start at the project's values. A bad input is marked and named as it is
typed; the rest (an unknown model, a prompt that does not resolve) is the runner's one line.
The choices are read by `launch_choices` before the dialog opens, so the dialog itself never
waits on the store (and a snapshot of it is deterministic).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from core import EvalOptions, FieldSpec, Project, Store, section_errors, section_fields
from core.config import EvalSection
from core.evaluate.labels import teacher_label
from core.evaluate.passk import parse_ks
from core.models import DEFAULT_MODEL
from core.queries.evals import checkpoint_records
from core.queries.problems import problem_splits
from core.queries.prompts import list_prompts
from core.queries.training import train_runs

TEACHER = "teacher"
DEFAULT_PROMPT = "default"
ZERO_SHOT = "zero-shot"


@dataclass(frozen=True, slots=True)
class LaunchChoices:
    """What the pickers offer: (label, value) pairs; a model value is a spec or TEACHER."""

    models: list[tuple[str, str]]
    prompts: list[tuple[str, str]]
    splits: list[str]


async def launch_choices(project: Project, reader: Store) -> LaunchChoices:
    """Base student models, the teacher, the checkpoints of finished training runs (newest
    first); the default prompt, zero-shot and every stored prompt version; the splits."""
    cfg = project.config
    models: list[tuple[str, str]] = []
    for spec in dict.fromkeys([cfg.student.model, DEFAULT_MODEL]):
        models.append((f"base: {spec}", spec))
    models.append((f"teacher: {teacher_label(cfg.teacher.model) or cfg.teacher.model}", TEACHER))
    done = {r["name"] for r in await train_runs(reader) if r["status"] == "done"}
    for c in await checkpoint_records(reader):
        if c.run_name in done:
            models.append((f"checkpoint: {c.run_name} step {c.step}", c.path))
    prompts = [
        ("default: few-shot (zero-shot for a checkpoint)", DEFAULT_PROMPT),
        ("zero-shot", ZERO_SHOT),
    ]
    prompts += [(f"few-shot: {p.label}", f"#{p.id}") for p in await list_prompts(reader)]
    splits = sorted(set(await problem_splits(reader)) | {cfg.eval.split})
    return LaunchChoices(models, prompts, splits)


def _tooltip(spec: FieldSpec) -> str:
    bounds = f" [{spec.bounds}]" if spec.bounds else ""
    return escape(f"{spec.where}: {spec.description}{bounds}")


class EvalLaunchScreen(ModalScreen[EvalOptions | None]):
    """Pick a model and settings; Enter/Evaluate starts, Esc cancels."""

    DEFAULT_CSS = """
    EvalLaunchScreen { align: center middle; }
    #el-box { width: 84; height: auto; border: thick $accent; background: $surface;
              padding: 0 1; }
    #el-title { text-style: bold; margin-bottom: 1; }
    #el-box Grid { grid-size: 2; grid-columns: 10 1fr; grid-rows: 1; grid-gutter: 0 1;
                   height: auto; }
    #el-box #el-fields { grid-size: 4; grid-columns: 14 1fr 14 1fr; margin-top: 1; }
    #el-box Label { padding: 0 0 0 1; }
    #el-message { height: 2; margin-top: 1; }
    #el-buttons { height: 3; align-horizontal: right; }
    #el-buttons Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "launch", "Evaluate"),
    ]

    def __init__(self, config: EvalSection, choices: LaunchChoices) -> None:
        super().__init__()
        self.config = config
        self.choices = choices
        self.specs = {s.option: s for s in section_fields("eval")}

    def compose(self) -> ComposeResult:
        with Vertical(id="el-box"):
            yield Static("Evaluate a model: pass@k on a split", id="el-title")
            with Grid(id="el-pickers"):
                yield Label("model")
                yield Select(self.choices.models, value=self.choices.models[0][1],
                             allow_blank=False, id="el-model", compact=True)  # fmt: skip
                yield Label("prompt")
                yield Select(self.choices.prompts, value=DEFAULT_PROMPT, allow_blank=False,
                             id="el-prompt", compact=True)  # fmt: skip
            with Grid(id="el-fields"):
                for spec in self.specs.values():
                    yield Label(spec.label)
                    value = getattr(self.config, spec.name)
                    if spec.name == "split":
                        yield Select([(s, s) for s in self.choices.splits], value=value,
                                     allow_blank=False, id="el-split", compact=True,
                                     tooltip=_tooltip(spec))  # fmt: skip
                    else:
                        yield Input(spec.show(value), id=f"el-{spec.option}", compact=True,
                                    tooltip=_tooltip(spec))  # fmt: skip
                yield Label("limit")
                yield Input(id="el-limit", placeholder="all", compact=True,
                            tooltip="Only the first N problems (blank: all).")  # fmt: skip
                yield Label("name")
                yield Input(id="el-name", placeholder="automatic", compact=True,
                            tooltip="A cancelled evaluation's name resumes it.")  # fmt: skip
            yield Static("", id="el-message")
            with Horizontal(id="el-buttons"):
                yield Button("Evaluate (ctrl+s)", variant="success", id="el-launch")
                yield Button("Cancel (esc)", id="el-cancel")

    def on_mount(self) -> None:
        self.query_one("#el-model", Select).focus()
        self._check()

    def _values(self) -> tuple[dict[str, Any], dict[str, str]]:
        """({field name: value}, {widget id: error}) of the [eval] inputs and the limit."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for option, spec in self.specs.items():
            widget = self.query_one(f"#el-{option}")
            text = str(widget.value).strip()  # type: ignore[attr-defined]
            if not text:
                errors[option] = f"{spec.where}: a value is needed"
                continue
            try:
                values[spec.name] = spec.parse(text)
            except ValueError as exc:
                errors[option] = f"{spec.where}: {exc}"
        data = {**self.config.model_dump(), **values}
        by_name = {s.name: s for s in self.specs.values()}
        for name, problem in section_errors(EvalSection, data).items():
            spec = by_name.get(name)
            if spec is not None and spec.option not in errors:
                errors[spec.option] = f"{spec.where} {data.get(name)!r}: {problem}"
        if "k" not in errors and "n" not in errors:
            try:
                parse_ks(data["k"], int(data["n"]))
            except ValueError as exc:
                errors["k"] = f"[eval] k: {exc}"
        limit = self.query_one("#el-limit", Input).value.strip()
        if limit:
            try:
                values["limit"] = int(limit)
                if values["limit"] < 1:
                    raise ValueError
            except ValueError:
                errors["limit"] = f"limit {limit!r}: expected a positive number of problems"
        return values, errors

    def _check(self) -> dict[str, str]:
        """Mark each bad input (unmark fixed ones) and say the first problem, else what runs."""
        values, errors = self._values()
        for option in [*self.specs, "limit"]:
            if option != "split":
                self.query_one(f"#el-{option}").set_class(option in errors, "-invalid")
        message = self.query_one("#el-message", Static)
        if errors:
            message.update(f"[red]{escape(next(iter(errors.values())))}[/]")
        else:
            n, limit = values["n"], values.get("limit")
            scope = (
                "the first problem" if limit == 1
                else f"the first {limit} problems" if limit else "every problem"
            )  # fmt: skip
            message.update(
                escape(f"{scope} of split {values['split']!r} × {n} samples, "
                       f"pass@{','.join(map(str, values['k']))}")
            )  # fmt: skip
        return errors

    def options(self) -> EvalOptions | None:
        """The request as `ekt eval` builds it; None (and the error shown) if an input is bad."""
        values, errors = self._values()
        if self._check():
            return None
        del errors
        model = str(self.query_one("#el-model", Select).value)
        prompt = str(self.query_one("#el-prompt", Select).value)
        return EvalOptions(
            model=None if model == TEACHER else model,
            teacher=model == TEACHER,
            split=values["split"],
            n=values["n"],
            temperature=values["temperature"],
            k=values["k"],
            limit=values.get("limit"),
            zero_shot=True if prompt == ZERO_SHOT else None,
            prompt=None if prompt in (DEFAULT_PROMPT, ZERO_SHOT) else prompt,
            name=self.query_one("#el-name", Input).value.strip() or None,
            max_tokens=values["max_tokens"],
        )

    def on_input_changed(self) -> None:
        self._check()

    def on_select_changed(self) -> None:
        self._check()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_launch()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "el-launch":
            self.action_launch()
        else:
            self.dismiss(None)

    def action_launch(self) -> None:
        options = self.options()
        if options is not None:
            self.dismiss(options)

    def action_cancel(self) -> None:
        self.dismiss(None)
