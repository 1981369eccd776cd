"""Problems: every problem with live counts; filter, search, sort; Enter opens the inspector."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Input, Label

from core import ProblemFilter, ProblemSort
from ekt_tui.screens.base import LiveScreen
from ekt_tui.screens.selection_dialog import SelectionDialog
from ekt_tui.widgets.key_bar import KeyBar
from ekt_tui.widgets.problem_list import HEADER, JUDGE_HEADER, STATES, ProblemList

FILTERS = list(ProblemFilter)
SORTS = list(ProblemSort)


class ProblemsScreen(LiveScreen):
    HELP_TITLE = "Problems"
    AUTO_FOCUS = "ProblemList"
    BINDINGS = [
        Binding("f", "cycle_filter", "Filter"),
        Binding("o", "cycle_sort", "Sort"),
        Binding("slash", "search", "Search"),
        Binding("escape", "clear_search", "Clear search", show=False),
        Binding("k", "diverse_selection", "Diverse K", show=False),
        Binding("K", "clear_selection", "All problems", show=False),
    ]
    COMMANDS_LIST = [
        ("Problems: next filter", "all → solved → unsolved → pending → unsampled → errors (f)",
         "cycle_filter"),
        ("Problems: next sort order", "id → pass rate ↑ → pass rate ↓ → judge ↓ (o)", "cycle_sort"),
        ("Problems: search by id or text", "/", "search"),
        ("Problems: diverse selection", "K problems by k-center over embeddings (k)",
         "diverse_selection"),
        ("Problems: clear the selection", "every problem again (K)", "clear_selection"),
        *[(f"Problems: show {f.value}", "filter", f"set_filter('{f.value}')") for f in FILTERS],
    ]  # fmt: skip

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="search id or text (/)", id="problem-search")
        yield Label("", id="problem-status")
        yield Label(HEADER, id="problem-header")
        yield ProblemList(self.ekt.reader, id="problem-list")
        legend = "  ".join(f"[{c}]{g}[/] {name}" for name, (g, c) in STATES.items())
        yield Label(legend, id="problem-legend")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(ProblemList).focus()

    @property
    def plist(self) -> ProblemList:
        return self.query_one(ProblemList)

    selection_text = ""  # "selection NAME: radius r vs random r0" while one filters the list

    async def refresh_data(self) -> None:
        await self.plist.reload()
        self._status()

    def _status(self) -> None:
        pl = self.plist
        search = f"  search: {pl.search!r}" if pl.search else ""
        chosen = f"  {self.selection_text}" if pl.selection is not None else ""
        self.query_one("#problem-status", Label).update(
            f"[b]{pl.total:,}[/b] problems  filter: [b]{pl.flt.value}[/b]"
            f"  sort: [b]{pl.sort.value}[/b]{search}{chosen}"
        )
        self.query_one("#problem-header", Label).update(JUDGE_HEADER if pl.show_judge else HEADER)

    def action_diverse_selection(self) -> None:
        def chosen(answer: dict[str, Any] | None) -> None:
            if answer:
                self._select(answer)

        self.app.push_screen(SelectionDialog(), chosen)

    @work(group="problems-select", exclusive=True, exit_on_error=False)
    async def _select(self, answer: dict[str, Any]) -> None:
        from core.select import make_selection, selection_problems

        self.notify(f"selecting {answer['k']} by {answer['by']} (embedding…)")
        store = self.ekt.project.store
        sel = await make_selection(
            store, k=answer["k"], by=answer["by"], embedder=answer["embedder"]
        )
        self.plist.selection = await selection_problems(store, sel.name)
        self.selection_text = (
            f"selection: [b]{sel.name}[/b] radius {sel.radius:.3f} vs random"
            f" {sel.random_radius:.3f}"
        )
        await self._apply()

    async def action_clear_selection(self) -> None:
        self.plist.selection = None
        await self._apply()

    async def _apply(self) -> None:
        self.plist.cursor = 0
        self.plist.scroll_to(0, 0, animate=False, immediate=True)
        await self.refresh_data()

    async def action_cycle_filter(self) -> None:
        self.plist.flt = FILTERS[(FILTERS.index(self.plist.flt) + 1) % len(FILTERS)]
        await self._apply()

    async def action_set_filter(self, value: str) -> None:
        self.plist.flt = ProblemFilter(value)
        await self._apply()

    async def action_cycle_sort(self) -> None:
        self.plist.sort = SORTS[(SORTS.index(self.plist.sort) + 1) % len(SORTS)]
        await self._apply()

    def action_search(self) -> None:
        self.query_one("#problem-search", Input).focus()

    async def action_clear_search(self) -> None:
        box = self.query_one("#problem-search", Input)
        if box.value:
            box.value = ""
        self.plist.focus()

    @on(Input.Changed, "#problem-search")
    async def _search_changed(self, event: Input.Changed) -> None:
        self.plist.search = event.value.strip()
        await self._apply()

    @on(Input.Submitted, "#problem-search")
    def _search_done(self) -> None:
        self.plist.focus()

    @on(ProblemList.ProblemHighlighted)
    def _highlighted(self, event: ProblemList.ProblemHighlighted) -> None:
        self.ekt.selected_problem_id = event.problem_id

    @on(ProblemList.ProblemSelected)
    def _open(self, event: ProblemList.ProblemSelected) -> None:
        self.ekt.open_problem(event.problem_id)
