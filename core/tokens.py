"""Token counts for prompts: exact with the model's own tokenizer when it is on disk, else an
honest estimate (`exact=False`, shown as "≈N") — never a network download just to count.

The estimate splits text the way byte-level BPE tokenizers mostly do (words, single digits,
punctuation, newlines, indentation runs); on GSM8K/MBPP text it is within ~±25% of SmolLM2's
tokenizer, median +5%.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

_PIECE = re.compile(r"[A-Za-z]+|\d|[^\sA-Za-z\d]|\n| +|\t+")


@dataclass(frozen=True, slots=True)
class TokenCount:
    n: int
    exact: bool

    def __str__(self) -> str:
        return str(self.n) if self.exact else f"≈{self.n}"


def estimate_tokens(text: str) -> int:
    n = 0
    for m in _PIECE.finditer(text):
        piece = m.group()
        if piece[0].isalpha():
            n += 1 + (len(piece) - 1) // 6
        elif piece[0] == " ":
            n += len(piece) > 1  # one space joins the next word's token
        else:
            n += 1
    return n


def tokenizer_file(model: str | None) -> Path | None:
    """tokenizer.json for a model spec, a model folder or the file itself; None if not on disk."""
    if not model:
        return None
    path = Path(model).expanduser()
    if path.name == "tokenizer.json" and path.is_file():
        return path
    if path.is_dir() and (path / "tokenizer.json").is_file():
        return path / "tokenizer.json"
    try:
        from core.models import cached_tokenizer_file
    except ImportError:
        return None
    try:
        return cached_tokenizer_file(model)
    except Exception:  # an unusable spec only means "count approximately"
        return None


@lru_cache(maxsize=8)
def _tokenizer(path: str) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(path)


def count_tokens(text: str, model: str | None = None) -> TokenCount:
    """Exact when `model`'s tokenizer.json is available locally, else an estimate."""
    path = tokenizer_file(model)
    if path is not None:
        try:
            tok = _tokenizer(str(path))
        except Exception:  # tokenizers missing or the file unreadable: fall back, honestly
            return TokenCount(estimate_tokens(text), False)
        return TokenCount(len(tok.encode(text, add_special_tokens=False).ids), True)
    return TokenCount(estimate_tokens(text), False)
