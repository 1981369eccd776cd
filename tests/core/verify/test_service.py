"""VerifierService / verify_pending: batched verdicts, dedup, events, the edit path, gold."""

from __future__ import annotations

import asyncio

import pytest

from core.candidates import NewCandidate, add_edit, insert_candidates, set_gold_override
from core.events import CandidateVerified
from core.gold import select_gold
from core.project import Project
from core.store import sync_gold_settings
from core.verify.service import VerifierService, verify_pending

RIGHT = "def solution():\n    return 18\n"
RIGHT_COMMENTED = "# a comment\ndef solution():\n    return 18  # the answer\n\n"
WRONG = "def solution():\n    return 17\n"


async def _add(project: Project, *specs: tuple[str, str], run_id: int | None = 1) -> list[int]:
    items = [
        NewCandidate(pid, "teacher", code, run_id=run_id, sample_index=i if run_id else None)
        for i, (pid, code) in enumerate(specs)
    ]
    return await insert_candidates(project.store, items)


async def _statuses(project: Project) -> dict[int, str]:
    rows = await project.store.fetchall("SELECT candidate_id, status FROM verdicts")
    return {r[0]: r[1] for r in rows}


async def test_verify_pending_stores_verdicts_and_dedups(project: Project) -> None:
    # g1's question has no numbers, so each of its passes returns a literal (spurious): this
    # test is about dedup and gold policies, so spurious passes are allowed into gold here
    await sync_gold_settings(project.store, allow_spurious=True)
    ids = await _add(
        project,
        ("g1", RIGHT),
        ("g1", RIGHT_COMMENTED),
        ("g1", WRONG),
        ("g2", "def solution():\n    return -3.5\n"),
        ("m1", "def inc(x):\n    return x + 1\n"),
        ("h1", "def square(x):\n    return x * x\n"),
        ("h1", "def square(x):\n    return x\n"),
    )
    result = await verify_pending(project, workers=2)
    assert result["verified"] == 7
    assert result["executed"] == 6 and result["reused"] == 1
    statuses = await _statuses(project)
    assert [statuses[i] for i in ids] == ["pass", "pass", "fail", "pass", "pass", "pass", "fail"]
    assert result["by_status"] == {"pass": 5, "fail": 2}
    stats = await project.store.fetchone("SELECT * FROM problem_stats WHERE problem_id = 'g1'")
    assert (stats["pending"], stats["pass"], stats["fail"], stats["gold"]) == (0, 2, 1, 2)
    assert (await verify_pending(project))["pending"] == 0


async def test_dedup_across_batches_reuses_stored_verdict(project: Project) -> None:
    await _add(project, ("g1", RIGHT))
    await verify_pending(project)
    await _add(project, ("g1", RIGHT_COMMENTED), run_id=None)
    result = await verify_pending(project)
    assert (result["executed"], result["reused"], result["verified"]) == (0, 1, 1)


async def test_run_filter(project: Project) -> None:
    await _add(project, ("g1", RIGHT))
    await _add(project, ("g1", WRONG), run_id=None)
    result = await verify_pending(project, run_id=1)
    assert result["verified"] == 1
    assert await project.store.scalar("SELECT count(*) FROM verdicts") == 1


async def test_events_published_after_store_and_feed_while_running(project: Project) -> None:
    with project.bus.subscribe() as queue:
        async with VerifierService(project, workers=2, batch_size=2) as vs:
            first = await _add(project, ("g1", RIGHT), ("g1", WRONG))
            vs.submit(first)
            later = await _add(project, ("m1", "def inc(x):\n    return x\n"), run_id=None)
            vs.submit(later)
            await vs.drain()
            assert len(await _statuses(project)) == 3
        events = []
        while not queue.empty():
            event = queue.get_nowait()
            if isinstance(event, CandidateVerified):
                events.append(event)
    assert sorted(e.candidate_id for e in events) == sorted(first + later)
    by_id = {e.candidate_id: e for e in events}
    assert by_id[later[0]].status == "fail"
    assert by_id[later[0]].detail.startswith("0/2 asserts passed")


async def test_edit_path_verifies_one_candidate_and_reverifies_with_upsert(
    project: Project,
) -> None:
    (cid,) = await _add(project, ("g1", WRONG))
    async with VerifierService(project) as vs:
        assert (await vs.verify(cid)).status == "fail"
        edit = await add_edit(project.store, cid, RIGHT)
        verdict = await vs.verify(edit)
        assert verdict.status == "pass"
        assert verdict.detail == "returned 18 (expected 18)"
        # verify() runs again (no reuse of the stored verdict) and updates it in place.
        await project.store.execute(
            "UPDATE verdicts SET status = 'error' WHERE candidate_id = ?", (cid,)
        )
        assert (await vs.verify(cid)).status == "fail"
    stats = await project.store.fetchone("SELECT * FROM problem_stats WHERE problem_id = 'g1'")
    assert (stats["n"], stats["pending"], stats["fail"], stats["error"], stats["pass"]) == (
        2, 0, 1, 0, 1,
    )  # fmt: skip


