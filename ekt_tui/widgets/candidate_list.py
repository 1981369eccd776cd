"""The candidates of one problem with their verdicts, windowed like the problem list."""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.message import Message
from textual.strip import Strip

from core import CandidateRow, Store, count_candidates, list_candidates, sanitize_for_terminal
from ekt_tui.widgets.run_panel import VERDICT_COLOURS
from ekt_tui.widgets.windowed_list import WindowedList


def verdict_glyph(status: str | None, flags: tuple[str, ...] = ()) -> tuple[str, str]:
    """One cell per verdict. A pass flagged `spurious` (it does not compute its answer: not gold
    by default) is ≈; a pass whose tests ran inside the candidate's interpreter (not compared
    outside it, so forgeable) is ✓ rather than ✔."""
    if status is None:
        return "◌", "yellow"
    if status == "pass":
        if "spurious" in flags:
            return "≈", "dark_orange"
        if "untrusted-harness" in flags:
            return "✓", "yellow"
        return "✔", "green"
    if status == "fail":
        return "✘", "red"
    return "!", VERDICT_COLOURS.get(status, "magenta")


def gold_mark(gold: bool, override: int | None, status: str | None) -> tuple[str, str]:
    """✦ (yellow) for gold by its verdict; ◆ (magenta) for gold by a human override of a
    verdict that did not pass, so forced gold never looks like a real pass."""
    if not gold:
        return " ", ""
    if override == 1 and status != "pass":
        return "◆", "magenta"
    return "✦", "yellow"


class CandidateList(WindowedList[CandidateRow]):
    @dataclass
    class CandidateHighlighted(Message):
        candidate_id: int

    def __init__(
        self, store: Store, problem_id: str, *, eval_id: int | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.store = store
        self.problem_id = problem_id
        self.eval_id = eval_id  # set: only that evaluation's samples

    async def fetch(self, offset: int, limit: int) -> list[CandidateRow]:
        return await list_candidates(
            self.store, self.problem_id, offset=offset, limit=limit, eval_id=self.eval_id
        )

    async def count(self) -> int:
        return await count_candidates(self.store, self.problem_id, self.eval_id)

    def render_row(self, row: CandidateRow, width: int, selected: bool) -> Strip:
        glyph, colour = verdict_glyph(row.status, row.flags)
        base = Style(reverse=True) if selected else Style()
        gold, gold_colour = gold_mark(row.gold, row.gold_override, row.status)
        origin = row.source if row.parent_id is None else f"{row.source}←#{row.parent_id}"
        index = f"[{row.sample_index}]" if row.sample_index is not None else ""
        head = f"#{row.id:<6}{origin + index:<16}{row.status or 'pending':<9}"
        rest = max(width - 4 - len(head), 0)
        segments = [
            Segment(f"{glyph}", base + Style(color=colour, bold=True)),
            Segment(f"{gold} ", base + Style(color=gold_colour or "yellow", bold=True)),
            Segment(head, base),
            Segment(
                sanitize_for_terminal(row.detail, keep_newlines=False)[:rest].ljust(rest),
                base + Style(dim=not selected),
            ),
        ]
        return Strip(segments).adjust_cell_length(width)

    def row_highlighted(self, row: CandidateRow) -> None:
        self.post_message(self.CandidateHighlighted(row.id))
