"""The list of training runs (newest first): name, status, progress, last loss."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from textual.message import Message
from textual.widgets import DataTable

STATUS_STYLE = {
    "running": "bold green",
    "starting": "green",
    "done": "cyan",
    "cancelled": "yellow",
    "failed": "bold red",
}


class TrainRunsTable(DataTable[Any]):
    """One row per run; highlighting a row selects the run shown beside it."""

    @dataclass
    class RunHighlighted(Message):
        run_id: int

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        # fixed widths: auto-sized headers can render from a stale cache (a flaky snapshot)
        for label, width in (("run", 16), ("status", 10), ("step", 9), ("loss", 8)):
            self.add_column(label, width=width)

    def show_runs(self, runs: Sequence[dict[str, Any]], selected: int | None) -> None:
        from rich.text import Text

        self.clear()
        for r in runs:
            total = r.get("max_steps") or "?"
            loss = f"{r['loss']:.4f}" if r.get("loss") is not None else "–"
            status = Text(r["status"], style=STATUS_STYLE.get(r["status"], ""))
            self.add_row(r["name"], status, f"{r.get('step') or 0}/{total}", loss,
                         key=str(r["id"]))  # fmt: skip
        if selected is not None:
            for i, r in enumerate(runs):
                if r["id"] == selected:
                    self.move_cursor(row=i, animate=False)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key is not None and event.row_key.value is not None:
            self.post_message(self.RunHighlighted(int(event.row_key.value)))
