"""A project with gold (tests/core/train's toy project) and the tiny random model as embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.train.conftest import make_gold_project
from tests.tiny_model import make_tiny_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture
def gold_project(tmp_path: Path) -> Path:
    return make_gold_project(tmp_path / "proj")
