"""TUI bench: ekt-tui on a GSM8K-scale store (7,473 problems × 20 candidates, bench/make_store.py)
while a second process inserts ~500 candidates/s with verdicts (the headless `ekt sample` case).

Measured inside `App.run_test`. "app" columns: from posting the key event until the screen shows
its result (the state changed, every message handled, our workers done) and is painted — the
app's own time. "pilot" column: `pilot.press` + `pilot.pause()` + workers, which adds the pilot's
idle detection (sleeps of 20 ms until the process looks idle: ~100 ms even for a key that does
nothing, see the baseline row). Medians over repeats. Targets (issue 5): first paint ≤ 1 s;
scrolling, filtering and opening a problem ≤ 100 ms a key. Also the cold start of the real
`ekt-tui` process in tmux (until the dashboard's numbers are on screen) where tmux is installed.
Run: `python -m bench tui` (or `python -m bench.tui_bench [--quick]`).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.pilot import Pilot

from bench.make_store import build_store
from core.project import init_project
from core.store import connect_sync

if TYPE_CHECKING:
    from ekt_tui.app import EktApp

RATE = 500  # candidates a second from the second process
TICK = 0.1


def _writer(db: str, rate: int, stop: mp.synchronize.Event, done: mp.Value) -> None:  # type: ignore[name-defined]
    """Insert `rate` candidates a second (about 90% with a verdict), in one transaction a tick."""
    import random

    rng = random.Random(1)
    conn = connect_sync(Path(db))
    problems = [r[0] for r in conn.execute("SELECT id FROM problems")]
    per_tick = int(rate * TICK)
    index = 1000
    statuses = ["pass", "fail", "fail", "error", "timeout"]
    start = time.perf_counter()
    ticks = 0
    while not stop.is_set():
        now = time.time()
        rows, verdicts = [], []
        for _ in range(per_tick):
            index += 1
            pid = rng.choice(problems)
            code = f"def solution():\n    return {index}\n"
            rows.append((pid, index, code, f"w{index}", now))
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO candidates(problem_id, source, run_id, sample_index, code, code_hash,"
            " created_at) VALUES (?, 'teacher', 1, ?, ?, ?, ?)",
            rows,
        )
        last = conn.execute("SELECT max(id) FROM candidates").fetchone()[0]
        ids = range(last - len(rows) + 1, last + 1)
        for cid in ids:
            if rng.random() < 0.9:
                verdicts.append((cid, rng.choice(statuses), now))
        conn.executemany(
            "INSERT INTO verdicts(candidate_id, status, created_at) VALUES (?, ?, ?)", verdicts
        )
        conn.execute("COMMIT")
        done.value += len(rows)
        ticks += 1
        time.sleep(max(0.0, start + ticks * TICK - time.perf_counter()))
    conn.close()


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


async def _settle(pilot: Pilot[None]) -> None:
    """Pilot's own wait (idle detection, ≥ 20 ms sleeps) plus our workers."""
    app = pilot.app
    await pilot.pause()
    for worker in [w for w in app.workers if w.group != "bus" and not w.is_finished]:
        with contextlib.suppress(Exception):
            await worker.wait()
    await pilot.pause()


async def _until_painted(
    pilot: Pilot[None], done: Callable[[], bool] | None = None, ignore: tuple[str, ...] = ()
) -> None:
    """Process every message the screen has and wait for our workers (but those of the groups
    in `ignore`), until `done()` holds; then paint (what the app does on its next refresh).
    No sleeps: this is the app's own time."""
    app = pilot.app
    skip = {"bus", *ignore}
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline:
        await pilot._wait_for_screen()
        busy = [w for w in app.workers if w.group not in skip and not w.is_finished]
        for worker in busy:
            with contextlib.suppress(Exception):
                await worker.wait()
        if not busy and (done is None or done()):
            await pilot._wait_for_screen()
            break
        if not busy:
            await asyncio.sleep(0.001)
    app.screen._on_timer_update()


async def _key(pilot: Pilot[None], key: str, done: Callable[[], bool] | None = None) -> float:
    """Seconds from a key event to the screen painted with its result."""
    app = pilot.app
    t = time.perf_counter()
    app.post_message(events.Key(key, key if len(key) == 1 else None))
    await _until_painted(pilot, done)
    return time.perf_counter() - t


