"""Running evaluations, whoever runs them (this TUI or an `ekt eval` elsewhere), read from the
store: problems done/total, samples (verified), elapsed, or "loading model… N s" until the
first samples of this start are written. Hidden while nothing runs."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from rich.text import Text
from textual.widgets import DataTable

from core.queries.evals import RunningEval
from core.train.follow import hms


def state_text(ev: RunningEval, now: float) -> Text:
    """What the run is doing: waiting for its model/teacher, or generating and verifying."""
    elapsed = max(0.0, now - ev.started_at)
    if ev.new_samples == 0:
        what = "waiting for the teacher" if ev.method == "teacher" else "loading model"
        return Text(f"{what}… {elapsed:.0f} s", style="yellow")
    return Text(f"evaluating · {hms(elapsed, '–')}", style="green")


class EvalRunningTable(DataTable[Text | str]):
    """One row per running evaluation; `here` marks the ones this TUI runs (it can cancel them)."""

    DEFAULT_CSS = """
    EvalRunningTable { height: auto; max-height: 8; }
    """

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self._add_columns()
        self.display = self.row_count > 0

    def _add_columns(self) -> None:
        """Fixed widths (a snapshot does not depend on auto-sizing); also called by `show`:
        the screen's first refresh may come before on_mount."""
        if self.columns:
            return
        self._ids: list[int] = []
        self._column_keys = [
            self.add_column(label, width=width)
            for label, width in (("running evaluation", 52), ("model", 22), ("problems", 9),
                                 ("samples", 8), ("verified", 8), ("state", 22),
                                 ("where", 9))
        ]  # fmt: skip

    def show(self, running: Sequence[RunningEval], now: float, here: Collection[int]) -> None:
        """Update in place when the same runs are listed (the 1 s tick of the elapsed time
        keeps the cursor), else rebuild."""
        self._add_columns()
        rows = {
            ev.id: (
                ev.name, ev.model, f"{ev.problems_done}/{ev.problems or '?'}", str(ev.samples),
                str(ev.verified), state_text(ev, now), "this TUI" if ev.id in here else "elsewhere",
            )
            for ev in running
        }  # fmt: skip
        if list(rows) == self._ids:
            for eval_id, cells in rows.items():
                for column, cell in zip(self._column_keys, cells, strict=True):
                    self.update_cell(str(eval_id), column, cell)
            return
        self._ids = list(rows)
        self.clear()
        for eval_id, cells in rows.items():
            self.add_row(*cells, key=str(eval_id))
        self.display = bool(rows)

    @property
    def selected_id(self) -> int | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return None if key is None else int(key)
