"""The generation subprocess: `python -m core.generate --model PATH [--dtype D] [--device D]
[--no-prefix-cache]`.

Loads the model once, then answers JSON-line requests from stdin on the original stdout
(everything else the libraries print goes to stderr, so the protocol stream stays clean).
The few-shot exemplars are most of every prompt: the keys/values of the prompts' shared token
prefix are computed once and copied for each batch (across problems, samples and requests), so
a new problem pays only for its own question. `--dtype int8` quantises the linear layers
dynamically (fp32 activations, int8 weights); `fast` picks the fastest measured on the device,
`auto` full precision on a CPU.

  → {"id": 1, "prompts": [...], "n": 8, "stop": [...], "max_new_tokens": 320,
     "temperature": 0.8, "top_p": 0.95, "seed": 0, "stream": true, "chat": false, "system": ""}
  ← {"type": "ready", "max_positions": 8192}                                    (once, after load)
  ← {"id": 1, "type": "delta", "prompt": 0, "choice": 3, "text": "..."}         (when streaming)
  ← {"id": 1, "type": "result", "completions": [[{"text", "prompt_tokens",
     "completion_tokens", "finish_reason"}, ...], ...]}
  ← {"id": 1, "type": "error", "message": "..."} / {"type": "fatal", "message": "..."}
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from typing import Any, TextIO

from core.prompts.completion import cut_at_stop

MAX_ROWS = 32  # sequences generated together: prompts × n per forward pass
MIN_PREFIX = 16  # shorter shared prefixes are not worth a cache copy
# "fast" (the local teacher's choice): on a CPU dynamic int8 linear layers decode 5x faster than
# bf16 and far faster than fp32 on this 2-core AVX2 machine (bench/teacher_local_bench.py
# --dtypes); "auto" keeps full precision on the CPU for students and evaluations.
FAST_CPU_DTYPE = "int8"


def _send(out: TextIO, msg: dict[str, Any]) -> None:
    out.write(json.dumps(msg) + "\n")
    out.flush()


class _Streamer:
    """Per-row incremental decode for `model.generate(streamer=...)`: sends the new text of each
    row (cut at the first stop string) at most every `interval` seconds per batch."""

    def __init__(
        self, tok: Any, rows: list[tuple[int, int]], stop: list[str], emit: Any, interval: float
    ) -> None:
        self.tok, self.rows, self.stop, self.emit = tok, rows, stop, emit
        self.ids: list[list[int]] = [[] for _ in rows]
        self.sent = [""] * len(rows)
        self.prompt_seen = False
        self.interval = interval
        self.last = 0.0

    def put(self, value: Any) -> None:
        if not self.prompt_seen:  # the first call carries the prompt ids
            self.prompt_seen = True
            return
        for i, token in enumerate(value.reshape(-1).tolist()):
            self.ids[i].append(token)
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self.flush()

    def flush(self) -> None:
        for i, (p, c) in enumerate(self.rows):
            text = cut_at_stop(self.tok.decode(self.ids[i], skip_special_tokens=True), self.stop)
            text = text.rstrip("\ufffd")  # a character whose bytes are not all generated yet
            sent = self.sent[i]
            if len(text) > len(sent) and text.startswith(sent):
                self.emit(p, c, text[len(sent) :])
                self.sent[i] = text

    def end(self) -> None:
        self.flush()


_STOPS: dict[tuple[str, ...], Any] = {}


def _stop_criteria(tok: Any, stop: list[str]) -> Any:
    """StopStringCriteria preprocesses the whole vocabulary (~1 s for SmolLM2's 49k tokens) on
    construction; `generate(stop_strings=...)` would pay that on every call, so keep one per
    stop list for the life of the worker."""
    from transformers import StoppingCriteriaList
    from transformers.generation.stopping_criteria import StopStringCriteria

    key = tuple(stop)
    if key not in _STOPS:
        _STOPS[key] = StopStringCriteria(tok, list(stop))
    return StoppingCriteriaList([_STOPS[key]])


def _common(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


class PrefixCache:
    """The keys/values of the last shared prompt prefix; `covering(ids)` returns a private copy
    for exactly `ids`, computing only the tokens the remembered prefix does not have yet."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.ids: list[int] = []
        self.kv: Any = None
        self.reused_tokens = 0  # prefill tokens saved so far (for the bench and the log)

    def covering(self, ids: list[int]) -> Any:
        import copy

        import torch
        from transformers import DynamicCache

        keep = _common(self.ids, ids) if self.kv is not None else 0
        if keep >= MIN_PREFIX:
            kv = self.kv
            if keep < len(self.ids):
                kv = copy.deepcopy(kv)
                kv.crop(keep - len(self.ids))  # this transformers takes the tokens to remove
        else:
            kv, keep = DynamicCache(config=self.model.config), 0
        if keep < len(ids):
            if kv is self.kv:
                kv = copy.deepcopy(kv)
            device = next(self.model.parameters()).device
            with torch.no_grad():
                self.model(
                    input_ids=torch.tensor([ids[keep:]], device=device), cache=kv, use_cache=True
                )
        self.reused_tokens += keep
        self.ids, self.kv = list(ids), kv
        return copy.deepcopy(kv)


def _batch(
    model: Any, tok: Any, ids: list[list[int]], per: int, prefix: PrefixCache | None
) -> tuple[dict[str, Any], int]:
    """Model inputs for prompts × per rows (each prompt's rows adjacent) and the input width.

    Each prompt's tokens are processed once, not once per sample: the prompts' keys/values are
    computed for all but their last token, then repeated for the samples, and `generate` only
    feeds the last token. With a prefix cache the rows start from the cached shared prefix,
    then each prompt's own tokens, padded between the two (the attention mask and the
    positions derived from it skip the pads); without one they are left-padded."""
    import torch
    from transformers import DynamicCache

    device = next(model.parameters()).device
    pad = tok.pad_token_id
    shared = min(len(x) for x in ids) - 1  # at least one token of each row goes through generate
    for row in ids[1:]:
        shared = min(shared, _common(ids[0], row))
    cut = shared if prefix is not None and shared >= MIN_PREFIX else 0
    tails = [x[cut:] for x in ids]
    width = max(len(t) for t in tails)
    rows = torch.tensor([ids[0][:cut] + [pad] * (width - len(t)) + t for t in tails])
    mask = torch.tensor([[1] * cut + [0] * (width - len(t)) + [1] * len(t) for t in tails])
    rows, mask = rows.to(device), mask.to(device)
    if cut:
        assert prefix is not None
        kv = prefix.covering(ids[0][:cut])
        kv.batch_repeat_interleave(len(ids))
    else:
        kv = DynamicCache(config=model.config)
    if width > 1:  # the prompts' own tokens but the last, once per prompt
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        with torch.no_grad():
            model(
                input_ids=rows[:, cut:-1], attention_mask=mask[:, :-1],
                position_ids=positions[:, cut:-1], cache=kv, use_cache=True,
            )  # fmt: skip
    if per > 1:
        kv.batch_repeat_interleave(per)
        rows, mask = rows.repeat_interleave(per, 0), mask.repeat_interleave(per, 0)
    inputs: dict[str, Any] = {"input_ids": rows, "attention_mask": mask}
    if kv.get_seq_length() > 0:
        inputs["cache"] = kv
    return inputs, cut + width


def _encode(tok: Any, prompts: list[str], chat: bool, system: str) -> list[str]:
    if not chat:
        return prompts
    out = []
    for prompt in prompts:
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": prompt}
        ]
        out.append(tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
    return out


def _generate(
    model: Any, tok: Any, req: dict[str, Any], out: TextIO, prefix: PrefixCache | None = None
) -> list[list[dict]]:
    import torch

    n, stop = int(req["n"]), [s for s in req.get("stop") or [] if s]
    temperature, rid = float(req.get("temperature", 1.0)), req["id"]
    greedy = temperature <= 0
    texts = _encode(tok, list(req["prompts"]), bool(req.get("chat")), req.get("system") or "")
    results: list[list[dict]] = [[] for _ in texts]
    limit = getattr(model.config, "max_position_embeddings", None)
    per = 1 if greedy else n  # sequences per prompt in one pass
    step_prompts = max(1, MAX_ROWS // per)
    if req.get("seed") is not None:
        torch.manual_seed(int(req["seed"]))
    for start in range(0, len(texts), step_prompts):
        idx = list(range(start, min(start + step_prompts, len(texts))))
        ids = [tok(texts[i])["input_ids"] for i in idx]
        lengths = [len(x) for x in ids]
        if limit and max(lengths) >= limit:
            raise ValueError(
                f"prompt of {max(lengths)} tokens exceeds the model's context of {limit}"
            )
        enc, width = _batch(model, tok, ids, per, prefix)
        streamer = None
        if req.get("stream"):
            rows = [(i, c) for i in idx for c in range(per)]
            streamer = _Streamer(
                tok,
                rows,
                stop,
                lambda p, c, t: _send(
                    out, {"id": rid, "type": "delta", "prompt": p, "choice": c, "text": t}
                ),
                0.05,
            )
        kwargs: dict[str, Any] = {"do_sample": not greedy}
        if not greedy:
            kwargs.update(temperature=temperature, top_p=float(req.get("top_p", 1.0)))
        max_new = int(req["max_new_tokens"])
        if limit:
            max_new = max(1, min(max_new, limit - width))
        if stop:
            kwargs["stopping_criteria"] = _stop_criteria(tok, stop)
        with torch.no_grad():
            generated = model.generate(
                **enc,
                max_new_tokens=max_new,
                pad_token_id=tok.pad_token_id,
                streamer=streamer,
                **kwargs,
            )
        ends = {tok.eos_token_id, tok.pad_token_id}
        for row, seq in enumerate(generated[:, width:].tolist()):
            p = idx[row // per]
            used = next((k + 1 for k, t in enumerate(seq) if t in ends), len(seq))
            raw = tok.decode(seq[:used], skip_special_tokens=True)
            text = cut_at_stop(raw, stop)
            hit_stop = len(text) < len(raw) or used < len(seq)
            item = {
                "text": text,
                "prompt_tokens": lengths[row // per],
                "completion_tokens": used,
                "finish_reason": "stop" if hit_stop else "length",
            }
            results[p].append(item)
    if greedy:  # one greedy pass stands for every requested sample
        results = [r * n for r in results]
    return results


def _exit_with_parent() -> None:
    """Die with the engine: a parent killed with -9 closes our stdin, but a batch already being
    generated on a CPU can run for minutes before we would read it."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    _exit_with_parent()
    parser = argparse.ArgumentParser(prog="python -m core.generate")
    parser.add_argument("--model", required=True)
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--device", default=None)
    parser.add_argument("--no-prefix-cache", action="store_true", help="recompute every prompt")
    args = parser.parse_args(argv)
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # stray prints from libraries must not corrupt the protocol
    sys.stdout = sys.stderr
    try:
        import torch

        from core.models import load_model, load_tokenizer

        device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = args.dtype
        if dtype in ("auto", "fast"):
            cpu = FAST_CPU_DTYPE if dtype == "fast" else "float32"
            dtype = "bfloat16" if device.startswith("cuda") else cpu
        tok = load_tokenizer(args.model)
        tok.padding_side = "left"
        model = load_model(args.model, dtype="float32" if dtype == "int8" else dtype, device=device)
        if dtype == "int8":
            import warnings

            from torch.ao.quantization import quantize_dynamic

            with warnings.catch_warnings():  # torch.ao's deprecation notices, not our errors
                warnings.simplefilter("ignore")
                model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        model.eval()
        prefix = None if args.no_prefix_cache else PrefixCache(model)
    except Exception as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        _send(proto, {"type": "fatal", "message": message})
        return 1
    limit = getattr(model.config, "max_position_embeddings", None)
    _send(proto, {"type": "ready", "max_positions": limit, "device": device, "dtype": dtype})
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            completions = _generate(model, tok, req, proto, prefix)
        except Exception as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            _send(proto, {"id": req.get("id"), "type": "error", "message": msg})
            continue
        _send(proto, {"id": req["id"], "type": "result", "completions": completions})
    return 0


if __name__ == "__main__":
    sys.exit(main())
