"""The problem list: every problem with its live counts, one glyph per state, windowed."""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.message import Message
from textual.strip import Strip

from core import ProblemFilter, ProblemRow, ProblemSort, Store, count_problems, list_problems
from core.queries.judgements import has_judgements, problem_judge_scores
from ekt_tui.widgets.windowed_list import WindowedList

STATES = {
    "solved": ("✔", "green"),
    "pending": ("◌", "yellow"),
    "errors": ("!", "magenta"),
    "unsolved": ("✘", "red"),
    "unsampled": ("·", "bright_black"),
}


def problem_state(row: ProblemRow) -> str:
    if row.gold > 0:
        return "solved"
    if row.pending > 0:
        return "pending"
    if row.n == 0:
        return "unsampled"
    if row.errors + row.timeouts + row.other > 0 and row.failed == 0:
        return "errors"
    return "unsolved"


HEADER = (
    f"  {'problem':<24}{'cands':>6}{'pass':>6}{'fail':>6}{'err':>5}{'pend':>6}{'rate':>6}  question"
)
# with judgements in the store (ekt judge) a `judge` column shows each problem's best score
JUDGE_HEADER = HEADER.replace("  question", f"{'judge':>6}  question")


def _cells(row: ProblemRow) -> str:
    rate = f"{row.pass_rate:.0%}" if row.n else "—"
    errs = row.errors + row.timeouts + row.other
    return (
        f"{row.id[:23]:<24}{row.n:>6}{row.passed:>6}{row.failed:>6}{errs:>5}{row.pending:>6}"
        f"{rate:>6}  "
    )


class ProblemList(WindowedList[ProblemRow]):
    """Filter, search and sort are attributes; `reload()` applies them."""

    @dataclass
    class ProblemHighlighted(Message):
        problem_id: str

    @dataclass
    class ProblemSelected(Message):
        problem_id: str

    def __init__(self, store: Store, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.flt = ProblemFilter.ALL
        self.search = ""
        self.sort = ProblemSort.ID
        self.selection: list[str] | None = None  # ids of a stored selection, as a filter
        self.show_judge = False
        self.judge: dict[str, int] = {}

    async def fetch(self, offset: int, limit: int) -> list[ProblemRow]:
        rows = await list_problems(
            self.store, flt=self.flt, search=self.search, sort=self.sort, offset=offset,
            limit=limit, ids=self.selection,
        )  # fmt: skip
        self.show_judge = await has_judgements(self.store)
        if self.show_judge:
            self.judge.update(await problem_judge_scores(self.store, [r.id for r in rows]))
        return rows

    async def count(self) -> int:
        return await count_problems(
            self.store, flt=self.flt, search=self.search, ids=self.selection
        )

    def render_row(self, row: ProblemRow, width: int, selected: bool) -> Strip:
        glyph, colour = STATES[problem_state(row)]
        base = Style(reverse=True) if selected else Style()
        cells = _cells(row)
        if self.show_judge:
            score = self.judge.get(row.id)
            cells = cells[:-2] + f"{score if score is not None else '—':>6}  "
        question = " ".join(row.question.split())
        rest = max(width - 2 - len(cells), 0)
        segments = [
            Segment(f"{glyph} ", base + Style(color=colour, bold=True)),
            Segment(cells, base),
            Segment(question[:rest].ljust(rest), base + Style(dim=not selected)),
        ]
        return Strip(segments).adjust_cell_length(width)

    def row_highlighted(self, row: ProblemRow) -> None:
        self.post_message(self.ProblemHighlighted(row.id))

    def row_selected(self, row: ProblemRow) -> None:
        self.post_message(self.ProblemSelected(row.id))
