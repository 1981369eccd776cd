"""One evaluation's samples, per problem: the way from a pass@k figure to the programs behind it.

Choosing a problem opens the same inspector as teacher candidates, limited to this evaluation's
samples (edit, diff and gold work the same there).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Label

from core import EvalProblemRow, eval_problems
from ekt_tui.screens.base import LiveScreen
from ekt_tui.widgets.key_bar import KeyBar


class EvalSamplesScreen(LiveScreen):
    HELP_TITLE = "Evaluation samples"
    CSS_PATH = "evaluation.tcss"
    AUTO_FOCUS = "DataTable"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Inspect", show=True),
    ]
    COMMANDS_LIST = [
        ("Evaluation samples: inspect the selected problem's samples", "enter", "open"),
        ("Back to the evaluation table", "escape", "back"),
    ]

    def __init__(self, eval_id: int, name: str) -> None:
        super().__init__()
        self.eval_id = eval_id
        self.eval_name = name
        self.rows: list[EvalProblemRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="eval-samples-title")
        yield DataTable(id="eval-samples", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = f"evaluation {self.eval_name}"
        table = self.query_one(DataTable)
        table.add_columns("problem", "samples", "pass", "c/n", "a failing verdict")

    async def refresh_data(self) -> None:
        rows = await eval_problems(self.ekt.reader, self.eval_id)
        if rows == self.rows:
            return
        self.rows = rows
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for r in rows:
            mark = "[green]✔[/]" if r.passed else "[red]✘[/]"
            table.add_row(
                r.problem_id, r.samples, f"{mark} {r.passed}", f"{r.passed}/{r.samples}",
                r.first_detail[:80], key=r.problem_id,
            )  # fmt: skip
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))
        solved = sum(r.passed > 0 for r in rows)
        self.query_one("#eval-samples-title", Label).update(
            f"{self.eval_name}: {len(rows)} problems, {solved} with a passing sample"
            " — enter inspects a problem's samples"
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.ekt.open_problem(str(event.row_key.value), eval_id=self.eval_id)

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if 0 <= table.cursor_row < len(self.rows):
            self.ekt.open_problem(self.rows[table.cursor_row].problem_id, eval_id=self.eval_id)

    def action_back(self) -> None:
        self.app.pop_screen()
