"""Watching a run from another process: poll its events, render them as one-line progress.

The CLI's follow mode and the TUI's log tail print the same lines (`format_event`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from core.store import Store
from core.train.runs import FINAL, find_run, reconcile, run_events


def hms(seconds: float | None, missing: str = "?") -> str:
    """A trainer's ETA as h:mm:ss, the same in `ekt train --follow` and the Training screen."""
    if seconds is None:
        return missing
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def format_event(e: dict[str, Any], max_steps: int | None = None) -> str:
    """`step 3/6  loss 5.7072  lr 8.00e-04  gnorm 2.30  1,234 tok/s  eta 0:00:12`, etc."""
    kind, step, data = e["kind"], e.get("step"), e.get("data") or {}
    total = max_steps or data.get("max_steps")
    where = f"step {step}/{total}" if total else f"step {step}"
    if kind == "log" and e.get("loss") is not None:
        parts = [where, f"loss {e['loss']:.4f}"]
        if e.get("lr") is not None:
            parts.append(f"lr {e['lr']:.2e}")
        if e.get("grad_norm") is not None:
            parts.append(f"gnorm {e['grad_norm']:.2f}")
        if e.get("tokens_per_s") is not None:
            parts.append(f"{e['tokens_per_s']:,.0f} tok/s")
        parts.append(f"eta {hms(e.get('eta_s'))}")
        return "  ".join(parts)
    if kind == "log":
        return str(data.get("message", ""))
    if kind == "start":
        how = "resumed at" if data.get("resumed") else "started:"
        return (
            f"{how} step {step} of {data.get('max_steps')}, {data.get('examples')} examples,"
            f" {data.get('dev', 0)} dev problems"
        )
    if kind == "eval":
        return f"{where}: dev pass@1 {100 * float(data.get('dev_pass_at_1', 0)):.1f}%"
    if kind == "checkpoint":
        return f"{where}: checkpoint {data.get('path')}"
    if kind == "error":
        return f"error: {data.get('message')}"
    return f"{kind}" + (f" at {where}" if step is not None else "")


async def follow(
    store: Store,
    run_id: int,
    on_event: Callable[[dict[str, Any]], None],
    *,
    poll_s: float = 0.5,
    after_id: int = 0,
) -> dict[str, Any]:
    """Call `on_event` for every event after `after_id` until the run ends; returns the final
    run row."""
    after = after_id
    while True:
        for e in await run_events(store, run_id, after_id=after):
            after = e["id"]
            on_event(e)
        await reconcile(store)
        run = await find_run(store, run_id)
        if run["status"] in FINAL:
            for e in await run_events(store, run_id, after_id=after):
                on_event(e)
            return run
        await asyncio.sleep(poll_s)
