"""Tokens arriving from the teacher, one block per request in flight (tails only)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import Static

from ekt_tui.live import StreamState

STATE_STYLE = {"streaming": "cyan", "done": "green", "failed": "red", "retrying": "yellow"}


def _flat(text: str) -> str:
    """One line: newlines shown as ↵, runs of blanks as one space."""
    return " ".join(text.replace("\n", " ↵ ").split())


class TeacherStream(Static):
    """Requests in flight, then finished ones; each choice as the tail of its text."""

    def show(self, streams: Iterable[StreamState], width: int, max_lines: int) -> None:
        text = Text()
        lines = 0
        # Requests in flight first, then finished ones; newest first in each (a stable order:
        # blocks do not jump around as tokens arrive).
        items = sorted(streams, key=lambda s: (s.state in ("done", "failed"), -s.request_id))
        if not items:
            self.update(Text("No requests in flight.", style="dim"))
            return
        for s in items:
            if lines >= max_lines:
                break
            text.append(f"#{s.request_id} ", style="bold")
            text.append(f"{s.problem_id} ", style="bold")
            text.append(s.state, style=STATE_STYLE.get(s.state, ""))
            text.append(f"  {s.tokens} chunks  {s.note}\n", style="dim")
            lines += 1
            for choice in sorted(s.choices)[:4]:
                if lines >= max_lines:
                    break
                tail = _flat(s.choices[choice])[-max(width - 8, 10) :]
                text.append(f"  [{choice}] ", style="dim")
                text.append(tail + "\n")
                lines += 1
        text.rstrip()
        self.update(text)
