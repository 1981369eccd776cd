"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_openai import FakeOpenAIServer, fake_openai_fixture


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    """A FakeOpenAIServer on 127.0.0.1 for one test (see tests/fake_openai.py)."""
    yield from fake_openai_fixture()
