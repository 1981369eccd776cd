"""The problem itself: question, and what a candidate is checked against."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual.widgets import Static


def problem_renderable(p: dict[str, Any]) -> Group:
    parts: list[Any] = [
        Text(f"{p['id']}  ({p['dataset']} {p['split']}, {p['kind']})", style="bold"),
        Text(p["question"]),
    ]
    if p["kind"] == "answer":
        parts.append(Text.assemble(("expected answer: ", "bold"), (str(p["answer"]), "green")))
    elif p["kind"] == "asserts":
        try:
            tests = json.loads(p["tests"] or "[]")
        except ValueError:
            tests = [p["tests"] or ""]
        code = "\n".join([p.get("setup") or "", *tests]).strip()
        parts += [Text("tests:", style="bold"), Syntax(code, "python", word_wrap=True)]
    else:
        parts += [
            Text("prompt:", style="bold"),
            Syntax(p.get("prompt") or "", "python", word_wrap=True),
            Text("check:", style="bold"),
            Syntax(p.get("tests") or "", "python", word_wrap=True),
        ]
    return Group(*parts)


class ProblemInfo(Static):
    def show(self, problem: dict[str, Any]) -> None:
        self.update(problem_renderable(problem))
