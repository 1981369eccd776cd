"""The embedding subprocess: `python -m core.embed --model PATH [--device D] [--max-length N]`.

Loads the encoder once, then answers JSON-line requests from stdin on the original stdout
(library chatter goes to stderr so the protocol stream stays clean):

  → {"id": 1, "texts": ["...", ...]}
  ← {"type": "ready", "dim": 576, "device": "cpu"}                      (once, after load)
  ← {"id": 1, "type": "result", "vectors": ["<base64 float16 bytes>", ...]}
  ← {"id": 1, "type": "error", "message": "..."} / {"type": "fatal", "message": "..."}

Any Hugging Face model gives a vector per text: its base model (`AutoModel`: a causal LM such as
the offline default SmolLM2 without its LM head, or an encoder) mean-pooled over the
non-padding tokens of the last hidden state.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from typing import Any, TextIO

MAX_ROWS = 16  # texts per forward pass


def _send(out: TextIO, msg: dict[str, Any]) -> None:
    out.write(json.dumps(msg) + "\n")
    out.flush()


def _load(path: str, device: str) -> tuple[Any, Any]:
    """The base model without its head (a causal LM's vocabulary projection is the costliest
    layer and plays no part in the embedding)."""
    from transformers import AutoModel
    from transformers.utils import logging

    from core.models import load_tokenizer

    logging.set_verbosity_error()  # "lm_head weights not used": expected, not a problem
    tok = load_tokenizer(path)
    tok.padding_side = "right"
    model = AutoModel.from_pretrained(path)
    model.to(device)
    model.eval()
    return tok, model


def _embed(tok: Any, model: Any, texts: list[str], max_length: int) -> list[str]:
    import torch

    device = next(model.parameters()).device
    # batch texts of similar length together (padding is wasted compute), answer in input order
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list[str] = [""] * len(texts)
    for start in range(0, len(order), MAX_ROWS):
        rows = order[start : start + MAX_ROWS]
        batch = [texts[i] for i in rows]
        enc = tok(
            batch, return_tensors="pt", padding=True, truncation=True, max_length=max_length
        ).to(device)
        with torch.no_grad():
            hidden = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
        for i, row in zip(rows, pooled.float().cpu().numpy().astype("float16"), strict=True):
            out[i] = base64.b64encode(row.tobytes()).decode()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.embed")
    parser.add_argument("--model", required=True)
    parser.add_argument("--device", default=None)
    parser.add_argument("--max-length", type=int, default=512)
    args = parser.parse_args(argv)
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # stray prints from libraries must not corrupt the protocol
    sys.stdout = sys.stderr
    try:
        import torch

        device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
        tok, model = _load(args.model, device)
        dim = int(getattr(model.config, "hidden_size", 0) or 0)
    except Exception as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        _send(proto, {"type": "fatal", "message": message})
        return 1
    _send(proto, {"type": "ready", "dim": dim, "device": device})
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            vectors = _embed(tok, model, [str(t) for t in req["texts"]], args.max_length)
        except Exception as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            _send(proto, {"id": req.get("id"), "type": "error", "message": msg})
            continue
        _send(proto, {"id": req["id"], "type": "result", "vectors": vectors})
    return 0


if __name__ == "__main__":
    sys.exit(main())
