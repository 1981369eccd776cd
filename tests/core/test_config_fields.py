"""One field table: every surface that names a config field is derived from core/config.py.

A field declared once in a section shows up in the `ekt` flags, the option objects, the TOML
`ekt init` writes and the README reference; a test-only subclass with an extra [student] field
proves none of them has its own copy. (The TUI forms: tests/tui/test_config_field_forms.py.)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import Field

import core.config
from core.cli import cli
from core.config import (
    ProjectConfig,
    StudentSection,
    TeacherSection,
    reference_markdown,
    render_default_toml,
    section_errors,
    section_fields,
)
from core.errors import ConfigError, TrainError
from core.sampling import SampleOptions
from core.sampling.options import effective_sections
from core.train import TrainOptions, resolve_options

README = Path(__file__).resolve().parents[2] / "README.md"


def _help(*command: str) -> str:
    result = CliRunner().invoke(cli, [*command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def test_readme_reference_is_the_generated_one() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- config-reference:start -->\n") + len(
        "<!-- config-reference:start -->\n"
    )
    end = text.index("<!-- config-reference:end -->")
    assert text[start:end] == reference_markdown(), (
        "README config reference is stale: regenerate it with core.config.reference_markdown()"
    )


@pytest.mark.parametrize(("section", "command"), [("student", "train"), ("sampling", "sample"),
                                                  ("teacher", "sample")])  # fmt: skip
def test_every_field_is_a_flag_a_toml_line_and_a_readme_row(section: str, command: str) -> None:
    help_text = _help(command)
    toml = render_default_toml()
    table = reference_markdown().split(f"**[{section}]**")[1].split("**[")[0]
    for spec in section_fields(section):
        flag = f"{spec.flag} / --no-{spec.flag[2:]}" if spec.kind is bool else spec.flag
        assert f"  {flag} " in help_text, (section, spec.name)
        assert spec.description.split("(")[0].strip() in " ".join(help_text.split()), spec.name
        assert f"{spec.name} =" in toml.split(f"[{section}]")[1].split("\n[")[0], spec.name
        assert f"| `{spec.name}` |" in table, spec.name


def test_help_shows_bounds_and_choices() -> None:
    text = _help("train")
    assert "--batch-size INTEGER" in text and "[x>=1]" in text
    assert "--report-to [none|tensorboard|wandb]" in text
    assert "--student MODEL" in text and "--output DIR" in text
    sample = _help("sample")
    assert "[1<=x<=1024]" in sample and "--prompt VERSION" in sample
    assert "--teacher [local|openai]" in sample


def test_train_errors_name_the_flag_and_the_expectation() -> None:
    with pytest.raises(TrainError) as bad:
        resolve_options(ProjectConfig(), TrainOptions(batch_size=0, student="m"))
    assert str(bad.value) == (
        "bad training option: --batch-size 0: input should be greater than or equal to 1"
    )
    with pytest.raises(TrainError, match="--report-to 'csv': expected 'none'"):
        resolve_options(ProjectConfig(), TrainOptions(report_to="csv"))
    with pytest.raises(TrainError, match="--no-such 1: no such option"):
        resolve_options(ProjectConfig(), TrainOptions(no_such=1))
    section = resolve_options(ProjectConfig(), TrainOptions(student="m", lr=1e-4))
    assert (section.model, section.lr, section.gold_policy, section.max_per_problem) == (
        "m", 1e-4, "all-distinct", 4,
    )  # fmt: skip


def test_sample_options_are_overrides_of_the_sections() -> None:
    options = SampleOptions(n=3, verify=False, teacher={"mode": "chat", "model": None})
    assert (options.n, options.verify, options.temperature) == (3, False, None)
    teacher, sampling = effective_sections(ProjectConfig(), options)
    default_model = TeacherSection().model  # a None override keeps the section's value
    assert (teacher.mode, teacher.model, sampling.n, sampling.verify) == (
        "chat", default_model, 3, False,
    )  # fmt: skip
    with pytest.raises(TypeError, match="no sampling field nn"):
        SampleOptions(nn=3)
    with pytest.raises(ConfigError) as bad:
        effective_sections(ProjectConfig(), SampleOptions(n=0))
    assert "[sampling] n = 0: input should be greater than or equal to 1" in str(bad.value)


def test_cli_list_and_flag_pair_fields_reach_the_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[SampleOptions] = []

    async def fake_dry_run(project: object, options: SampleOptions) -> object:
        seen.append(options)
        raise ConfigError("stop here")

    monkeypatch.setattr("core.sampling.dry_run", fake_dry_run)
    root = tmp_path / "p"
    assert CliRunner().invoke(cli, ["init", str(root)]).exit_code == 0
    args = ["sample", "--dry-run", "--stop", "\n\n", "--stop", "END", "--no-verify", "--seed", "7",
            "--teacher", "openai", "--timeout-s", "3", "--n", "2"]  # fmt: skip
    result = CliRunner().invoke(cli, ["-p", str(root), *args])
    assert result.exit_code == 1 and "stop here" in result.stderr
    (options,) = seen
    assert options.sampling == {"n": 2, "stop": ["\n\n", "END"], "seed": 7, "verify": False}
    assert options.teacher == {"backend": "openai", "timeout_s": 3.0}
    assert options.n == 2 and options.top_p is None


def test_section_errors_name_each_bad_field() -> None:
    errors = section_errors(core.config.SamplingSection, {"n": 0, "top_p": 0, "nope": 1})
    assert set(errors) == {"n", "top_p", "nope"} and errors["nope"] == "no such field"
    assert section_errors(core.config.SamplingSection, {"n": 2}) == {}


class _Student(StudentSection):
    label_smoothing: float = Field(
        0.0, ge=0, le=1, title="smoothing", description="Label smoothing of the SFT loss."
    )


class _Config(ProjectConfig):
    student: _Student = Field(default_factory=_Student)


@pytest.fixture
def extra_field(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """[student] gains a field, declared only in the section; `ekt train` is re-derived."""
    import core.cli.train_cmds as train_cmds

    monkeypatch.setattr(core.config, "ProjectConfig", _Config)
    importlib.reload(train_cmds)
    try:
        yield
    finally:
        monkeypatch.undo()
        importlib.reload(train_cmds)


def test_a_new_student_field_appears_everywhere_without_touching_them(extra_field: None) -> None:
    assert "--label-smoothing FLOAT" in _help("train")
    assert "Label smoothing of the SFT loss.  [0<=x<=1]" in _help("train")
    toml = render_default_toml(_Config())
    assert "# Label smoothing of the SFT loss. [0<=x<=1]\nlabel_smoothing = 0.0" in toml
    assert "| `label_smoothing` | `0.0` | `0<=x<=1` | Label smoothing of the SFT loss. |" in (
        reference_markdown(_Config)
    )
    section = resolve_options(_Config(), TrainOptions(label_smoothing=0.1))
    assert section.label_smoothing == 0.1  # type: ignore[attr-defined]
    with pytest.raises(TrainError, match=r"--label-smoothing 2\.0: input should be less than"):
        resolve_options(_Config(), TrainOptions(label_smoothing=2.0))


def test_the_extra_field_is_gone_again_after_the_fixture() -> None:
    assert "--label-smoothing" not in _help("train")
