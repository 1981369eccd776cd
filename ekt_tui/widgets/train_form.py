"""The launch form: every [student] field, plus the run name, with a live preview of the SFT set.

The inputs are generated from the field table (`section_fields("student")`): label, help,
bounds and choices come from core/config.py, so a field added there shows up here. Every input
starts at the project's resolved [student] value (gold policy and K fall back to [verifier]);
`options()` turns them into `TrainOptions`, and a value that does not parse or is out of bounds
is a one-line TrainError naming the field. A bad input is marked as it is typed and the mark
clears when it is fixed. The screen runs the preview (examples and tokens the gold policy yields)
whenever the policy, K, the dev slice or the student changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.markup import escape
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from core import (
    FieldSpec,
    ProjectConfig,
    TrainError,
    TrainOptions,
    resolve_options,
    section_errors,
    section_fields,
)

PREVIEW_FIELDS = {"student", "dev", "max_per_problem", "gold_policy", "method", "kd_drop_syntax"}


def _tooltip(spec: FieldSpec) -> str:
    bounds = f" [{spec.bounds}]" if spec.bounds else ""
    return escape(f"{spec.where}: {spec.description}{bounds}")


class TrainForm(Vertical):
    DEFAULT_CSS = """
    TrainForm { height: auto; }
    TrainForm Grid { grid-size: 4; grid-columns: 15 1fr 15 1fr; grid-rows: 1;
                     grid-gutter: 0 1; height: auto; }
    TrainForm #tf-choices { grid-size: 2; grid-columns: 15 1fr; margin-top: 1; }
    TrainForm Label { padding: 0 0 0 1; }
    TrainForm #train-preview { padding: 0 1; height: 2; margin-top: 1; }
    TrainForm Horizontal { height: auto; }
    """

    @dataclass
    class LaunchRequested(Message):
        pass

    @dataclass
    class PreviewWanted(Message):
        pass

    def __init__(self, config: ProjectConfig, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.config = config
        self.specs = {s.option: s for s in section_fields("student", type(config))}
        self.start = resolve_options(config, TrainOptions())  # gold policy/K resolved
        self._had_errors = False

    def compose(self) -> ComposeResult:
        specs = list(self.specs.values())
        with Grid(id="tf-fields"):
            for spec in (s for s in specs if not s.choices and s.kind is not bool):
                yield Label(spec.label)
                value = spec.show(getattr(self.start, spec.name))
                yield Input(value, id=f"tf-{spec.option}", tooltip=_tooltip(spec), compact=True)
            yield Label("run name")
            yield Input(id="tf-name", placeholder="sft-N", compact=True,
                        tooltip="Name of the run (default sft-N).")  # fmt: skip
        with Grid(id="tf-choices"):
            for spec in (s for s in specs if s.choices or s.kind is bool):
                value = getattr(self.start, spec.name)
                choices = spec.choices or ("true", "false")
                options = [(c or "(default)", c) for c in choices if c or c == value]
                shown = spec.show(value) if spec.kind is bool else value
                yield Label(spec.label)
                yield Select(options, value=shown, allow_blank=False, id=f"tf-{spec.option}",
                             tooltip=_tooltip(spec), compact=True)  # fmt: skip
        yield Static("", id="train-preview")
        with Horizontal():
            yield Button("Launch", id="train-launch", variant="success")

    def _values(self) -> tuple[dict[str, Any], dict[str, str]]:
        """({option: value} of the filled-in fields, {option: error}) without raising."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for option, spec in self.specs.items():
            widget = self.query_one(f"#tf-{option}")
            if isinstance(widget, Select):
                values[option] = spec.parse(str(widget.value))
                continue
            text = widget.value.strip()  # type: ignore[attr-defined]
            if not text:
                continue
            try:
                values[option] = spec.parse(text)
            except ValueError as exc:
                errors[option] = f"{spec.label}: {exc}"
        data = {**self.start.model_dump(), **{self.specs[o].name: v for o, v in values.items()}}
        by_name = {s.name: s for s in self.specs.values()}
        for name, problem in section_errors(type(self.start), data).items():
            spec = by_name.get(name)
            if spec is not None and spec.option not in errors:
                shown = values.get(spec.option, data.get(name))
                errors[spec.option] = f"{spec.label} {shown!r}: {problem}"
        return values, errors

    def options(self) -> TrainOptions:
        values, errors = self._values()
        if errors:
            raise TrainError(next(iter(errors.values())))
        name = self.query_one("#tf-name", Input).value.strip() or None
        return TrainOptions(name=name, **values)

    def mark_errors(self) -> dict[str, str]:
        """Mark each bad input (and unmark the fixed ones); returns the errors."""
        _, errors = self._values()
        for option in self.specs:
            self.query_one(f"#tf-{option}").set_class(option in errors, "-invalid")
        return errors

    def show_preview(self, text: str) -> None:
        self.query_one("#train-preview", Static).update(text)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "train-launch":
            event.stop()
            self.post_message(self.LaunchRequested())

    def _changed(self, widget_id: str | None) -> None:
        option = (widget_id or "").removeprefix("tf-")
        errors = self.mark_errors()
        if errors:
            self.show_preview(f"[red]{escape(next(iter(errors.values())))}[/]")
        if option in PREVIEW_FIELDS or (self._had_errors and not errors):
            self.post_message(self.PreviewWanted())  # also replaces a cleared error
        self._had_errors = bool(errors)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._changed(event.input.id)

    def on_select_changed(self, event: Select.Changed) -> None:
        self._changed(event.select.id)