Row = tuple[str, list[float], list[float]]  # label, app times, pilot press+pause times


Probe = Callable[[], object]


async def _refresh_times(app: EktApp, repeats: int) -> list[float]:
    """Seconds per live refresh of the current screen, painted (as after a data_version bump)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        await app.refresh_now()
        app.screen._on_timer_update()
        times.append(time.perf_counter() - t)
    return times


async def _measure(
    pilot: Pilot[None], label: str, key: str, repeats: int, probe: Probe | None = None
) -> Row:
    """The key `repeats` times through `_key` (done when `probe()` changed and the list has
    its row), then as many through `pilot.press` + settle."""
    times = []
    for _ in range(repeats):
        if probe is None:
            times.append(await _key(pilot, key))
        else:
            before = probe()
            times.append(await _key(pilot, key, lambda b=before: probe() != b))  # type: ignore[misc]
        await _settle(pilot)
    pilot_times = []
    for _ in range(repeats):
        t = time.perf_counter()
        await pilot.press(key)
        await _settle(pilot)
        pilot_times.append(time.perf_counter() - t)
    return label, times, pilot_times


async def bench_pilot(root: Path, repeats: int) -> list[Row]:
    from ekt_tui.app import EktApp
    from ekt_tui.screens.dashboard import DashboardScreen
    from ekt_tui.screens.problem_detail import ProblemDetailScreen
    from ekt_tui.screens.problems import ProblemsScreen
    from ekt_tui.widgets.problem_list import ProblemList

    rows: list[Row] = []
    paints, full = [], []
    for _ in range(3):
        t = time.perf_counter()
        app = EktApp(root)
        async with app.run_test(size=(160, 45)) as pilot:

            def dash_shown(outcomes: bool = False, app: EktApp = app) -> bool:
                s = app.screen
                shown = isinstance(s, DashboardScreen) and s._shown is not None
                return shown and (not outcomes or s._shown.outcomes is not None)  # type: ignore[union-attr]

            await _until_painted(pilot, dash_shown, ignore=("dash-outcomes",))
            paints.append(time.perf_counter() - t)
            await _until_painted(pilot, lambda: dash_shown(True))
            full.append(time.perf_counter() - t)
    rows.append(("first paint: start → dashboard with the run's numbers", paints, []))
    rows.append(("  … and its verdict counts (background query)", full, []))

    app = EktApp(root)
    async with app.run_test(size=(160, 45)) as pilot:
        await _settle(pilot)
        rows.append(await _measure(pilot, "no-op key (baseline)", "z", repeats))
        t = await _key(pilot, "2", lambda: isinstance(app.screen, ProblemsScreen))
        await _settle(pilot)
        rows.append(("switch to problems, first time (2)", [t], []))
        plist = app.screen.query_one(ProblemList)

        def shown() -> object:
            """What is on screen: a key is done when this changed and the row is loaded."""
            row = plist.current
            return (plist.cursor, plist.flt, plist.sort, plist.search, row and row.id)

        rows.append(await _measure(pilot, "scroll: down", "down", repeats * 3, shown))
        rows.append(await _measure(pilot, "scroll: pagedown", "pagedown", repeats, shown))
        ends: list[float] = []
        homes: list[float] = []
        for _ in range(repeats):
            for key, times in (("end", ends), ("home", homes)):
                before = shown()
                times.append(await _key(pilot, key, lambda b=before: shown() != b))  # type: ignore[misc]
                await _settle(pilot)
        rows.append(("scroll: end (row 7,473)", ends, []))
        rows.append(("scroll: home", homes, []))
        rows.append(await _measure(pilot, "filter: f (next filter)", "f", repeats, shown))
        await app.screen.run_action("set_filter('all')")
        rows.append(await _measure(pilot, "sort: o (next sort)", "o", repeats, shown))
        await pilot.press("slash")
        await _settle(pilot)
        times = []
        for ch in "kilometers":
            before = shown()
            times.append(await _key(pilot, ch, lambda b=before: shown() != b))  # type: ignore[misc]
        await _settle(pilot)
        hits = plist.total
        rows.append(("search: each typed character of 'kilometers'", times, []))
        await pilot.press("escape")
        await _settle(pilot)

        def opened() -> bool:
            s = app.screen
            return isinstance(s, ProblemDetailScreen) and s.candidate is not None

        def listed() -> bool:
            return isinstance(app.screen, ProblemsScreen)

        opens, backs, cands = [], [], 0
        for _ in range(repeats + 1):
            opens.append(await _key(pilot, "enter", opened))
            await _settle(pilot)
            cands = app.screen.query_one("CandidateList").total  # type: ignore[attr-defined]
            backs.append(await _key(pilot, "escape", listed))
            await _settle(pilot)
            await pilot.press("down")
            await _settle(pilot)
        rows.append(("open a problem, first time (composes the inspector)", opens[:1], []))
        rows.append(("open a problem: enter → candidates + code + verdict", opens[1:], []))
        rows.append(("back to the list: escape", backs, []))
        await pilot.press("enter")
        await _settle(pilot)
        detail = app.screen
        assert isinstance(detail, ProblemDetailScreen)

        def candidate() -> object:
            c = detail.candidate
            return c and c["id"]

        rows.append(
            await _measure(pilot, "inspector: next candidate (down)", "down", repeats, candidate)
        )
        refresh = await _refresh_times(app, repeats)
        rows.append(("live refresh of the inspector (data_version changed)", refresh, []))
        await pilot.press("escape")
        await _settle(pilot)
        refresh = await _refresh_times(app, repeats)
        rows.append(("live refresh of the problem list (data_version changed)", refresh, []))
    print(f"search 'kilometers': {hits:,} matches; the last problem opened had {cands} candidates")
    return rows


def bench_tmux(root: Path) -> float | None:
    """Seconds from starting `ekt-tui` in tmux to the dashboard's run numbers on screen."""
    if shutil.which("tmux") is None:
        return None
    exe = Path(sys.executable).with_name("ekt-tui")
    session = f"ekt-bench-{os.getpid()}"
    t = time.perf_counter()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "45", f"{exe} {root}"],
        check=True,
    )
    try:
        while time.perf_counter() - t < 20:
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
            ).stdout
            if "sampled" in screen and "done /" in screen:
                return time.perf_counter() - t
            time.sleep(0.02)
        return None
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    repeats = 5 if "--quick" in args else 15
    print(f"machine: {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="ekt-tui-bench-") as d:
        root = init_project(Path(d) / "p", name="tui-bench")
        t = time.perf_counter()
        build_store(root / "ekt.db")
        print(f"store: 7,473 problems × 20 candidates built in {time.perf_counter() - t:.1f} s")
        ctx = mp.get_context("spawn")
        stop, done = ctx.Event(), ctx.Value("i", 0)
        writer = ctx.Process(target=_writer, args=(str(root / "ekt.db"), RATE, stop, done))
        writer.start()
        time.sleep(1.0)
        started, count0 = time.perf_counter(), done.value
        try:
            cold = bench_tmux(root)
            results = asyncio.run(bench_pilot(root, repeats))
        finally:
            elapsed = time.perf_counter() - started
            stop.set()
            writer.join(10)
        rate = (done.value - count0) / elapsed
        print(f"second process: {rate:,.0f} candidates/s inserted during the bench")
        print(
            f"{'':<58} {'app':>10} {'app':>10} {'pilot':>10}\n"
            f"{'key → screen painted with the result':<58} {'median':>10} {'max':>10}"
            f" {'median':>10}  target"
        )
        for label, times, pilot_times in results:
            target = "≤ 1 s" if label.startswith("first paint") else "≤ 100 ms"
            target = "" if label.startswith("  …") or "baseline" in label else target
            p = _fmt(statistics.median(pilot_times)) if pilot_times else " " * 10
            print(f"{label:<58} {_fmt(statistics.median(times))} {_fmt(max(times))} {p}  {target}")
        if cold is not None:
            print(
                f"cold start of the real ekt-tui in tmux to the dashboard's numbers: {cold:.2f} s"
            )
        else:
            print("cold start in tmux: skipped (no tmux)")


if __name__ == "__main__":
    main()
