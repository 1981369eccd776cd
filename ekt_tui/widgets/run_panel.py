"""The numbers of one sampling run: progress, verdicts, gold coverage, tokens, cost, ETA."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ekt_tui.runs import RunStats

VERDICT_COLOURS = {
    "pass": "green",
    "fail": "red",
    "error": "magenta",
    "timeout": "yellow",
    "memory": "yellow",
    "syntax": "magenta",
    "crashed": "magenta",
    "output-limit": "yellow",
}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def run_state(stats: RunStats, sampler_state: str, writing: bool) -> str:
    """The state to show: never `done` while this app's sampler still writes the run, or while
    some of its requests are not finished yet (the store says done only at the very end)."""
    state = stats.status
    unfinished = stats.requests_done + stats.requests_failed < stats.requests
    if state == "done" and (writing or unfinished):
        state = "writing results"
    return state + (f" (this app: {sampler_state})" if sampler_state != "idle" else "")


def loading_text(what: str, elapsed_s: float) -> Text:
    return Text.assemble(
        (f"{what}… {max(elapsed_s, 0):.0f} s", "bold yellow"),
        "\n\nThe run appears here once the teacher is ready.",
    )


class RunPanel(Static):
    """Renders a `RunStats`; `show(None)` explains there is no run yet."""

    def show_loading(self, what: str, elapsed_s: float) -> None:
        """The teacher is starting (a local model loads before the run exists)."""
        self.update(loading_text(what, elapsed_s))

    def show(
        self,
        stats: RunStats | None,
        now: float,
        sampler_state: str,
        *,
        writing: bool = False,
        concurrency: int | None = None,
    ) -> None:
        """`concurrency`: the teacher's adaptive request limit, once it moved (this app's run)."""
        if stats is None:
            self.update(
                Text.assemble(
                    ("No sampling run yet.", "bold"),
                    "\n\nPress ",
                    ("s", "bold"),
                    " to start one with the teacher in ekt.toml, or ",
                    ("c", "bold"),
                    " to edit its [teacher] and [sampling] sections first.",
                )
            )
            return
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold", no_wrap=True, min_width=10)
        t.add_column()
        state = run_state(stats, sampler_state, writing)
        t.add_row("run", f"#{stats.id} {stats.name} — {state}")
        t.add_row("teacher", stats.teacher)
        t.add_row("prompt", stats.prompt)
        pct = stats.problems_sampled / stats.problems_total if stats.problems_total else 0.0
        t.add_row(
            "problems", f"{stats.problems_sampled:,} / {stats.problems_total:,} sampled ({pct:.0%})"
        )
        o = stats.outcomes
        if o is None:
            for label in ("candidates", "verdicts", "gold"):
                t.add_row(label, Text("counting…", style="dim"))
        else:
            t.add_row("candidates", f"{o.candidates:,}  ({o.pending:,} pending verification)")
            verdicts = Text()
            for status, k in sorted(o.verdicts.items(), key=lambda kv: -kv[1]):
                verdicts.append(f"{status} ", style=VERDICT_COLOURS.get(status, ""))
                verdicts.append(f"{k:,}  ")
            verdicts.append(f"pending {o.pending:,}", style="dim")
            t.add_row("verdicts", verdicts)
            t.add_row(
                "gold", f"{o.gold_problems:,} problems ({stats.gold_coverage or 0:.1%} coverage)"
            )
        failed = f", {stats.requests_failed:,} failed" if stats.requests_failed else ""
        if stats.failures:  # why: `dropped 3, rate_limit 1`
            failed += " (" + ", ".join(f"{k} {v:,}" for k, v in stats.failures.items()) + ")"
        limit = f"  · limit {concurrency} in flight" if concurrency is not None else ""
        t.add_row("requests", f"{stats.requests_done:,} done{failed} / {stats.requests:,}{limit}")
        t.add_row("tokens", f"in {stats.tokens_in:,}  out {stats.tokens_out:,}")
        budget = f" of ${stats.budget_usd:,.2f} budget" if stats.budget_usd is not None else ""
        t.add_row("cost", f"${stats.cost_usd:,.4f}{budget}")
        running = stats.status in ("running", "paused")
        t.add_row("ETA", duration(stats.eta_s(now)) if running else "—")
        self.update(t)
