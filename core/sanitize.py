"""Text that came from a candidate program, made safe to store and to show.

Candidate programs choose their error messages and output: a lone surrogate ("\\ud800") would
make the SQLite write fail, and escape sequences would let a program repaint the terminal (a
fake green "pass") or reach the clipboard (OSC 52). Stored text goes through `clean_text`,
displayed text through `sanitize_for_terminal` (the CLI and the TUI both use it).
"""

from __future__ import annotations

import re

_ESCAPES = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL/ST (titles, clipboard, hyperlinks)
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"  # DCS / PM / APC / SOS strings
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # CSI (colours, cursor moves, erase)
    r"|\x1b[ -/]*[0-~]"  # other two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """Lone surrogates replaced, so the text encodes as UTF-8 (SQLite, JSON, files)."""
    return text.encode("utf-8", "replace").decode("utf-8")


def sanitize_for_terminal(text: str, *, keep_newlines: bool = True) -> str:
    """Escape sequences removed, other control characters (and bidi overrides) dropped;
    tabs and (unless told otherwise) newlines kept."""
    text = _ESCAPES.sub("", clean_text(text))
    text = _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text if keep_newlines else text.replace("\n", " ")
