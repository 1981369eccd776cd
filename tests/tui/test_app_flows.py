"""Pilot tests for every ekt-tui flow, against a seeded store (no fake data on screen)."""

from __future__ import annotations

import time
from pathlib import Path

from core import (
    CandidateAdded,
    ProblemFilter,
    ProblemSort,
    RequestFinished,
    RequestStarted,
    TokensStreamed,
    list_prompts,
    load_config,
)
from core.store import connect_sync
from ekt_tui.screens.config_form import ConfigForm
from ekt_tui.screens.dashboard import DashboardScreen
from ekt_tui.screens.help import HelpScreen
from ekt_tui.screens.problem_detail import ProblemDetailScreen
from ekt_tui.screens.problems import ProblemsScreen
from ekt_tui.screens.prompt_editor import PromptEditorScreen
from ekt_tui.widgets.candidate_list import CandidateList
from ekt_tui.widgets.problem_list import ProblemList
from ekt_tui.widgets.run_panel import RunPanel
from ekt_tui.widgets.teacher_stream import TeacherStream
from tests.tui.helpers import make_app, refreshed, settle
from tests.tui.seed import make_project


def _text(widget: object) -> str:
    from io import StringIO

    from rich.console import Console

    console = Console(width=200, record=True, file=StringIO())
    console.print(widget.content)  # type: ignore[attr-defined]
    return console.export_text()


