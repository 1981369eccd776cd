"""The demo project's teacher is the bundled Qwen2.5-Coder; an old SmolLM2 demo is switched."""

from __future__ import annotations

from pathlib import Path

from core.config import load_config
from core.demo import STAMP, ensure_demo_project
from core.models import DEFAULT_MODEL, DEFAULT_TEACHER


def test_demo_teacher_is_the_bundled_coder_and_old_demos_follow(tmp_path: Path) -> None:
    root = ensure_demo_project(tmp_path / "demo")
    config = load_config(root / "ekt.toml")
    assert config.teacher.backend == "local" and config.teacher.model == DEFAULT_TEACHER
    assert config.student.model == DEFAULT_MODEL  # SmolLM2 stays the student

    toml = root / "ekt.toml"  # a demo from before: SmolLM2 as teacher, a user's own comment
    text = toml.read_text().replace(f'model = "{DEFAULT_TEACHER}"', 'model = "smollm2"', 1)
    toml.write_text(text + "# my note\n")
    (root / STAMP).write_text("older\n")
    ensure_demo_project(root)
    config = load_config(toml)
    assert config.teacher.model == DEFAULT_TEACHER and config.student.model == DEFAULT_MODEL
    assert toml.read_text().endswith("# my note\n")

    custom = toml.read_text().replace(f'model = "{DEFAULT_TEACHER}"', 'model = "./mine"', 1)
    toml.write_text(custom)  # a teacher the user chose is theirs
    (root / STAMP).write_text("older\n")
    ensure_demo_project(root)
    assert load_config(toml).teacher.model == "./mine"
