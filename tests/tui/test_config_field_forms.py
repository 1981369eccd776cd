"""The Training form and the config form are generated from the field table in core/config.py.

Every [student] field has an input in the Training form and every [teacher]/[sampling] field one in
the config form, labelled and bounded from its declaration; a field added in a test-only
subclass appears without touching the form; a bad value is marked with an error naming the
section and field, and the mark clears when the value is fixed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from textual.app import App, ComposeResult
from textual.markup import escape
from textual.widgets import Input, Label, Select, Static

from core import Project, ProjectConfig, section_fields
from core.config import StudentSection
from ekt_tui.screens.config_form import ConfigForm
from ekt_tui.widgets.train_form import TrainForm
from tests.tui.seed import make_project


class _Student(StudentSection):
    label_smoothing: float = Field(
        0.0, ge=0, le=1, title="smoothing", description="Label smoothing of the SFT loss."
    )


class _Config(ProjectConfig):
    student: _Student = Field(default_factory=_Student)


class FormApp(App[None]):
    def __init__(self, config: ProjectConfig) -> None:
        super().__init__()
        self.config = config

    def compose(self) -> ComposeResult:
        yield TrainForm(self.config, id="train-form")


class ConfigApp(App[None]):
    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.project: Project | None = None

    async def on_mount(self) -> None:
        self.project = await Project.open(self.root)
        await self.push_screen(ConfigForm(self.project))

    async def on_unmount(self) -> None:
        if self.project is not None:
            await self.project.close()


def _labels(root: Any) -> list[str]:
    return [str(label.render()) for label in root.query(Label)]


async def test_every_student_field_is_in_the_training_form() -> None:
    app = FormApp(ProjectConfig())
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        form = app.query_one(TrainForm)
        labels = _labels(form)
        for spec in section_fields("student"):
            widget = form.query_one(f"#tf-{spec.option}")
            choice = spec.choices or spec.kind is bool  # a bool field is a true/false Select
            assert isinstance(widget, Select if choice else Input), spec.name
            assert spec.label in labels, spec.name
            assert escape(spec.description) in str(widget.tooltip), spec.name
        options = form.options()  # the form starts at [student], resolved
        assert options.lr == 5e-5 and options.student == "smollm2"
        assert options.gold_policy == "all-distinct" and options.max_per_problem == 4


async def test_a_new_student_field_appears_in_the_form_and_validates() -> None:
    app = FormApp(_Config())
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        form = app.query_one(TrainForm)
        box = form.query_one("#tf-label_smoothing", Input)
        assert "smoothing" in _labels(form) and box.value == "0.0"
        assert "0<=x<=1" in str(box.tooltip)
        box.value = "0.2"
        await pilot.pause()
        assert form.options().label_smoothing == 0.2
        box.value = "2"
        await pilot.pause()
        preview = str(form.query_one("#train-preview", Static).render())
        assert "smoothing 2.0: input should be less than or equal to 1" in preview
        assert box.has_class("-invalid")
        box.value = "0.1"
        await pilot.pause()
        assert not box.has_class("-invalid")


async def test_config_form_has_every_field_and_marks_errors_until_fixed(tmp_path: Path) -> None:
    app = ConfigApp(make_project(tmp_path / "p", with_run=False))
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ConfigForm)
        for section in ("teacher", "sampling"):
            for spec in section_fields(section):
                widget = form.query_one(f"#cfg-{section}-{spec.name}")
                assert escape(spec.description) in str(widget.tooltip), spec.name
        n = form.query_one("#cfg-sampling-n", Input)
        note = form.query_one("#cfg-sampling-n-error", Static)
        assert not note.has_class("-shown")
        n.value = "0"
        await pilot.pause()
        assert n.has_class("-invalid") and note.has_class("-shown")
        assert str(note.render()) == "[sampling] n = 0: input should be greater than or equal to 1"
        temp = form.query_one("#cfg-sampling-temperature", Input)
        temp.value = "hot"
        await pilot.pause()
        assert "[sampling] temperature: 'hot' is not a valid float" in str(
            form.query_one("#cfg-sampling-temperature-error", Static).render()
        )
        n.value = "4"
        await pilot.pause()
        assert not n.has_class("-invalid") and not note.has_class("-shown")
        assert temp.has_class("-invalid")  # still wrong
