"""Edit [teacher] and [sampling] of ekt.toml: validated with core.config, written atomically.

The inputs are generated from the field table (`section_fields`): name, help, bounds and choices
come from core/config.py. Each input is checked as it is typed: a bad value is marked and its
error, naming the section and field (`[sampling] n = 0: ...`), shown under it until it is fixed.
A bad value never reaches the file: the whole config is re-validated on save and the error
(file, field, what was expected) shown as a notification.
"""

from __future__ import annotations

import os
import tomllib
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from core import (
    ConfigError,
    EktError,
    FieldSpec,
    Project,
    parse_config,
    render_default_toml,
    section_errors,
    section_fields,
)

SECTIONS = ("teacher", "sampling")


def _tooltip(spec: FieldSpec) -> str:
    bounds = f" [{spec.bounds}]" if spec.bounds else ""
    return escape(f"{spec.where}: {spec.description}{bounds}")


class ConfigForm(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfigForm .field-error { display: none; color: $error; padding: 0 0 0 18; }
    ConfigForm .field-error.-shown { display: block; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project
        config = type(project.config)
        self.specs = {section: section_fields(section, config) for section in SECTIONS}

    def compose(self) -> ComposeResult:
        cfg = self.project.config
        with VerticalScroll(id="config-form"):
            yield Label(
                "[b]ekt.toml[/b] of this project: the teacher and how to sample"
                " (ctrl+s save, esc cancel)"
            )
            for section, specs in self.specs.items():
                model = getattr(cfg, section)
                yield Label(f"[b][{section}][/b]", classes="section")
                for spec in specs:
                    value = getattr(model, spec.name)
                    wid = f"cfg-{section}-{spec.name}"
                    with Horizontal(classes="field"):
                        yield Label(spec.name, classes="field-name")
                        if spec.choices or spec.kind is bool:
                            choices = spec.choices or ("true", "false")
                            shown = spec.show(value) if spec.kind is bool else value
                            yield Select(
                                [(c, c) for c in choices], value=shown, allow_blank=False,
                                id=wid, tooltip=_tooltip(spec),
                            )  # fmt: skip
                        else:
                            yield Input(spec.show(value), id=wid, tooltip=_tooltip(spec))
                    yield Static("", id=f"{wid}-error", classes="field-error")
            with Horizontal(id="config-buttons"):
                yield Button("Save", variant="primary", id="config-save")
                yield Button("Cancel", id="config-cancel")

    def _section(self, section: str) -> tuple[dict[str, Any], dict[str, str]]:
        """({field: value} as typed, {field: error}) of one section, without raising."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for spec in self.specs[section]:
            widget = self.query_one(f"#cfg-{section}-{spec.name}")
            text = str(widget.value)  # type: ignore[attr-defined]
            try:
                value = spec.parse(text)
            except ValueError as exc:
                errors[spec.name] = f"{spec.where}: {exc}"
                continue
            if value is not None:  # left empty: the field's default
                values[spec.name] = value
        model = type(getattr(self.project.config, section))
        for name, problem in section_errors(model, values).items():
            if name in values and name not in errors:
                errors[name] = f"[{section}] {name} = {values[name]!r}: {problem}"
        return values, errors

    def form_data(self) -> dict[str, Any]:
        return {section: self._section(section)[0] for section in SECTIONS}

    def mark_errors(self) -> dict[str, str]:
        """Mark each bad input and show its error under it; a fixed one is cleared."""
        found: dict[str, str] = {}
        for section in SECTIONS:
            _, errors = self._section(section)
            for spec in self.specs[section]:
                wid = f"cfg-{section}-{spec.name}"
                message = errors.get(spec.name, "")
                self.query_one(f"#{wid}").set_class(bool(message), "-invalid")
                note = self.query_one(f"#{wid}-error", Static)
                note.update(escape(message))
                note.set_class(bool(message), "-shown")
                if message:
                    found[f"{section}.{spec.name}"] = message
        return found

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.is_mounted:
            self.mark_errors()

    def on_select_changed(self, event: Select.Changed) -> None:
        if self.is_mounted:
            self.mark_errors()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "config-save":
            self.action_save()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_save(self) -> None:
        path = self.project.root / "ekt.toml"
        errors = self.mark_errors()
        if errors:
            message = f"{path}: " + "; ".join(errors.values())
            self.notify(message, title="Config not saved", severity="error", timeout=10)
            return
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
            raw.update(self.form_data())
            config = parse_config(raw, path)
            text = render_default_toml(config)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        except EktError as exc:
            self.notify(str(exc), title="Config not saved", severity="error", timeout=10)
            return
        except (OSError, tomllib.TOMLDecodeError) as exc:
            err = ConfigError(f"{path}: cannot write: {exc}")
            self.notify(str(err), title="Config not saved", severity="error", timeout=10)
            return
        self.project.config = config
        self.notify(f"Saved {path.name}")
        self.dismiss(True)
