"""The launch form: student, hyperparameters, gold policy, with a live preview of the SFT set.

Every field starts at the project's `[student]` value; `options()` turns the fields into
`TrainOptions` (a number that does not parse is a one-line TrainError naming the field). The
screen runs the preview (examples and tokens the gold policy yields) whenever the policy, K, the
dev slice or the student changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from core import ProjectConfig, TrainError, TrainOptions

# (field, label, kind) in form order; kind: str | int | float
FIELDS: list[tuple[str, str, type]] = [
    ("student", "student", str),
    ("max_steps", "max steps", int),
    ("epochs", "epochs", float),
    ("lr", "lr", float),
    ("batch_size", "batch", int),
    ("grad_accum", "grad accum", int),
    ("max_length", "max length", int),
    ("warmup", "warmup", float),
    ("dev", "dev problems", int),
    ("eval_every", "eval every", int),
    ("max_per_problem", "K per problem", int),
    ("name", "run name", str),
]
POLICIES = [("all-distinct", "all-distinct"), ("first", "first"),
            ("max-per-problem", "max-per-problem")]  # fmt: skip
PREVIEW_FIELDS = {"student", "dev", "max_per_problem"}


class TrainForm(Vertical):
    DEFAULT_CSS = """
    TrainForm { height: auto; }
    TrainForm Grid { grid-size: 4; grid-columns: 12 1fr 12 1fr; grid-rows: 3; height: auto; }
    TrainForm Label { padding: 1 0 0 1; }
    TrainForm #tf-gold_policy { column-span: 3; }
    TrainForm #train-preview { padding: 0 1; height: 2; }
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
        self.defaults = config.student
        self.policy = self.defaults.gold_policy or config.verifier.gold_policy
        self.k = self.defaults.max_per_problem or config.verifier.max_per_problem

    def _default(self, name: str) -> str:
        if name == "student":
            return self.defaults.model
        if name == "max_per_problem":
            return str(self.k)
        if name == "name":
            return ""
        return str(getattr(self.defaults, name))

    def compose(self) -> ComposeResult:
        with Grid():
            for name, label, _ in FIELDS:
                yield Label(label)
                yield Input(self._default(name), id=f"tf-{name}", placeholder="sft-N"
                            if name == "name" else "")  # fmt: skip
            yield Label("gold policy")
            yield Select(POLICIES, value=self.policy, allow_blank=False, id="tf-gold_policy")
        yield Static("", id="train-preview")
        with Horizontal():
            yield Button("Launch", id="train-launch", variant="success")

    def options(self) -> TrainOptions:
        values: dict[str, object] = {}
        for name, label, kind in FIELDS:
            text = self.query_one(f"#tf-{name}", Input).value.strip()
            if not text:
                continue
            try:
                values[name] = kind(text)
            except ValueError:
                raise TrainError(f"{label}: {text!r} is not a valid {kind.__name__}") from None
        values["gold_policy"] = str(self.query_one("#tf-gold_policy", Select).value)
        return TrainOptions(**values)  # type: ignore[arg-type]

    def show_preview(self, text: str) -> None:
        self.query_one("#train-preview", Static).update(text)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "train-launch":
            event.stop()
            self.post_message(self.LaunchRequested())

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id and event.input.id.removeprefix("tf-") in PREVIEW_FIELDS:
            self.post_message(self.PreviewWanted())

    def on_select_changed(self, event: Select.Changed) -> None:
        self.post_message(self.PreviewWanted())