async def test_unknown_candidate_in_edit_path(project: Project) -> None:
    async with VerifierService(project) as vs:
        with pytest.raises(Exception, match="candidate 999: no such candidate"):
            await vs.verify(999)


async def test_broken_problem_gives_an_error_verdict_not_a_crash(project: Project) -> None:
    await project.store.execute("UPDATE problems SET tests = 'not json' WHERE id = 'm1'")
    (cid,) = await _add(project, ("m1", "def inc(x):\n    return x + 1\n"))
    (ok,) = await _add(project, ("g1", RIGHT), run_id=None)
    await verify_pending(project)
    row = await project.store.fetchone("SELECT * FROM verdicts WHERE candidate_id = ?", (cid,))
    assert row["status"] == "error" and "tests is not a JSON list" in row["detail"]
    assert (await _statuses(project))[ok] == "pass"


async def test_service_keeps_going_after_hostile_candidates(project: Project) -> None:
    hostile = [
        ("g1", "import os\nos.kill(os.getppid(), 9)\n"),
        ("g1", "while True:\n    print('x' * 100000)\n"),
        ("g1", "x = bytearray(10 ** 11)\n"),
        ("g1", RIGHT),
    ]
    ids = await _add(project, *hostile)
    await verify_pending(project, timeout_s=1, memory_mb=256)
    statuses = await _statuses(project)
    assert [statuses[i] for i in ids] == ["error", "output-limit", "memory", "pass"]


async def test_gold_policies(project: Project) -> None:
    # g1's question has no numbers, so each of its passes returns a literal (spurious): this
    # test is about dedup and gold policies, so spurious passes are allowed into gold here
    await sync_gold_settings(project.store, allow_spurious=True)
    ids = await _add(
        project,
        ("g1", RIGHT),
        ("g1", RIGHT_COMMENTED),
        ("g1", "def solution():\n    return 9 * 2\n"),
        ("g1", "def solution():\n    return 6 * 3\n"),
        ("g1", WRONG),
        ("m1", "def inc(x):\n    return x + 1\n"),
    )
    await verify_pending(project)
    first = await select_gold(project.store, "first")
    assert [(g.problem_id, g.candidate_id) for g in first] == [("g1", ids[0]), ("m1", ids[5])]
    distinct = await select_gold(project.store, "all-distinct")
    assert [g.candidate_id for g in distinct] == [ids[0], ids[2], ids[3], ids[5]]
    capped = await select_gold(project.store, "max-per-problem", k=2)
    assert [g.candidate_id for g in capped] == [ids[0], ids[2], ids[5]]
    await set_gold_override(project.store, ids[4], True)
    await set_gold_override(project.store, ids[0], False)
    distinct = await select_gold(project.store, "all-distinct", problem_ids=["g1"])
    assert [(g.candidate_id, g.status) for g in distinct] == [
        (ids[1], "pass"), (ids[2], "pass"), (ids[3], "pass"), (ids[4], "override"),
    ]  # fmt: skip


async def test_gold_bad_policy(project: Project) -> None:
    with pytest.raises(Exception, match="unknown gold policy 'best'"):
        await select_gold(project.store, "best")


async def test_concurrent_submitters(project: Project) -> None:
    ids = await _add(project, *[("g1", f"def solution():\n    return {i}\n") for i in range(20)])
    async with VerifierService(project, workers=2) as vs:
        await asyncio.gather(*(vs.verify(i) for i in ids[:10]))
        vs.submit(ids[10:])
        await vs.drain()
    assert len(await _statuses(project)) == 20


async def test_verdicts_are_written_in_batches(project: Project) -> None:
    ids = await _add(project, *[("g1", f"def solution():\n    return {i}\n") for i in range(40)])
    calls: list[int] = []
    real = project.store.executemany

    async def spy(sql: str, rows: list) -> None:  # type: ignore[type-arg]
        if "INTO verdicts" in sql:
            calls.append(len(rows))
        await real(sql, rows)

    project.store.executemany = spy  # type: ignore[method-assign]
    async with VerifierService(project, workers=2, batch_size=16, flush_s=60) as vs:
        vs.submit(ids)
        await vs.drain()
    assert sum(calls) == 40
    assert len(calls) <= 4, calls  # 16 + 16 + the rest, not one write per verdict


async def test_the_same_id_twice_in_one_submission(project: Project) -> None:
    (cid,) = await _add(project, ("g1", RIGHT))
    async with VerifierService(project) as vs:
        vs.submit([cid, cid, 999, 999])
        await asyncio.wait_for(vs.drain(), 30)  # a miscount would leave drain() waiting forever
        both = await asyncio.gather(vs.verify(cid), vs.verify(cid))
    assert [v.status for v in both] == ["pass", "pass"]
    assert await _statuses(project) == {cid: "pass"}
