"""The trainer subprocess (`python -m core.train --spec SPEC.json [--resume]`): torch lives here.

transformers' `Trainer` does the loop (and, under accelerate/torchrun, the distribution); this
module adds what EKT needs around it:
- examples tokenised as prompt + completion + EOS, truncated from the prompt's left, batched by
  length (`group_by_length`) and padded only to the longest in the batch;
- a loss on completion tokens only, with the LM head applied to those positions alone (on a small
  model the 49k-vocabulary head is a large share of the FLOPs, and most tokens are prompt);
- a callback writing progress (loss, lr, grad norm, tokens/s, ETA) into the store, dev pass@1
  every `eval_every` steps, checkpoint rows with lineage, and a clean stop on SIGTERM.
`EKT_TRAIN_STEP_DELAY` (seconds slept after each step) slows a tiny-model run down enough for a
test or a demo to cancel it half-way; it is never set otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from core.config import VerifierSection
from core.errors import EktError, TrainError
from core.queries.training import problems_sync
from core.train.recorder import Recorder
from core.train.sft import read_sft


class StopFlag:
    """Set by SIGTERM/SIGINT; the callback turns it into save-then-stop at the next step end."""

    def __init__(self) -> None:
        self.set = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.set = True


def tokenize(rows: list[dict[str, Any]], tokenizer: Any, max_length: int) -> dict[str, list[Any]]:
    """input_ids, prompt_len and length columns; the completion keeps priority over the prompt."""
    eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    out: dict[str, list[Any]] = {"input_ids": [], "prompt_len": [], "length": []}
    for row in rows:
        p = tokenizer(row["prompt"], add_special_tokens=True)["input_ids"]
        c = tokenizer(row["completion"], add_special_tokens=False)["input_ids"] + eos
        c = c[:max_length]
        p = p[max(0, len(p) + len(c) - max_length) :] if len(p) + len(c) > max_length else p
        if not p:  # keep one prompt token: the first completion token needs a position
            p, c = c[:1], c[1:]
        ids = p + c
        out["input_ids"].append(ids)
        out["prompt_len"].append(len(p))
        out["length"].append(len(ids))
    return out


class Collator:
    """Right-pads to the longest example in the batch; labels are -100 on prompt and padding."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        width = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(features), width), dtype=torch.long)
        labels = torch.full((len(features), width), -100, dtype=torch.long)
        for i, f in enumerate(features):
            seq = torch.tensor(f["input_ids"], dtype=torch.long)
            n, p = len(seq), int(f["prompt_len"])
            ids[i, :n] = seq
            mask[i, :n] = 1
            labels[i, p:n] = seq[p:]
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def _trainer_class() -> type:
    import torch
    import torch.nn.functional as F
    from transformers import Trainer

    class CompletionTrainer(Trainer):  # type: ignore[misc]
        """Hidden states from the base model; the LM head only where a label is predicted."""

        loss_is_scaled_for_ga = True
        tokens_seen = 0

        def compute_loss(
            self,
            model: Any,
            inputs: dict[str, Any],
            return_outputs: bool = False,
            num_items_in_batch: Any = None,
        ) -> Any:
            labels = inputs["labels"]
            unwrapped = self.accelerator.unwrap_model(model)
            if model is unwrapped:
                base = getattr(unwrapped, unwrapped.base_model_prefix)
                hidden = base(
                    input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]
                ).last_hidden_state
            else:  # a DDP/FSDP wrapper must see the forward, or gradients are not synchronised
                hidden = model(
                    input_ids=inputs["input_ids"],
                    attention_mask=inputs["attention_mask"],
                    output_hidden_states=True,
                    logits_to_keep=1,
                ).hidden_states[-1]
            target = labels[:, 1:]
            keep = target.ne(-100)
            logits = unwrapped.get_output_embeddings()(hidden[:, :-1][keep]).float()
            loss = F.cross_entropy(logits, target[keep], reduction="sum")
            if num_items_in_batch is not None:
                loss = loss / num_items_in_batch
                if self.args.average_tokens_across_devices:
                    loss = loss * self.accelerator.num_processes
            else:
                ga = getattr(self, "current_gradient_accumulation_steps", 1)
                loss = loss / keep.sum().clamp(min=1) / ga
            if model.training:
                self.tokens_seen += int(inputs["attention_mask"].sum())
            return (loss, {"loss": loss}) if return_outputs else loss

    del torch
    return CompletionTrainer


