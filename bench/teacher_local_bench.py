"""Local teacher bench: the bundled Qwen2.5-Coder-1.5B-Instruct on this machine's CPU.

1. dtype (`--dtypes`): decode tokens/s for 8 samples of one GSM8K PAL prompt in fp32, bf16 and
   dynamic int8, in this process (prefix cached, so this is decoding, not prefill).
2. speed: through the real `python -m core.generate` worker, with and without the prefix cache,
   side by side: load time (the first start of the bench is "cold" — the weights may still be in
   the page cache from a previous process, which is said — the second "warm"), time to the first
   token of a new problem (the first after load, and a later one), tokens/s with 1 and with 8
   samples in flight (wall time per call, prompt processing included).
3. pass rate (`--problems N`, default 30): the engine end to end (`sample` with the local
   teacher, n=1, greedy, the default PAL prompt, verified in the sandbox) on the first N GSM8K
   test problems from `--data` (default: shared/data/gsm8k/test.jsonl in the
   nearest folder above the repository that has one).
Each section prints the machine's load average next to its figures: the 2 cores are shared.
Run: `python -m bench teacher-local` (`python -m bench.teacher_local_bench --help`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = next(
    (
        d / "shared/data/gsm8k/test.jsonl"
        for d in ROOT.parents
        if (d / "shared/data/gsm8k").is_dir()
    ),
    ROOT.parent / "shared/data/gsm8k/test.jsonl",
)
MODEL = "qwen-coder-1.5b"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} (1/5 min) on {os.cpu_count()} cores"


def _questions(data: Path, count: int) -> list[dict[str, Any]]:
    rows = []
    with data.open() as f:
        for i, line in enumerate(f):
            if i >= count:
                break
            row = json.loads(line)
            answer = row["answer"].rsplit("####", 1)[-1].strip().replace(",", "")
            rows.append({"id": f"test-{i}", "kind": "answer", "question": row["question"],
                         "answer": answer})  # fmt: skip
    return rows


def _prompts(data: Path, count: int) -> list[tuple[str, list[str]]]:
    """The default PAL prompt rendered for the first problems, with its stop strings."""
    from core.prompts.template import prompt_name_for_kind, render
    from core.prompts.versions import default_template

    template = default_template(prompt_name_for_kind("answer"))
    out = []
    for problem in _questions(data, count):
        rendered = render(template, problem)
        out.append((rendered.text, list(rendered.stop)))
    return out


def bench_dtypes(path: Path, data: Path, max_new: int) -> None:
    import io

    import torch

    from core.generate.__main__ import PrefixCache, _generate
    from core.models import load_model, load_tokenizer

    ((prompt, stop),) = _prompts(data, 1)
    tok = load_tokenizer(path)
    tok.padding_side = "left"
    req = {"id": 1, "prompts": [prompt], "n": 8, "stop": stop, "max_new_tokens": max_new,
           "temperature": 0.7, "top_p": 0.95, "seed": 0, "stream": False}  # fmt: skip
    print(f"dtype: 8 samples × {max_new} new tokens, prefix cached, torch threads"
          f" {torch.get_num_threads()}")  # fmt: skip
    for dtype in ("float32", "bfloat16", "int8"):
        t0 = time.perf_counter()
        model = load_model(path, dtype="float32" if dtype == "int8" else dtype).eval()
        if dtype == "int8":
            from torch.ao.quantization import quantize_dynamic

            model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        loaded = time.perf_counter() - t0
        prefix = PrefixCache(model)
        _generate(model, tok, {**req, "n": 1, "max_new_tokens": 1}, io.StringIO(), prefix)
        t0 = time.perf_counter()
        rows = _generate(model, tok, req, io.StringIO(), prefix)
        wall = time.perf_counter() - t0
        tokens = sum(c["completion_tokens"] for c in rows[0])
        print(f"  {dtype:<9} {tokens / wall:6.2f} tokens/s ({tokens} tokens in {wall:.1f} s;"
              f" load {loaded:.1f} s) · {_load()}", flush=True)  # fmt: skip
        del model, prefix


async def _first_token(worker: Any, prompt: str, stop: list[str]) -> float:
    t0, first = time.perf_counter(), []

    def on_delta(p: int, c: int, text: str) -> None:
        if not first:
            first.append(time.perf_counter() - t0)

    await worker.generate([prompt], n=1, stop=stop, max_new_tokens=6, temperature=0, top_p=1,
                          seed=None, on_delta=on_delta)  # fmt: skip
    return first[0] if first else float("nan")


async def _rate(worker: Any, prompt: str, stop: list[str], n: int, max_new: int) -> str:
    t0 = time.perf_counter()
    out = await worker.generate([prompt], n=n, stop=stop, max_new_tokens=max_new,
                                temperature=0.7, top_p=0.95, seed=0)  # fmt: skip
    wall = time.perf_counter() - t0
    tokens = sum(c.completion_tokens for c in out[0])
    return f"{tokens / wall:5.2f} tok/s ({tokens} in {wall:.0f} s)"


async def bench_speed(path: Path, data: Path, max_new: int, dtype: str) -> None:
    from core.generate import GenerationWorker

    prompts = _prompts(data, 4)
    prompt_tokens = None
    cols: dict[str, dict[str, str]] = {}
    for label, reuse in (("without prefix reuse", False), ("with prefix reuse", True)):
        col: dict[str, str] = {}
        t0 = time.perf_counter()
        async with GenerationWorker(str(path), dtype=dtype, prefix_cache=reuse) as worker:
            col["load (first start: cold)" if not cols else "load (second start: warm)"] = (
                f"{time.perf_counter() - t0:.1f} s"
            )
            col["first token, first problem"] = f"{await _first_token(worker, *prompts[0]):.1f} s"
            col["first token, a new problem"] = f"{await _first_token(worker, *prompts[1]):.1f} s"
            col["1 in flight"] = await _rate(worker, *prompts[2], 1, max_new)
            col["8 in flight"] = await _rate(worker, *prompts[3], 8, max_new)
            if prompt_tokens is None:
                from core.models import load_tokenizer

                prompt_tokens = len(load_tokenizer(path)(prompts[1][0])["input_ids"])
        cols[label] = {**col, "machine": _load()}
        print(f"  ({label} done · {_load()})", flush=True)
    print(f"speed: {MODEL} dtype {dtype}, PAL prompt ~{prompt_tokens} tokens,"
          f" ≤{max_new} new tokens per sample")  # fmt: skip
    rows = list(dict.fromkeys(k for col in cols.values() for k in col))
    names = list(cols)
    print(f"  {'':<28}" + "".join(f"{n:<34}" for n in names))
    for row in rows:
        print(f"  {row:<28}" + "".join(f"{cols[n].get(row, ''):<34}" for n in names))


async def bench_pass_rate(data: Path, count: int, max_new: int) -> None:
    from core.datasets import ImportOptions, import_dataset
    from core.project import Project, init_project
    from core.prompts import seed_default_prompts
    from core.sampling import SampleOptions, sample

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "test.jsonl"
        with data.open() as f, src.open("w") as out:
            for i, line in enumerate(f):
                if i >= count:
                    break
                out.write(line)
        root = init_project(Path(tmp) / "proj")
        project = await Project.open(root)
        try:
            await import_dataset(project.store, str(src), ImportOptions(format="gsm8k",
                                 split="test", dataset="gsm8k"), check_leaks=False)  # fmt: skip
            await seed_default_prompts(project.store)
            options = SampleOptions(n=1, temperature=0, max_tokens=max_new, concurrency=8,
                                    teacher={"backend": "local", "model": MODEL})  # fmt: skip
            summary = await sample(project, options)
        finally:
            await project.close()
    passed = summary.verdicts.get("pass", 0)
    print(f"pass rate: {MODEL} greedy, default PAL prompt, first {summary.problems} GSM8K test"
          f" problems: {passed}/{summary.problems} = {passed / max(1, summary.problems):.0%}"
          f" in {summary.elapsed_s:.0f} s ({summary.completion_tokens} completion tokens,"
          f" {summary.completion_tokens / max(summary.elapsed_s, 1e-9):.2f} tok/s overall);"
          f" verdicts {dict(sorted(summary.verdicts.items()))} · {_load()}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench teacher-local")
    parser.add_argument("--data", type=Path, default=DATA, help="GSM8K test.jsonl")
    parser.add_argument("--problems", type=int, default=30, help="for the pass rate (0: skip)")
    parser.add_argument("--max-new", type=int, default=48, help="new tokens per speed sample")
    parser.add_argument("--dtype", default="fast", help="of the speed section's worker")
    parser.add_argument("--dtypes", action="store_true", help="also compare fp32/bf16/int8")
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args(argv or [])
    from core.models import ensure_local_model

    t0 = time.perf_counter()
    path = ensure_local_model(MODEL)  # assembled, verified and converted once, then cached
    print(
        f"model folder ready in {time.perf_counter() - t0:.1f} s (conversion is once) · {_load()}"
    )
    if args.dtypes:
        bench_dtypes(path, args.data, 16)
    if not args.no_speed:
        asyncio.run(bench_speed(path, args.data, args.max_new, args.dtype))
    if args.problems:
        asyncio.run(bench_pass_rate(args.data, args.problems, 320))


if __name__ == "__main__":
    main(sys.argv[1:])
