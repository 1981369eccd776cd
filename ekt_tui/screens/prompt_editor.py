"""Prompt editor: the few-shot template in a code editor, a live preview for a real problem with
its token count, save as a new version with a note, each version's yield, try on 5 problems.

An edit that is not saved is marked ● in the title; quitting, going to another screen or
loading another version first asks (ConfirmScreen) rather than dropping it."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Header, Label, Select, Static, TextArea

from core import (
    EktError,
    count_tokens,
    current_prompt,
    first_problem_of_kind,
    get_problem,
    pick_problems,
    prompt_names,
    prompt_yields,
    render,
    run_results,
    save_prompt,
)
from ekt_tui.screens.base import LiveScreen
from ekt_tui.screens.confirm import ConfirmScreen
from ekt_tui.screens.note_prompt import NotePrompt
from ekt_tui.widgets.candidate_list import verdict_glyph
from ekt_tui.widgets.key_bar import KeyBar

KINDS = {"gsm8k": ("answer",), "mbpp": ("asserts",), "humaneval": ("check",)}
ALL_KINDS = ("answer", "asserts", "check")
TRY_N = 5


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


class PromptEditorScreen(LiveScreen):
    HELP_TITLE = "Prompt editor"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save version"),
        Binding("ctrl+r", "try_five", "Try on 5"),
        Binding("ctrl+o", "load_selected", "Load version"),
    ]
    COMMANDS_LIST = [
        ("Prompt: save as a new version", "ctrl+s", "save"),
        ("Prompt: try on 5 problems with the current teacher", "ctrl+r", "try_five"),
        ("Prompt: load the highlighted version into the editor", "ctrl+o", "load_selected"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.prompt_name = ""
        self.base_id: int | None = None
        self.problem: dict[str, Any] | None = None
        self.version_ids: list[int] = []
        self.templates: dict[int, str] = {}
        self.numbers: dict[int, int] = {}  # version id -> version number
        self.try_run: str | None = None
        self.try_problems: list[str] = []
        self.saved_text = ""  # the template as last loaded or saved: anything else is unsaved
        self.base_label = ""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="prompt-main"):
            with Vertical(id="prompt-left"):
                yield Select([], prompt="prompt", id="prompt-name", allow_blank=True)
                yield Label("versions (yield of the runs that used them)", id="versions-title")
                yield DataTable(id="versions", cursor_type="row", zebra_stripes=True)
                yield Label(f"try on {TRY_N} problems (ctrl+r)", id="try-title")
                yield Static("", id="try-results")
            with Vertical(id="prompt-right"):
                yield Label("", id="prompt-title")
                yield TextArea.code_editor("", language="python", id="template")
                yield Label("", id="preview-title")
                with VerticalScroll(id="preview-box"):
                    yield Static("", id="preview")
        yield KeyBar()

    async def on_mount(self) -> None:
        # The app's quit and screen keys, shadowed here to ask first while an edit is unsaved.
        # (help re-bound first only to keep the key bar's order: help, quit, screens)
        self._bindings.bind("question_mark,f1", "app.help", "Help")
        self._bindings.bind("q", "quit_asking", "Quit")
        for key, label in self.ekt.screen_keys.values():
            self._bindings.bind(key, f"leave('{key}')", label)
        self.refresh_bindings()
        table = self.query_one("#versions", DataTable)
        table.add_columns("version", "note", "runs", "cands", "pass", "gold")
        names = await prompt_names(self.ekt.reader)
        select = self.query_one("#prompt-name", Select)
        select.set_options([(n, n) for n in names])
        await self.load_prompt(names[0])
        select.value = names[0]

    async def load_prompt(self, name: str) -> None:
        # current_prompt seeds v1 on first use: that is a write, so it goes through the writer.
        version = await current_prompt(self.ekt.project.store, name)
        self.prompt_name = name
        self.base_id = version.id
        self.problem = await self._preview_problem(name)
        editor = self.query_one("#template", TextArea)
        self.saved_text, self.base_label = version.template, version.label
        editor.load_text(version.template)
        self._title()
        await self.refresh_data()

    @property
    def dirty(self) -> bool:
        """The editor holds a template that is not the version it was loaded from or saved as."""
        return bool(self.prompt_name) and self.query_one("#template", TextArea).text != (
            self.saved_text
        )

    def _title(self) -> None:
        title = self.query_one("#prompt-title", Label)
        if self.dirty:
            title.update(f"[b yellow]●[/] template {self.base_label} (edited, not saved: ctrl+s)")
        else:
            title.update(f"template {self.base_label} (editing)")

    def _unless_unsaved(self, what: str, then: Any) -> None:
        """Run `then()` now, or after a yes when the edit is not saved."""
        if not self.dirty:
            then()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                then()

        question = f"The edit of {self.base_label} is not saved. {what} and drop it?"
        self.app.push_screen(
            ConfirmScreen(question, yes="Drop the edit", no="Keep editing"), answered
        )

    def action_quit_asking(self) -> None:
        self._unless_unsaved("Quit", lambda: self.run_worker(self.app.action_quit()))

    def action_leave(self, key: str) -> None:
        mode = next((m for m, (k, _) in self.ekt.screen_keys.items() if k == key), None)
        if mode is None or mode == self.app.current_mode:
            return
        label = self.ekt.screen_keys[mode][1]
        self._unless_unsaved(f"Go to {label}", lambda: self.run_worker(self.app.switch_mode(mode)))

    async def _preview_problem(self, name: str) -> dict[str, Any] | None:
        chosen = getattr(self.ekt, "selected_problem_id", None)
        kinds = KINDS.get(name, ALL_KINDS)
        if chosen:
            p = await get_problem(self.ekt.reader, chosen)
            if p is not None and p["kind"] in kinds:
                return p
        return await first_problem_of_kind(self.ekt.reader, kinds)

    @on(Select.Changed, "#prompt-name")
    def _name_changed(self, event: Select.Changed) -> None:
        name = event.value
        if isinstance(name, str) and name != self.prompt_name:

            def load() -> None:
                self.run_worker(self.load_prompt(name), group="prompt-load", exclusive=True)

            def back() -> None:
                with event.select.prevent(Select.Changed):
                    event.select.value = self.prompt_name

            if not self.dirty:
                load()
                return

            def answered(yes: bool | None) -> None:
                load() if yes else back()

            question = f"The edit of {self.base_label} is not saved. Open {name} and drop it?"
            self.app.push_screen(
                ConfirmScreen(question, yes="Drop the edit", no="Keep editing"), answered
            )

    async def refresh_data(self) -> None:
        if not self.prompt_name:
            return
        yields = await prompt_yields(self.ekt.reader, self.prompt_name)
        table = self.query_one("#versions", DataTable)
        cursor = table.cursor_row
        table.clear()
        self.version_ids = []
        for y in yields:
            v = y.version
            self.version_ids.append(v.id)
            self.templates[v.id] = v.template
            self.numbers[v.id] = v.version
            table.add_row(
                f"v{v.version}", v.note[:18], str(y.runs), str(y.candidates),
                _pct(y.pass_rate), _pct(y.gold_coverage), key=str(v.id),
            )  # fmt: skip
        if yields:
            table.move_cursor(row=min(cursor, len(yields) - 1))
        self.update_preview()
        await self._show_try()

    async def _show_try(self) -> None:
        box = self.query_one("#try-results", Static)
        if self.try_run is None:
            box.update(Text("Not tried yet.", style="dim"))
            return
        results = dict(await run_results(self.ekt.reader, self.try_run))
        text = Text()
        for pid in self.try_problems:
            statuses = results.get(pid, [])
            text.append(f"{pid[:30]:<31}")
            if not statuses:
                text.append("waiting for the teacher", style="dim")
            for status in statuses:
                glyph, colour = verdict_glyph(status)
                text.append(glyph, style=f"bold {colour}")
            passed = sum(s == "pass" for s in statuses)
            if statuses:
                text.append(f"  {passed}/{len(statuses)} pass", style="dim")
            text.append("\n")
        sampler = self.ekt.sampler
        busy = sampler.running and sampler.run_name == self.try_run
        text.append(f"run {self.try_run}" + (" — sampling…" if busy else ""), style="dim")
        box.update(text)

    @on(TextArea.Changed, "#template")
    def _template_changed(self) -> None:
        self.update_preview()
        self._title()

    def update_preview(self) -> None:
        text = self.query_one("#template", TextArea).text
        title = self.query_one("#preview-title", Label)
        preview = self.query_one("#preview", Static)
        if self.problem is None:
            title.update("preview: no problem of this prompt's kind in the project")
            preview.update("")
            return
        try:
            rendered = render(text, self.problem)
        except EktError as exc:
            title.update(f"[red]preview: {exc}[/red]")
            return
        tokens = count_tokens(rendered.text, self.ekt.project.config.teacher.model)
        title.update(
            f"preview for {self.problem['id']} — {tokens} tokens, {len(rendered.stop)} stop strings"
        )
        preview.update(rendered.text[-6000:])

    def action_save(self) -> None:
        self.app.push_screen(NotePrompt(f"Save {self.prompt_name} as a new version"), self._save)

    def _save(self, note: str | None) -> None:
        if note is not None:
            self._do_save(note)

    @work(group="prompt-save", exclusive=True, exit_on_error=False)
    async def _do_save(self, note: str, then_try: bool = False) -> None:
        text = self.query_one("#template", TextArea).text
        saved = await save_prompt(
            self.ekt.project.store, self.prompt_name, text, note, self.base_id
        )
        self.base_id = saved.id
        self.saved_text, self.base_label = text, saved.label
        self._title()
        self.notify(f"Saved {saved.label}")
        await self.refresh_data()
        if then_try:
            self._start_try(saved.id)

    def action_load_selected(self) -> None:
        table = self.query_one("#versions", DataTable)
        if not self.version_ids:
            return
        vid = self.version_ids[table.cursor_row]
        label = f"{self.prompt_name} {table.get_row_at(table.cursor_row)[0]}"

        def load() -> None:
            self.base_id = vid
            self.saved_text, self.base_label = self.templates[vid], label
            self.query_one("#template", TextArea).load_text(self.templates[vid])
            self._title()

        self._unless_unsaved(f"Load {label}", load)

    def action_try_five(self) -> None:
        """Sample TRY_N problems with this template and the configured teacher. An edited
        template is saved as a new version first: every run names the exact version it used."""
        if self.ekt.sampler.running:
            self.notify("A sampling run is already in progress", severity="warning")
            return
        text = self.query_one("#template", TextArea).text
        if self.base_id is not None and self.templates.get(self.base_id) == text:
            self._start_try(self.base_id)
            return
        self.app.push_screen(
            NotePrompt(f"Save {self.prompt_name} as a new version to try it", "tried on 5"),
            self._save_then_try,
        )

    def _save_then_try(self, note: str | None) -> None:
        if note is not None:
            self._do_save(note, then_try=True)

    @work(group="prompt-try", exclusive=True, exit_on_error=False)
    async def _start_try(self, version_id: int) -> None:
        kinds = KINDS.get(self.prompt_name, ALL_KINDS)
        first = self.problem["id"] if self.problem else None
        problems = await pick_problems(self.ekt.reader, kinds, first, TRY_N)
        if not problems:
            self.notify("No problem of this prompt's kind to try it on", severity="warning")
            return
        number = self.numbers.get(version_id, version_id)
        name = f"try-{self.prompt_name}-v{number}-{time.strftime('%Y%m%d-%H%M%S')}"
        worker = self.ekt.sampler.start(
            run=name, problems=problems, prompt=f"#{version_id}", verify=True
        )
        if worker is None:
            return
        self.try_run, self.try_problems = name, problems
        self.notify(f"Trying on {len(problems)} problems (run {name})")
        await self._show_try()