def _load_dev(db: str, ids: list[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        rows = problems_sync(conn, ids)
    finally:
        conn.close()
    order = {pid: i for i, pid in enumerate(ids)}
    return sorted(rows, key=lambda r: order[r["id"]])


def _progress_callback(trainer: Any, rec: Recorder, stop: StopFlag, spec: dict[str, Any]) -> Any:
    import torch
    from transformers import TrainerCallback

    hp = spec["hparams"]
    dev = _load_dev(spec["db"], spec["dev_ids"])
    verifier = VerifierSection(**spec["verifier"])
    delay = float(os.environ.get("EKT_TRAIN_STEP_DELAY") or 0)

    class Progress(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.cancelled = False
            self.metrics: dict[int, dict[str, Any]] = {}
            self.last_loss: float | None = None
            self.tps: float | None = None
            self.step_s: float | None = None
            self.eta: float | None = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.t = time.monotonic()
            self.tok = trainer.tokens_seen
            rec.event(
                "start",
                step=state.global_step,
                data={"max_steps": state.max_steps, "examples": len(trainer.train_dataset),
                      "dev": len(dev), "resumed": state.global_step > 0},
            )  # fmt: skip

        def _sync(self, args: Any, tokens: int) -> tuple[bool, int]:
            """(stop?, tokens of this step) over every process: one rank's SIGTERM stops all,
            at the same step (DDP needs it), and tokens/s counts the whole job."""
            flag = stop.set
            if torch.distributed.is_available() and torch.distributed.is_initialized():
                t = torch.tensor([tokens], device=args.device, dtype=torch.float64)
                f = torch.tensor([int(flag)], device=args.device)
                torch.distributed.all_reduce(t)
                torch.distributed.all_reduce(f, op=torch.distributed.ReduceOp.MAX)
                return bool(f.item()), int(t[0].item())
            return flag, tokens

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if delay:
                time.sleep(delay)
            stop_now, tokens = self._sync(args, trainer.tokens_seen - self.tok)
            now = time.monotonic()
            dt = max(now - self.t, 1e-9)
            self.tps = tokens / dt
            self.step_s = dt if self.step_s is None else 0.7 * self.step_s + 0.3 * dt
            self.eta = max(0, state.max_steps - state.global_step) * self.step_s
            if stop_now:
                self.cancelled = True
                control.should_save = True
                control.should_training_stop = True
            elif hp["eval_every"] and state.global_step % hp["eval_every"] == 0 and dev:
                self._evaluate(state)
                control.should_save = True
            self.t, self.tok = time.monotonic(), trainer.tokens_seen

        def _evaluate(self, state: Any) -> None:
            from core.evaluate.dev import dev_pass_at_1

            t0 = time.monotonic()
            score = dev_pass_at_1(
                trainer.model, trainer.processing_class, dev, verifier,
                max_new_tokens=min(256, hp["max_length"]),
            )  # fmt: skip
            self.metrics[state.global_step] = {"dev_pass_at_1": score}
            rec.event(
                "eval", step=state.global_step, epoch=state.epoch,
                data={"dev_pass_at_1": score, "dev": len(dev), "seconds": time.monotonic() - t0},
            )  # fmt: skip

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            logs = logs or {}
            if "loss" not in logs:
                return
            self.last_loss = float(logs["loss"])
            rec.event(
                "log", step=state.global_step, epoch=logs.get("epoch", state.epoch),
                loss=self.last_loss, lr=logs.get("learning_rate"), grad_norm=logs.get("grad_norm"),
                tokens_per_s=self.tps, eta_s=self.eta, data={"max_steps": state.max_steps},
            )  # fmt: skip

        def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            step = state.global_step
            path = str(Path(args.output_dir) / f"checkpoint-{step}")
            metrics = {**self.metrics.get(step, {}), "loss": self.last_loss}
            lineage = {**spec["lineage"], "step": step, "train_run": spec["name"]}
            rec.checkpoint(step, path, metrics, lineage)
            if "dev_pass_at_1" in metrics:
                rec.mark_best()
            rec.event("checkpoint", step=step, data={"path": path, **metrics})

    return Progress()


def _oom(exc: BaseException) -> bool:
    import torch

    text = str(exc).lower()
    return isinstance(exc, MemoryError | torch.OutOfMemoryError) or (
        "out of memory" in text or "can't allocate memory" in text
    )


def train(spec: dict[str, Any], resume: bool, rec: Recorder, stop: StopFlag) -> str:
    """Run the Trainer; returns the final status ('done' or 'cancelled')."""
    import torch
    from datasets import Dataset
    from transformers import PrinterCallback, TrainingArguments, set_seed
    from transformers.trainer_utils import get_last_checkpoint

    from core.models import load_model, load_tokenizer

    hp = spec["hparams"]
    set_seed(hp["seed"])
    try:
        tokenizer = load_tokenizer(spec["model_path"])
        model = load_model(spec["model_path"])
    except EktError:
        raise
    except Exception as exc:  # corrupt weights, wrong architecture: name the folder
        first = (str(exc).strip().splitlines() or [""])[0]
        raise TrainError(
            f"{spec['model_path']}: cannot load model: {type(exc).__name__}: {first}"
        ) from None
    rows = read_sft(Path(spec["sft_path"]))
    dataset = Dataset.from_dict(tokenize(rows, tokenizer, hp["max_length"]))
    save_every = hp["save_every"] or hp["eval_every"] or 10**9
    args = TrainingArguments(
        output_dir=spec["output_dir"],
        per_device_train_batch_size=hp["batch_size"],
        gradient_accumulation_steps=hp["grad_accum"],
        learning_rate=hp["lr"],
        num_train_epochs=hp["epochs"],
        max_steps=hp["max_steps"],
        warmup_steps=hp["warmup"],
        weight_decay=hp["weight_decay"],
        seed=hp["seed"],
        logging_steps=1,
        save_strategy="steps",
        save_steps=save_every,
        report_to=hp["report_to"],
        train_sampling_strategy="group_by_length",
        remove_unused_columns=False,
        disable_tqdm=True,
        use_cpu=not torch.cuda.is_available(),
        dataloader_pin_memory=torch.cuda.is_available(),
        bf16=torch.cuda.is_available() and torch.cuda.is_bf16_supported(),
        ddp_find_unused_parameters=False,  # every parameter gets a gradient every step
    )
    trainer = _trainer_class()(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=Collator(tokenizer.pad_token_id),
        processing_class=tokenizer,
    )
    trainer.remove_callback(PrinterCallback)  # our JSON lines replace its dict prints
    progress = _progress_callback(trainer, rec, stop, spec)
    trainer.add_callback(progress)
    last = get_last_checkpoint(spec["output_dir"]) if resume else None
    if resume and last is None:
        rec.event("log", data={"message": "no checkpoint yet: training from step 0"})
    if stop.set:
        return "cancelled"
    trainer.train(resume_from_checkpoint=last)
    return "cancelled" if progress.cancelled else "done"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.train")
    parser.add_argument("--spec", required=True, type=Path)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    rank = int(os.environ.get("RANK", "0"))
    rec = Recorder(spec["db"], spec["train_run_id"], enabled=rank == 0)
    stop = StopFlag()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    rec.status("running")
    try:
        status = train(spec, args.resume, rec, stop)
    except BaseException as exc:  # every failure ends as one line in the store, never a hang
        if isinstance(exc, EktError):
            message = str(exc)
        elif _oom(exc):
            message = "out of memory: lower --batch-size or --max-length (or raise --grad-accum)"
        else:
            first = (str(exc).strip().splitlines() or [""])[0]
            message = f"{type(exc).__name__}: {first}"[:500]
        rec.event("error", data={"message": message})
        rec.status("failed", error=message)
        rec.close()
        print(f"core.train: error: {message}", file=sys.stderr, flush=True)
        if not isinstance(exc, EktError | Exception):
            raise
        return 1
    rec.event(status)
    rec.status(status)
    rec.close()
    return 0