async def test_navigation_help_and_theme(tmp_path: Path) -> None:
    app = make_app(make_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        await refreshed(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert "run-1" in _text(app.screen.query_one(RunPanel))
        await pilot.press("2")
        await refreshed(pilot)
        assert isinstance(app.screen, ProblemsScreen)
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, PromptEditorScreen)
        await pilot.press("1")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        dark = app.theme
        await pilot.press("ctrl+t")
        assert app.theme != dark


async def test_palette_lists_and_runs_actions(tmp_path: Path) -> None:
    app = make_app(make_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        await refreshed(pilot)
        labels = [e[0] for e in app.command_entries()]
        assert "Start sampling" in labels and "Go to Problems" in labels
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Go to Problems")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProblemsScreen)


async def test_palette_runs_the_screen_underneath_actions(tmp_path: Path) -> None:
    app = make_app(make_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("2")
        await refreshed(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"show solved")
        await settle(pilot)
        await pilot.press("enter")
        await refreshed(pilot)
        assert isinstance(app.screen, ProblemsScreen)
        assert app.screen.query_one(ProblemList).flt is ProblemFilter.SOLVED


async def test_problem_filter_search_sort(tmp_path: Path) -> None:
    app = make_app(make_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("2")
        await refreshed(pilot)
        plist = app.screen.query_one(ProblemList)
        assert plist.total == 6
        assert [plist.row_at(i).id for i in range(6)][:2] == ["demo/add", "demo/mul"]  # type: ignore[union-attr]
        await pilot.press("f")  # solved
        await refreshed(pilot)
        assert plist.flt is ProblemFilter.SOLVED
        assert {plist.row_at(i).id for i in range(plist.total)} == {"demo/add", "mbpp/sq"}  # type: ignore[union-attr]
        for _ in range(2):  # unsolved, then pending
            await pilot.press("f")
        await refreshed(pilot)
        assert plist.flt is ProblemFilter.PENDING
        assert plist.total == 1 and plist.row_at(0).id == "demo/div"  # type: ignore[union-attr]
        await app.screen.run_action("set_filter('all')")
        await pilot.press("o", "o")  # pass rate, descending
        await refreshed(pilot)
        assert plist.sort is ProblemSort.PASS_RATE_DESC
        assert plist.row_at(0).id == "demo/add"  # type: ignore[union-attr]
        await pilot.press("slash", *"eggs")
        await refreshed(pilot)
        assert plist.search == "eggs"
        assert plist.total == 1 and plist.row_at(0).id == "demo/mul"  # type: ignore[union-attr]
        await pilot.press("escape")
        await refreshed(pilot)
        assert plist.total == 6


async def test_open_problem_and_browse_candidates(tmp_path: Path) -> None:
    app = make_app(make_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("2")
        await refreshed(pilot)
        await pilot.press("down", "down", "enter")  # demo/sub
        await refreshed(pilot)
        screen = app.screen
        assert isinstance(screen, ProblemDetailScreen)
        assert screen.problem_id == "demo/sub"
        assert screen.query_one(CandidateList).total == 1
        assert screen.candidate is not None and screen.candidate["v_status"] == "error"
        assert "ZeroDivisionError" in _text(screen.query_one("#verdict"))
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ProblemsScreen)


async def test_edit_saves_verifies_and_diffs(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    app = make_app(root)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("2")
        await refreshed(pilot)
        await pilot.press("down", "enter")  # demo/mul: two failing candidates
        await refreshed(pilot)
        await pilot.press("e")
        await settle(pilot)
        editor = app.screen.query_one("#editor-code")
        editor.load_text("def solution():\n    return 6 * 5\n")  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot, rounds=6)
        saved = app.screen.saved_id  # type: ignore[attr-defined]
        assert saved is not None
        assert "pass" in _text(app.screen.query_one("#editor-verdict"))
        await pilot.press("ctrl+d")
        await settle(pilot)
        diff = _text(app.screen.query_one("#editor-diff"))
        assert "-    return 6 + 5" in diff and "+    return 6 * 5" in diff
        await pilot.press("escape")
        await refreshed(pilot)
        detail = app.screen
        assert isinstance(detail, ProblemDetailScreen)
        assert detail.query_one(CandidateList).total == 3
    conn = connect_sync(root / "ekt.db", readonly=True)
    row = conn.execute(
        "SELECT c.source, c.parent_id, v.status FROM candidates c JOIN verdicts v"
        " ON v.candidate_id = c.id WHERE c.id = ?",
        [saved],
    ).fetchone()
    gold = conn.execute("SELECT gold FROM problem_stats WHERE problem_id = 'demo/mul'").fetchone()
    conn.close()
    assert tuple(row) == ("edit", 4, "pass")
    assert gold[0] == 1


async def test_mark_and_unmark_gold(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    app = make_app(root)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("2")
        await refreshed(pilot)
        await pilot.press("down", "enter")  # demo/mul, candidate #4 (fail)
        await refreshed(pilot)
        await pilot.press("g")  # a failing candidate: asks first
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await refreshed(pilot)
        clist = app.screen.query_one(CandidateList)
        assert clist.current is not None and clist.current.gold
        await pilot.press("g")
        await settle(pilot)
        await refreshed(pilot)
        assert clist.current is not None and not clist.current.gold
    conn = connect_sync(root / "ekt.db", readonly=True)
    (override,) = conn.execute("SELECT gold_override FROM candidates WHERE id = 4").fetchone()
    conn.close()
    assert override is None


async def test_prompt_save_creates_new_version(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    app = make_app(root)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("3")
        await refreshed(pilot)
        screen = app.screen
        assert isinstance(screen, PromptEditorScreen)
        assert "tokens" in _text(screen.query_one("#preview-title"))
        template = screen.query_one("#template")
        template.load_text(template.text.replace("Answer with", "Return it from"))  # type: ignore[attr-defined]
        await settle(pilot)
        assert "Return it from" in _text(screen.query_one("#preview"))
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press(*"clearer instruction", "enter")
        await settle(pilot, rounds=5)
        versions = await list_prompts(app.project.store, "gsm8k")
        assert [v.version for v in versions] == [1, 2]
        assert versions[1].note == "clearer instruction" and versions[1].parent_id == 1
        assert screen.version_ids[0] == versions[1].id


async def test_bad_template_is_shown_not_saved(tmp_path: Path) -> None:
    app = make_app(make_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("3")
        await refreshed(pilot)
        screen = app.screen
        screen.query_one("#template").load_text("# {{nosuchfield}}\ndef solution():")  # type: ignore[attr-defined]
        await settle(pilot)
        assert "nosuchfield" in _text(screen.query_one("#preview-title"))
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press(*"broken", "enter")
        await settle(pilot, rounds=5)
        assert [v.version for v in await list_prompts(app.project.store, "gsm8k")] == [1]
        assert any("nosuchfield" in n.message for n in app._notifications)
        assert app.screen is screen  # no crash, no traceback screen


async def test_config_form_validation_and_save(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    before = (root / "ekt.toml").read_text()
    app = make_app(root)
    async with app.run_test(size=(140, 50)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ConfigForm)
        form.query_one("#cfg-sampling-temperature").value = "hot"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfigForm)
        assert any("temperature" in n.message for n in app._notifications)
        assert (root / "ekt.toml").read_text() == before
        form.query_one("#cfg-sampling-temperature").value = "0.3"  # type: ignore[attr-defined]
        form.query_one("#cfg-teacher-base_url").value = "http://127.0.0.1:9/v1"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
    cfg = load_config(root / "ekt.toml")
    assert cfg.sampling.temperature == 0.3
    assert cfg.teacher.base_url == "http://127.0.0.1:9/v1"
    assert not (root / "ekt.toml.tmp").exists()


async def test_teacher_stream_shows_tokens_in_flight(tmp_path: Path) -> None:
    app = make_app(make_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        await refreshed(pilot)
        bus = app.project.bus
        bus.publish(RequestStarted(1, 77, "demo/none", 2))
        for piece in ["def solution", "():\n    return", " 60 * 2"]:
            bus.publish(TokensStreamed(1, 77, "demo/none", 0, piece))
        bus.publish(TokensStreamed(1, 77, "demo/none", 1, "x" * 100_000))
        await refreshed(pilot)
        stream = app.live.streams[77]
        assert stream.choices[0].endswith("60 * 2") and len(stream.choices[1]) <= 600
        text = _text(app.screen.query_one(TeacherStream))
        assert "#77 demo/none streaming" in text and "return 60 * 2" in text
        bus.publish(RequestFinished(1, 77, "demo/none", 100, 30, 0.0, 1.2))
        bus.publish(CandidateAdded(99, "demo/none", "teacher", 1))
        await refreshed(pilot)
        assert "done" in _text(app.screen.query_one(TeacherStream))


async def test_other_process_writes_show_up(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    app = EktAppPolling = make_app(root)  # noqa: F841
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("2")
        await refreshed(pilot)
        await app._poll_version()
        app.live.dirty = False
        plist = app.screen.query_one(ProblemList)
        assert plist.row_at(4).n == 0  # type: ignore[union-attr]
        conn = connect_sync(root / "ekt.db")
        conn.execute(
            "INSERT INTO candidates(problem_id, source, code, code_hash, created_at)"
            " VALUES ('demo/none', 'teacher', 'x', 'h', ?)",
            [time.time()],
        )
        conn.close()
        await app._poll_version()
        assert app.live.dirty
        app._tick()
        await settle(pilot)
        assert plist.row_at(4).n == 1 and plist.row_at(4).pending == 1  # type: ignore[union-attr]


async def test_worker_errors_become_notifications(tmp_path: Path) -> None:
    from core import StoreError

    app = make_app(make_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)

        async def boom() -> None:
            raise StoreError("ekt.db: disk on fire")

        app.run_worker(boom(), group="test", exit_on_error=False)
        await settle(pilot)
        assert [n.message for n in app._notifications] == ["ekt.db: disk on fire"]
        assert app.is_running


async def test_windowed_list_loads_only_visible_blocks(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", with_run=False)
    conn = connect_sync(root / "ekt.db")
    conn.executemany(
        "INSERT INTO problems(id, seq, dataset, kind, question, answer, imported_at)"
        " VALUES (?, ?, 'big', 'answer', 'q', '1', 0)",
        [(f"big/{i:05d}", 100 + i) for i in range(5000)],
    )
    conn.close()
    app = make_app(root)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("2")
        await refreshed(pilot)
        plist = app.screen.query_one(ProblemList)
        assert plist.total == 5006
        assert len(plist._blocks) == 1
        await pilot.press("end")
        await settle(pilot)
        assert plist.cursor == 5005
        assert plist.current is not None and plist.current.id == "big/04999"
        assert len(plist._blocks) <= 3
