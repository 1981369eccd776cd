"""Train bench: tokens/s of the ekt trainer vs a plain transformers Trainer, side by side.

Data: every GSM8K train question (7,473, from ../shared/data) in the student's zero-shot format,
each with a short synthetic program as its gold completion (`def solution():` + 2–4 lines built
from the question's numbers) — the shape of an EKT SFT set. Both trainers see the same examples,
model (SmolLM2-135M, fp32 on CPU), batch size, max length and seed:
- baseline: `Trainer` + `DataCollatorForLanguageModeling(mlm=False)` (pads to the longest in the
  batch, loss on every token, the LM head over every position), random batches;
- ekt: `core.train.worker` — length-grouped batches, dynamic padding, LM head on completion only.
Throughput counts real (non-padding) tokens per second over the measured steps, after warm-up
steps that are not timed; the share of the 6·N·tokens/s FLOP ceiling uses a measured fp32
matmul peak. `--curve` also prints a plotext loss curve of a short tiny-model run.
Run: `python -m bench train` (or `python -m bench.train_bench --steps 5 --batch 4`).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "gsm8k" / "train.jsonl"


def synthetic_examples(path: Path) -> list[dict[str, str]]:
    """(prompt, completion): the zero-shot prompt + a short program over the question's numbers."""
    from core.prompts import render_zero_shot

    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        q = json.loads(line)["question"]
        nums = re.findall(r"\d+(?:\.\d+)?", q)[:3] or ["1", "2"]
        body = "".join(f"    x{j} = {n}\n" for j, n in enumerate(nums))
        expr = " + ".join(f"x{j}" for j in range(len(nums)))
        prompt = render_zero_shot({"id": f"gsm8k/{i}", "kind": "answer", "question": q}).text
        rows.append({"prompt": prompt, "completion": f"\n{body}    return {expr}\n"})
    return rows


def peak_flops(n: int = 2048, reps: int = 5) -> float:
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n**3 / min(times)


