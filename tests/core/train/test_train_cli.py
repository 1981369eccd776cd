"""`ekt train`, `ekt train list`, `ekt train cancel`: real subprocess runs, one-line errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.cli import cli
from core.store import connect_sync
from tests.core.train.conftest import wait_status


def ekt(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-p", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def test_follow_a_run_then_list_it(gold_project: Path, tiny_model: Path) -> None:
    flags = ["--max-steps", "2", "--batch-size", "4", "--max-length", "64", "--name", "cli-run"]
    code, out, err = ekt(gold_project, "train", "--student", str(tiny_model), *flags)
    assert code == 0, err
    assert "started: step 0 of 2, 12 examples" in out
    assert "step 2/2  loss " in out and "tok/s" in out
    assert "training run cli-run done" in out and "cli-run/train.log" in err
    code, out, _ = ekt(gold_project, "train", "list", "--json")
    runs = json.loads(out)
    assert code == 0 and [(r["name"], r["status"], r["step"]) for r in runs] == [
        ("cli-run", "done", 2)
    ]
    assert runs[0]["config"]["batch_size"] == 4 and runs[0]["checkpoints"] == 1
    code, out, _ = ekt(gold_project, "train", "list")
    assert "cli-run" in out and "done" in out and "1 ckpt" in out


def test_ekt_toml_student_section_is_the_default(gold_project: Path, tiny_model: Path) -> None:
    toml = gold_project / "ekt.toml"
    head, student = toml.read_text().split("[student]\n", 1)
    student = student.replace('model = "smollm2"', f'model = "{tiny_model}"', 1)
    student = student.replace("max_steps = -1", "max_steps = 1")
    toml.write_text(
        head + "[student]\n" + student.replace('gold_policy = ""', 'gold_policy = "first"')
    )
    code, out, err = ekt(gold_project, "train", "--detach", "--max-length", "64")
    assert code == 0, err
    assert out.strip() == "sft-1"
    runs = json.loads(ekt(gold_project, "train", "list", "--json")[1])
    wait_status(gold_project / "ekt.db", runs[0]["id"], ("done",))
    config = json.loads(ekt(gold_project, "train", "list", "--json")[1])[0]["config"]
    assert (config["max_steps"], config["gold_policy"]) == (1, "first")
    assert config["model"] == str(tiny_model)
    assert config["max_length"] == 64


def test_bad_input_is_one_line_and_non_zero(gold_project: Path, tiny_model: Path) -> None:
    code, _, err = ekt(gold_project, "train", "--student", "no-such-model")
    assert code == 1 and err.startswith("ekt: error: unknown model 'no-such-model'")
    assert len(err.strip().splitlines()) == 1
    code, _, err = ekt(gold_project, "train", "--student", str(tiny_model), "--batch-size", "0")
    assert code == 1 and "--batch-size 0" in err
    code, _, err = ekt(gold_project, "train", "cancel", "nope")
    assert code == 1 and "no training run named 'nope'" in err
    code, _, err = ekt(gold_project, "train", "--resume", "x", "--lr", "1")
    assert code == 1 and "give no other option" in err
    code, out, _ = ekt(gold_project, "train", "list")
    assert code == 0 and "no training runs yet" in out


def test_cancel_then_resume_from_the_cli(
    gold_project: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EKT_TRAIN_STEP_DELAY", "0.3")
    flags = ["--max-steps", "12", "--batch-size", "2", "--max-length", "64", "--name", "r"]
    code, out, err = ekt(gold_project, "train", "--student", str(tiny_model), "--detach", *flags)
    assert code == 0, err
    conn = connect_sync(gold_project / "ekt.db", readonly=True)
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline
        and not conn.execute("SELECT 1 FROM train_events WHERE kind = 'log'").fetchone()
    ):
        time.sleep(0.05)
    conn.close()
    code, out, _ = ekt(gold_project, "train", "cancel", "r")
    assert code == 0 and "sent SIGTERM to run r" in out
    wait_status(gold_project / "ekt.db", 1, ("cancelled",))
    monkeypatch.delenv("EKT_TRAIN_STEP_DELAY")
    code, out, err = ekt(gold_project, "train", "--resume", "r")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("resumed at step ") and "of 12" in lines[0]  # no history replay
    assert "step 12/12  loss" in out and lines[-1].startswith("training run r done")
