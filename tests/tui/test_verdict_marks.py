"""What the inspector shows of a verdict's flags, and that candidate-written text cannot paint
the terminal (escape sequences and control characters are stripped before display)."""

from __future__ import annotations

from rich.console import Console

from ekt_tui.widgets.candidate_list import verdict_glyph
from ekt_tui.widgets.verdict_view import verdict_renderable


def test_spurious_and_untrusted_passes_have_their_own_glyphs() -> None:
    assert verdict_glyph("pass")[0] == "✔"
    assert verdict_glyph("pass", ("spurious",))[0] == "≈"
    assert verdict_glyph("pass", ("untrusted-harness",))[0] == "✓"
    assert verdict_glyph("fail", ("untrusted-harness",))[0] == "✘"


def _text(candidate: dict) -> str:
    console = Console(width=120, record=True, color_system=None)
    console.print(verdict_renderable(candidate))
    return console.export_text()


def test_flags_are_spelled_out_in_the_verdict_view() -> None:
    text = _text({"v_status": "pass", "v_flags": ("spurious", "untrusted-harness")})
    assert "spurious: does not compute its answer" in text
    assert "tests ran inside the candidate" in text


def test_escape_sequences_in_candidate_text_never_reach_the_terminal() -> None:
    hostile = "\x1b[2K\x1b[1G\x1b[32m✔ pass\x1b[0m\x1b]52;c;ZWNobyBoaQ==\x07"
    c = {
        "v_status": "error",
        "v_detail": hostile,
        "v_error_type": "ValueError",
        "v_error_message": hostile,
        "v_output": hostile + "\r\x08",
        "v_returned": hostile,
    }
    rendered = _text(c)
    assert "\x1b" not in rendered and "\x07" not in rendered and "\x08" not in rendered
    assert "52;c" not in rendered