def _timer(trainer: Any, warmup: int) -> Any:
    from transformers import TrainerCallback

    class Timer(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.steps: list[tuple[float, int]] = []  # (seconds, real tokens)
            self.losses: list[float] = []

        def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.t, self.tok = time.perf_counter(), trainer.real_tokens

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step > warmup:
                self.steps.append((time.perf_counter() - self.t, trainer.real_tokens - self.tok))

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if logs and "loss" in logs:
                self.losses.append(float(logs["loss"]))

    return Timer()


def run_one(kind: str, rows: list[dict[str, str]], model_path: Path, a: argparse.Namespace) -> dict:
    import torch
    from datasets import Dataset
    from transformers import (
        DataCollatorForLanguageModeling,
        PrinterCallback,
        Trainer,
        TrainingArguments,
    )

    from core.models import load_model, load_tokenizer
    from core.train.worker import Collator, _trainer_class, tokenize

    torch.manual_seed(0)
    tok = load_tokenizer(model_path)
    model = load_model(model_path)
    common = dict(
        output_dir=tempfile.mkdtemp(prefix=f"ekt-bench-{kind}-"),
        per_device_train_batch_size=a.batch,
        max_steps=a.warmup + a.steps, learning_rate=5e-5, logging_steps=1, save_strategy="no",
        report_to="none", disable_tqdm=True, use_cpu=True, seed=0, dataloader_pin_memory=False,
    )  # fmt: skip
    if kind == "ekt":
        data = Dataset.from_dict(tokenize(rows, tok, a.max_length))
        args = TrainingArguments(
            **common, train_sampling_strategy="group_by_length", remove_unused_columns=False
        )
        base_cls = _trainer_class()
        collator: Any = Collator(tok.pad_token_id)
    else:
        texts = [r["prompt"] + r["completion"] + tok.eos_token for r in rows]
        enc = tok(texts, truncation=True, max_length=a.max_length)
        data = Dataset.from_dict({"input_ids": enc["input_ids"]})
        args = TrainingArguments(**common)
        base_cls = Trainer
        collator = DataCollatorForLanguageModeling(tok, mlm=False)

    class Counted(base_cls):  # type: ignore[misc, valid-type]
        real_tokens = 0

        def training_step(self, model: Any, inputs: Any, num_items_in_batch: Any = None) -> Any:
            self.real_tokens += int(inputs["attention_mask"].sum())
            return super().training_step(model, inputs, num_items_in_batch)

    trainer = Counted(model=model, args=args, train_dataset=data, data_collator=collator)
    trainer.remove_callback(PrinterCallback)
    timer = _timer(trainer, a.warmup)
    trainer.add_callback(timer)
    trainer.train()
    secs = [s for s, _ in timer.steps]
    toks = [n for _, n in timer.steps]
    params = sum(p.numel() for p in model.parameters())
    return {
        "kind": kind,
        "tokens_per_s": sum(toks) / sum(secs),
        "median_step_tokens_per_s": statistics.median(n / s for s, n in timer.steps),
        "median_step_s": statistics.median(secs),
        "tokens_per_step": statistics.median(toks),
        "params": params,
        "loss": timer.losses,
    }


def loss_curve(steps: int = 60) -> str:
    """A plotext loss curve of a tiny random model learning synthetic gold (text, for reports)."""
    import plotext as plt
    from datasets import Dataset
    from transformers import PrinterCallback, TrainingArguments

    from core.models import load_model, load_tokenizer
    from core.train.worker import Collator, _trainer_class, tokenize
    from tests.tiny_model import make_tiny_model

    folder = make_tiny_model(Path(tempfile.mkdtemp(prefix="ekt-tiny-")) / "m")
    tok, model = load_tokenizer(folder), load_model(folder)
    rows = [
        {"prompt": f"# Question: Tom has {i} apples and buys {j} more.\ndef solution():",
         "completion": f"\n    apples = {i}\n    return apples + {j}\n"}
        for i in range(1, 9) for j in range(1, 5)
    ]  # fmt: skip
    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(), per_device_train_batch_size=8, max_steps=steps,
        learning_rate=3e-3, warmup_steps=0.1, logging_steps=1, save_strategy="no",
        report_to="none", disable_tqdm=True, use_cpu=True, seed=0, remove_unused_columns=False,
        train_sampling_strategy="group_by_length",
    )  # fmt: skip
    trainer = _trainer_class()(
        model=model, args=args, train_dataset=Dataset.from_dict(tokenize(rows, tok, 64)),
        data_collator=Collator(tok.pad_token_id),
    )  # fmt: skip
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    plt.clear_figure()
    plt.plot(list(range(1, len(losses) + 1)), losses, marker="braille")
    plt.title("tiny student: completion-only loss per step")
    plt.xlabel("step")
    plt.plotsize(72, 18)
    plt.theme("clear")
    return re.sub(r"\x1b\[[0-9;]*m", "", str(plt.build()))  # plain text for reports


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench train")
    p.add_argument("--model", default="smollm2")
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--steps", type=int, default=4, help="measured steps per trainer")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    p.add_argument("--rounds", type=int, default=1, help="baseline/ekt pairs, alternating")
    p.add_argument("--curve", action=argparse.BooleanOptionalAction, default=True)
    if argv is None:  # `python -m bench train` leaves the area name in sys.argv
        argv = [x for x in sys.argv[1:] if x != "train"]
    a = p.parse_args(argv)
    import torch

    from core.models import ensure_local_model

    model_path = ensure_local_model(a.model)
    rows = synthetic_examples(a.data)
    peak = peak_flops()
    print(f"data: {len(rows)} GSM8K questions + synthetic programs; model {model_path.name}")
    print(
        f"batch {a.batch} x max_length {a.max_length}, {a.warmup} warm-up + {a.steps} steps"
        f" each, {torch.get_num_threads()} threads; fp32 matmul peak {peak / 1e9:.1f} GFLOP/s"
    )
    results: dict[str, list[dict]] = {"baseline": [], "ekt": []}
    for _ in range(a.rounds):
        for kind in ("baseline", "ekt"):
            r = run_one(kind, rows, model_path, a)
            results[kind].append(r)
            share = 6 * r["params"] * r["tokens_per_s"] / peak
            print(f"  {kind:<8} {r['tokens_per_s']:8.1f} tok/s (median step "
                  f"{r['median_step_s']:.2f} s, {r['tokens_per_step']:.0f} real tokens/step)"
                  f"  {100 * share:5.1f}% of the 6·N·tokens ceiling", flush=True)  # fmt: skip
    base = statistics.median(r["tokens_per_s"] for r in results["baseline"])
    ours = statistics.median(r["tokens_per_s"] for r in results["ekt"])
    n = results["ekt"][0]["params"]
    print(
        f"median tokens/s: baseline {base:.1f}, ekt {ours:.1f}  ->  ekt/baseline {ours / base:.2f}x"
    )
    print(f"6·N·tokens ceiling (N={n / 1e6:.1f}M): baseline {100 * 6 * n * base / peak:.1f}%,"
          f" ekt {100 * 6 * n * ours / peak:.1f}% of the measured peak")  # fmt: skip
    if a.curve:
        print(loss_curve())


if __name__ == "__main__":
    main()
