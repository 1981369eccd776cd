"""The selected run at a glance: status, progress bar with ETA, loss, lr, tokens/s, dev pass@1.

ETA and speed come from the trainer's own events (not the widget's clock), so what the screen
shows after a restart, or in a snapshot, is exactly what the store says. Only the wait before
the first step is timed against `now`: "loading model… N s" while this start of the trainer
has written nothing (the run's updated_at is then its last status change, the start), then
"first step… N s" from its `start` event until a step is logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from core import format_train_event
from core.train.follow import hms

ACTIVE = ("starting", "running")
ENDS = ("done", "cancelled", "failed", "error")  # the kinds that end one start of the trainer


def waiting(run: dict[str, Any], events: Sequence[dict[str, Any]], now: float) -> str | None:
    """ "loading model… N s" / "first step… N s" for an active run that has not logged a step
    since the trainer (re)started; None otherwise."""
    if run["status"] not in ACTIVE:
        return None
    ends = [i for i, e in enumerate(events) if e["kind"] in ENDS]
    attempt = events[ends[-1] + 1 :] if ends else events
    if any(e["kind"] == "log" and e.get("loss") is not None for e in attempt):
        return None
    starts = [e for e in attempt if e["kind"] == "start"]
    if not starts:
        return f"loading model… {max(0.0, now - float(run['updated_at'])):.0f} s"
    return f"first step… {max(0.0, now - float(starts[-1]['created_at'])):.0f} s"


def summary(
    run: dict[str, Any] | None, events: Sequence[dict[str, Any]], now: float | None = None
) -> tuple[Text, int, int]:
    """(text, step, max_steps) for a run and its events (`now`: time the wait for a step)."""
    if run is None:
        return Text("No training run yet: fill in the form and press Launch.", style="dim"), 0, 0
    logs = [e for e in events if e["kind"] == "log" and e.get("loss") is not None]
    starts = [e for e in events if e["kind"] == "start"]
    max_steps = int((starts[-1]["data"] if starts else {}).get("max_steps") or 0)
    last = logs[-1] if logs else None
    step = int(last["step"]) if last else 0
    evals = [e for e in events if e["kind"] == "eval"]
    text = Text()
    text.append(f"{run['name']}  ", style="bold")
    text.append(run["status"], style="bold green" if run["status"] == "running" else "bold")
    text.append(f"  {run['config'].get('model', '')}\n", style="dim")
    wait = waiting(run, events, now) if now is not None else None
    if wait:
        text.append(wait, style="yellow")
        if last:
            text.append(f"  (last: step {step}/{max_steps or '?'})", style="dim")
    elif last:
        text.append(f"step {step}/{max_steps or '?'}  loss {last['loss']:.4f}")
        if last.get("lr") is not None:
            text.append(f"  lr {last['lr']:.2e}")
        if last.get("tokens_per_s") is not None:
            text.append(f"  {last['tokens_per_s']:,.0f} tok/s")
        if run["status"] in ("running", "starting"):
            text.append(f"  ETA {hms(last.get('eta_s'), '–')}")
    else:
        text.append("waiting for the first step…", style="dim")
    if evals:
        best = max(float(e["data"].get("dev_pass_at_1", 0)) for e in evals)
        text.append(f"  dev pass@1 {100 * float(evals[-1]['data'].get('dev_pass_at_1', 0)):.1f}%")
        text.append(f" (best {100 * best:.1f}%)", style="dim")
    lin = run.get("lineage") or {}
    if lin.get("sft_hash"):
        teacher = lin.get("teacher")
        teacher = " + ".join(teacher) if isinstance(teacher, list) else teacher
        text.append(
            f"\ngold {lin.get('gold_policy')}: {lin.get('sft_examples')} examples of"
            f" {lin.get('sft_problems')} problems · teacher {teacher or '–'}"
            f" · {', '.join(lin.get('prompts') or []) or 'no prompt'}"
            f" · SFT {str(lin['sft_hash'])[:12]}",
            style="dim",
        )
    if run.get("error"):
        text.append(f"\n{run['error']}", style="bold red")
    return text, step, max_steps


class TrainProgress(Vertical):
    DEFAULT_CSS = """
    TrainProgress { height: auto; }
    TrainProgress ProgressBar { padding: 0 0; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="train-summary")
        yield ProgressBar(show_eta=False, id="train-bar")

    def show(
        self, run: dict[str, Any] | None, events: Sequence[dict[str, Any]], now: float
    ) -> None:
        text, step, max_steps = summary(run, events, now)
        self.query_one("#train-summary", Static).update(text)
        bar = self.query_one(ProgressBar)
        bar.update(total=max_steps or None, progress=step)


def log_lines(events: Sequence[dict[str, Any]], tail: int = 200) -> list[str]:
    """The last `tail` events as the CLI prints them."""
    max_steps = None
    lines = []
    for e in events:
        if e["kind"] == "start":
            max_steps = e["data"].get("max_steps")
        line = format_train_event(e, max_steps)
        if line:
            lines.append(line)
    return lines[-tail:]
