"""The shared few-shot prefix's keys/values are reused: same greedy tokens with and without."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from core.generate import GenerationWorker
from tests.tiny_model import CORPUS, make_tiny_model

SHOTS = "".join(CORPUS[:3]) * 2  # the shared exemplars: ~100 tokens of the tiny vocabulary
QUESTIONS = [
    "Question: Tom has 5 apples and eats 2.\ndef solution():",
    "Question: Tom has 3 apples.\ndef solution():",
    "Write a Python function that returns the sum.\ndef add(a, b):",
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = make_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=3)
    config = json.loads((folder / "config.json").read_text())
    config["max_position_embeddings"] = 4096
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def _request(prompts: list[str], rid: int, n: int = 2) -> dict[str, Any]:
    return {
        "id": rid, "prompts": prompts, "n": n, "stop": ["\n\n"], "max_new_tokens": 16,
        "temperature": 0, "top_p": 1, "seed": None, "stream": True,
    }  # fmt: skip


def test_prefix_reuse_gives_the_same_greedy_tokens(tiny: Path) -> None:
    from core.generate.__main__ import PrefixCache, _generate
    from core.models import load_model, load_tokenizer

    tok = load_tokenizer(tiny)
    tok.padding_side = "left"
    model = load_model(tiny).eval()
    requests = [
        _request([SHOTS + q for q in QUESTIONS], 1),  # one batch: prefix computed once
        _request([SHOTS + QUESTIONS[1]], 2),  # a later request: the whole prefix reused
        _request(["def add(a, b):\n" + SHOTS + QUESTIONS[0]], 3),  # nothing shared: recomputed
        _request([SHOTS[:60] + q for q in QUESTIONS[:2]], 4),  # a shorter prefix: cache cropped
    ]
    cache = PrefixCache(model)
    for req in requests:
        plain = _generate(model, tok, req, io.StringIO(), None)
        reused = _generate(model, tok, req, io.StringIO(), cache)
        assert reused == plain, req["id"]
        assert all(c["completion_tokens"] > 0 for row in plain for c in row)
    assert cache.reused_tokens >= len(tok(SHOTS)["input_ids"])  # request 2 took it from memory


async def test_worker_with_and_without_prefix_cache_agree(tiny: Path) -> None:
    prompts = [SHOTS + q for q in QUESTIONS]
    texts = []
    for reuse in (True, False):
        async with GenerationWorker(str(tiny), prefix_cache=reuse) as worker:
            rows = []
            for start in range(len(prompts)):  # one problem per call, as the teacher sends them
                out = await worker.generate(
                    prompts[start : start + 1], n=2, stop=["\n\n"], max_new_tokens=12,
                    temperature=0, top_p=1, seed=None,
                )  # fmt: skip
                rows.append([(c.text, c.completion_tokens, c.prompt_tokens) for c in out[0]])
            texts.append(rows)
    assert texts[0] == texts[1]
