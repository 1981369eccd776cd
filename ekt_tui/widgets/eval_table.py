"""The comparison table as a DataTable: a few dozen rows at most, one per evaluated model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from core import Estimate, TableRow


def _cell(est: Estimate | None) -> Text:
    if est is None:
        return Text("—", style="dim", justify="right")
    return Text.assemble(
        (f"{100 * est.value:.1f}", "bold"),
        (f" ±{50 * (est.hi - est.lo):.1f}", "dim"),
        justify="right",
    )


class EvalTable(DataTable[object]):
    """One row per (model, method, teacher, prompt, split); Enter opens that evaluation."""

    @dataclass
    class EvalChosen(Message):
        eval_id: int
        name: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._rows: list[TableRow] = []

    @property
    def current(self) -> TableRow | None:
        if not self._rows or self.cursor_row < 0 or self.cursor_row >= len(self._rows):
            return None
        return self._rows[self.cursor_row]

    def show_rows(self, rows: Sequence[TableRow]) -> None:
        """Replace the rows, keeping the cursor on the same evaluation when it is still there."""
        keep = self.current.eval_id if self.current else None
        self._rows = list(rows)
        ks = sorted({k for r in rows for k in r.pass_at}) or [1]
        self.clear(columns=True)
        self.add_columns("model", "method", "teacher", "prompt", "split")
        self.add_columns(*(f"pass@{k} %" for k in ks))
        self.add_columns("problems", "date", "vs teacher")
        for r in rows:
            versus = Text("")
            if r.teacher_pass1 is not None and r.pass1 is not None:
                delta = 100 * (r.pass1 - r.teacher_pass1)
                versus = Text(
                    f"{'★ ' if r.beats_teacher else ''}{delta:+.1f} pts",
                    style="bold yellow" if r.beats_teacher else "dim",
                )
            self.add_row(
                r.model, r.method, r.teacher or "—", r.prompt, r.split or "—",
                *(_cell(r.pass_at.get(k)) for k in ks),
                Text(str(r.problems), justify="right"), r.date, versus,
                key=str(r.eval_id),
            )  # fmt: skip
        if keep is not None:
            for i, r in enumerate(rows):
                if r.eval_id == keep:
                    self.move_cursor(row=i)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.current
        if row is not None:
            self.post_message(self.EvalChosen(row.eval_id, row.name))
