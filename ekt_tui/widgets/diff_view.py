"""A unified diff between a candidate and its parent, syntax coloured."""

from __future__ import annotations

import difflib

from rich.syntax import Syntax
from rich.text import Text
from textual.widgets import Static


def unified(parent: str, child: str, parent_label: str, child_label: str) -> str:
    return "".join(
        difflib.unified_diff(
            parent.splitlines(keepends=True),
            child.splitlines(keepends=True),
            fromfile=parent_label,
            tofile=child_label,
        )
    )


class DiffView(Static):
    def show(self, parent: str, child: str, parent_label: str, child_label: str) -> None:
        diff = unified(parent, child, parent_label, child_label)
        if not diff:
            self.update(Text("No difference from the parent.", style="dim"))
        else:
            self.update(Syntax(diff, "diff", word_wrap=True))
