"""Edit [teacher] and [sampling] of ekt.toml: validated with core.config, written atomically.

A bad value never reaches the file: the whole config is re-validated first and the error (file,
field, what was expected) shown as a notification.
"""

from __future__ import annotations

import json
import os
import tomllib
import typing
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from core import ConfigError, EktError, Project, parse_config, render_default_toml

SECTIONS = ("teacher", "sampling")


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parsed(text: str, current: Any) -> Any:
    """Form text to a TOML-like value; pydantic validates (and names) anything wrong."""
    text = text.strip()
    if text == "":
        return None if not isinstance(current, str) else ""
    if isinstance(current, list) or text.startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


class ConfigForm(ModalScreen[bool]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project

    def compose(self) -> ComposeResult:
        cfg = self.project.config
        with VerticalScroll(id="config-form"):
            yield Label(
                "[b]ekt.toml[/b] of this project: the teacher and how to sample"
                " (ctrl+s save, esc cancel)"
            )
            for section in SECTIONS:
                model = getattr(cfg, section)
                yield Label(f"[b][{section}][/b]", classes="section")
                for name, field in type(model).model_fields.items():
                    value = getattr(model, name)
                    with Horizontal(classes="field"):
                        yield Label(name, classes="field-name")
                        choices = _literal_choices(field.annotation)
                        wid = f"cfg-{section}-{name}"
                        if choices:
                            yield Select(
                                [(c, c) for c in choices], value=value, allow_blank=False, id=wid
                            )
                        else:
                            yield Input(_shown(value), id=wid, tooltip=field.description)
            with Horizontal(id="config-buttons"):
                yield Button("Save", variant="primary", id="config-save")
                yield Button("Cancel", id="config-cancel")

    def form_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for section in SECTIONS:
            model = getattr(self.project.config, section)
            values: dict[str, Any] = {}
            for name in type(model).model_fields:
                widget = self.query_one(f"#cfg-{section}-{name}")
                if isinstance(widget, Select):
                    values[name] = widget.value
                else:
                    parsed = _parsed(widget.value, getattr(model, name))  # type: ignore[attr-defined]
                    if parsed is not None:
                        values[name] = parsed
            data[section] = values
        return data

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "config-save":
            self.action_save()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_save(self) -> None:
        path = self.project.root / "ekt.toml"
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


def _literal_choices(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return [str(a) for a in typing.get_args(annotation)]
    return []
