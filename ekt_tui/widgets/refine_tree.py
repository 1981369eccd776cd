"""A candidate's language feedback and its refinement tree (parent → refinements, each with
its verdict glyph), under the verdict in the inspector. Hidden while there is neither."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from core import FeedbackRow, RefinementNode
from ekt_tui.widgets.candidate_list import verdict_glyph

MAX_FEEDBACK_CHARS = 300


def refine_tree_text(
    feedback: Sequence[FeedbackRow], tree: Sequence[RefinementNode], fixed: tuple[int, int]
) -> Text:
    out = Text()
    if feedback:
        out.append("feedback\n", style="bold")
        for f in feedback:
            text = " ".join(f.text.split())
            if len(text) > MAX_FEEDBACK_CHARS:
                text = text[: MAX_FEEDBACK_CHARS - 1] + "…"
            out.append(f"  #{f.id} {f.author}: ", style="cyan")
            out.append(text + "\n")
    if len(tree) > 1:
        out.append("refinements\n", style="bold")
        for node in tree:
            glyph, colour = verdict_glyph(node.status)
            indent = "  " * node.depth
            out.append(f"  {indent}{'└ ' if node.depth else ''}")
            out.append(glyph, style=colour)
            out.append(f" #{node.id} {node.status or 'pending'}")
            if node.gold:
                out.append(" ✦", style="yellow")
            if node.feedback_author:
                out.append(f"  ← {node.feedback_author} #{node.feedback_id}", style="dim")
            out.append("\n")
    done, refined = fixed
    if refined:
        out.append(f"project: {done} of {refined} refined candidates fixed", style="dim")
    return out


class RefineTree(Static):
    def show(
        self,
        feedback: Sequence[FeedbackRow],
        tree: Sequence[RefinementNode],
        fixed: tuple[int, int] = (0, 0),
    ) -> None:
        self.display = bool(feedback) or len(tree) > 1
        self.update(refine_tree_text(feedback, tree, fixed) if self.display else "")
