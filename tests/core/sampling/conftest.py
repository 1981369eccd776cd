"""The shipped demo problems in a fresh project, and a fake teacher that solves some of them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.demo import ensure_demo_project
from core.project import Project
from core.sampling import SampleOptions
from tests.fake_openai import FakeOpenAIServer

# Target questions of the first demo math problems (assets/samples/math-train.jsonl) and the
# completion of `def solution():` that answers each right.
RIGHT = {
    "Lena picks 18 apples": "\n    return 18 + 18 * 2 - 15\n",
    "A school bus carries 42": "\n    return 42 - 9 + 5 - 12\n",
}
WRONG = "\n    return 0\n"


def answers(prompt: str, index: int) -> str:
    """Even choices right for the RIGHT problems, everything else wrong."""
    tail = prompt[-400:]  # the target problem, not the exemplars
    for key, text in RIGHT.items():
        if key in tail:
            return text if index % 2 == 0 else WRONG
    return WRONG


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_demo_project(tmp_path_factory.mktemp("demo-template") / "demo")


@pytest.fixture
def demo(tmp_path: Path, demo_template: Path) -> Path:
    """A copy of the demo project (55 problems, three kinds, default prompts seeded)."""
    import shutil

    root = tmp_path / "demo"
    shutil.copytree(demo_template, root)
    return root


@pytest.fixture
def server() -> Any:
    with FakeOpenAIServer(answers) as srv:
        yield srv


def teacher_opts(srv: FakeOpenAIServer, **extra: Any) -> dict[str, Any]:
    return {
        "backend": "openai", "base_url": srv.base_url, "model": "fake", "mode": "completion",
        "max_retries": 0, **extra,
    }  # fmt: skip


def opts(srv: FakeOpenAIServer, teacher: dict[str, Any] | None = None, **kw: Any) -> SampleOptions:
    kw.setdefault("split", "train")
    kw.setdefault("verify", False)
    return SampleOptions(teacher=teacher_opts(srv, **(teacher or {})), **kw)


@pytest.fixture
async def project(demo: Path) -> AsyncIterator[Project]:
    p = await Project.open(demo)
    try:
        yield p
    finally:
        await p.close()


def target(prompt: str) -> str:
    """The target question inside a recorded prompt (its last 'Q:'-style block)."""
    return prompt[-400:]


def received(srv: FakeOpenAIServer) -> list[dict[str, Any]]:
    return [r.body for r in srv.completion_requests]


def dump(rows: Any) -> str:
    return json.dumps([dict(r) for r in rows], default=str)
