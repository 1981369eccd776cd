"""Greedy dev pass@1 inside the training subprocess, where the model is already in memory.

The training callback calls `dev_pass_at_1` every `eval_every` steps; reloading the model in a
second process would cost more than the evaluation. torch is imported only inside the function
(this module is imported only by the training subprocess). The generated programs run in the
verifier's lean worker — its own process, spawned fresh — never in the training process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from core.config import VerifierSection
from core.prompts import render_zero_shot
from core.prompts.completion import completion_to_code, cut_at_stop


def generate_greedy(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    stops: Sequence[Sequence[str]],
    *,
    max_new_tokens: int = 256,
    batch_size: int = 8,
) -> list[str]:
    """Greedy completions, batched with left padding; each cut at its first stop sequence."""
    import torch

    was_training = model.training
    side, pad = tokenizer.padding_side, tokenizer.pad_token
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    device = next(model.parameters()).device
    out: list[str] = [""] * len(prompts)
    groups: dict[tuple[str, ...], list[int]] = {}  # one stop list per batch: stop early, safely
    for i, stop in enumerate(stops):
        groups.setdefault(tuple(stop), []).append(i)
    model.eval()
    try:
        for stop, idx in groups.items():
            for start in range(0, len(idx), batch_size):
                chunk = idx[start : start + batch_size]
                enc = tokenizer([prompts[i] for i in chunk], return_tensors="pt", padding=True)
                enc = enc.to(device)
                with torch.no_grad():
                    ids = model.generate(
                        **enc,
                        do_sample=False,
                        max_new_tokens=max_new_tokens,
                        pad_token_id=tokenizer.pad_token_id,
                        stop_strings=list(stop) or None,
                        tokenizer=tokenizer,
                    )
                width = enc["input_ids"].shape[1]
                texts = tokenizer.batch_decode(ids[:, width:], skip_special_tokens=True)
                for i, text in zip(chunk, texts, strict=True):
                    out[i] = cut_at_stop(text, stop)
    finally:
        tokenizer.padding_side, tokenizer.pad_token = side, pad
        model.train(was_training)
    return out


async def _verify_all(
    codes: Sequence[str], problems: Sequence[Any], config: VerifierSection
) -> list[str]:
    from core.verify.client import WorkerPool
    from core.verify.service import check_program

    async with WorkerPool(config.workers) as pool:
        verdicts = await asyncio.gather(
            *(check_program(c, p, config, pool=pool) for c, p in zip(codes, problems, strict=True))
        )
    return [v.status for v in verdicts]


def dev_pass_at_1(
    model: Any,
    tokenizer: Any,
    problems: Sequence[Any],
    verifier_config: VerifierSection,
    *,
    max_new_tokens: int = 256,
    batch_size: int = 8,
) -> float:
    """Fraction of dev problems whose greedy zero-shot program passes (greedy: pass@1 = mean).

    Synchronous because the transformers callback that calls it is; nothing is stored."""
    if not problems:
        return 0.0
    rendered = [render_zero_shot(p) for p in problems]
    completions = generate_greedy(
        model,
        tokenizer,
        [r.text for r in rendered],
        [r.stop for r in rendered],
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
    )
    codes = [completion_to_code(r, c) for r, c in zip(rendered, completions, strict=True)]
    statuses = asyncio.run(_verify_all(codes, problems, verifier_config))
    return sum(s == "pass" for s in statuses) / len(problems)
