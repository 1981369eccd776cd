"""Model specs resolve without loading anything, and bad specs fail with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import ModelError
from core.models import cached_tokenizer_file, resolve_model


def test_offline_default_is_the_bundled_gguf() -> None:
    ref = resolve_model("smollm2")
    assert ref.kind == "gguf" and ref.path is not None and ref.path.suffix == ".gguf"


def test_folder_with_config_is_a_model(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    (tmp_path / "tokenizer.json").write_text("{}")
    ref = resolve_model(str(tmp_path))
    assert ref.kind == "folder" and ref.path == tmp_path.resolve()
    assert cached_tokenizer_file(str(tmp_path)) == tmp_path.resolve() / "tokenizer.json"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("not-a-model", "unknown model 'not-a-model'"),
        ("missing.gguf", "no such GGUF file"),
    ],
)
def test_unusable_specs_name_the_problem(spec: str, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        resolve_model(spec)


def test_folder_without_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"no config\.json"):
        resolve_model(str(tmp_path))


def test_hub_id_is_classified_without_network() -> None:
    ref = resolve_model("someorg/some-model-that-is-not-cached")
    assert ref.kind == "hub" and ref.path is None
    assert cached_tokenizer_file("someorg/some-model-that-is-not-cached") is None
