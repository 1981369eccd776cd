"""A verdict in full: status, returned vs expected, the failing assert, the trace, timing."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual.widgets import Static

from core import sanitize_for_terminal
from ekt_tui.widgets.candidate_list import verdict_glyph

MAX_TRACE = 4000


def _clean(text: str) -> str:
    """Candidate-written text without escape sequences or control characters (no fake lines,
    no clipboard writes through OSC 52)."""
    return sanitize_for_terminal(text)


def verdict_renderable(c: dict[str, Any]) -> Group:
    """`c` is a candidate row with `v_`-prefixed verdict columns (core.get_candidate)."""
    status = c.get("v_status")
    flags = tuple(c.get("v_flags") or ())
    glyph, colour = verdict_glyph(status, flags)
    head = Text()
    head.append(f"{glyph} {status or 'pending'}", style=f"bold {colour}")
    if "spurious" in flags:
        head.append("  ≈ spurious: does not compute its answer", style="bold dark_orange")
    if "untrusted-harness" in flags:
        head.append("  ✓ tests ran inside the candidate (forgeable)", style="yellow")
    if c.get("gold_override") == 1 and status != "pass":
        head.append("  ◆ gold by override (the verdict did not pass)", style="bold magenta")
    elif c.get("gold_override") is not None:
        head.append(f"  gold override: {'on' if c['gold_override'] else 'off'}", style="yellow")
    if status is None:
        head.append("  not verified yet", style="dim")
        return Group(head)
    if c.get("v_duration_s") is not None:
        head.append(f"  {c['v_duration_s'] * 1000:.0f} ms", style="dim")
    if c.get("v_total"):
        head.append(f"  {c.get('v_passed') or 0}/{c['v_total']} checks passed")
    parts: list[Any] = [head]
    if c.get("v_detail"):
        parts.append(Text(_clean(c["v_detail"])))
    if c.get("v_returned") is not None or c.get("v_expected") is not None:
        t = Text()
        if c.get("v_returned") is not None:
            t.append("returned ", style="bold")
            t.append(_clean(str(c["v_returned"])), style="red" if status != "pass" else "green")
            t.append("   ")
        t.append("expected ", style="bold")
        t.append(_clean(str(c.get("v_expected"))))
        parts.append(t)
    error = _clean(f"{c.get('v_error_type') or ''}: {c.get('v_error_message') or ''}")
    if c.get("v_error_type") and error != _clean(c.get("v_detail") or ""):
        parts.append(Text(error, style="red"))
    if c.get("v_trace"):
        parts.append(Syntax(_clean(c["v_trace"][-MAX_TRACE:]), "pytb", word_wrap=True))
    if c.get("v_output"):
        parts.append(Text("output:", style="bold"))
        parts.append(Text(_clean(c["v_output"][-MAX_TRACE:]), style="dim"))
    if c.get("judge") is not None:
        parts.append(judge_text(c["judge"]))
    return Group(*parts)


def judge_text(j: Any) -> Text:
    """The judge's score and reason (core.queries.Judgement); an unparsable reply as it came."""
    t = Text()
    if j.score is None:
        t.append("judge: reply did not parse  ", style="bold yellow")
        t.append(" ".join(j.raw.split())[:200], style="dim")
        return t
    colour = "green" if j.score >= 7 else "yellow" if j.score >= 4 else "red"
    t.append(f"judge {j.score}/10", style=f"bold {colour}")
    t.append(f"  {j.reason}")
    return t


class VerdictView(Static):
    def show(self, candidate: dict[str, Any] | None) -> None:
        if candidate is None:
            self.update(Text("No candidate selected.", style="dim"))
        else:
            self.update(verdict_renderable(candidate))
