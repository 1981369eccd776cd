"""A demo project whose first math problems have failing verified candidates, and a fake
teacher that answers refine prompts with the right program (and critique prompts in words)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.project import Project
from core.sampling import SampleOptions, sample
from tests.core.sampling.conftest import RIGHT, demo, demo_template, teacher_opts  # noqa: F401
from tests.fake_openai import FakeOpenAIServer, refine_parts

CRITIQUE = "The program returns a constant instead of computing the answer from the question."


def refined(prompt: str, index: int) -> str:
    """Even choices fix the RIGHT problems; odd choices (and other problems) stay wrong."""
    question = refine_parts(prompt)["question"]
    for key, body in RIGHT.items():
        if key in question and index % 2 == 0:
            return f"\ndef solution():{body}[DONE]"
    return "\ndef solution():\n    return -1\n[DONE]"


@pytest.fixture
def server() -> Any:
    with FakeOpenAIServer(
        lambda prompt, index: "\n    return 0\n", refine=refined, critique=CRITIQUE + "\n[END]"
    ) as srv:
        yield srv


def teacher(srv: FakeOpenAIServer, **extra: Any) -> dict[str, Any]:
    return teacher_opts(srv, **extra)


@pytest.fixture
async def failing(demo: Path, server: FakeOpenAIServer) -> AsyncIterator[Project]:  # noqa: F811
    """The demo project after a verified sampling run of 3 math problems × 2 wrong samples."""
    p = await Project.open(demo)
    try:
        await sample(p, SampleOptions(teacher=teacher(server), split="train", limit=3, n=2,
                                      verify=True))  # fmt: skip
        server.clear()
        yield p
    finally:
        await p.close()


def sent(srv: FakeOpenAIServer) -> list[dict[str, Any]]:
    return [r.body for r in srv.completion_requests]
