"""The trainer's pieces in-process: truncation, padding, and the completion-only loss."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")


def test_tokenize_keeps_the_completion_and_truncates_the_prompt(tiny_model: Path) -> None:
    from core.models import load_tokenizer
    from core.train.worker import tokenize

    tok = load_tokenizer(tiny_model)
    rows = [{"prompt": "Question: " + "apples " * 40, "completion": "\n    return 3 + 4\n"}]
    full = tokenize(rows, tok, 1024)
    cut = tokenize(rows, tok, 24)
    completion = len(full["input_ids"][0]) - full["prompt_len"][0]
    assert cut["length"] == [24] and 24 - cut["prompt_len"][0] == completion
    assert full["input_ids"][0][-completion:] == cut["input_ids"][0][-completion:]
    assert cut["input_ids"][0][-1] == tok.eos_token_id  # it learns to stop


def test_collator_pads_to_the_longest_and_masks_prompt_and_padding() -> None:
    from core.train.worker import Collator

    batch = Collator(pad_id=0)(
        [{"input_ids": [5, 6, 7, 8], "prompt_len": 2}, {"input_ids": [5, 9, 3], "prompt_len": 1}]
    )
    assert batch["input_ids"].tolist() == [[5, 6, 7, 8], [5, 9, 3, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert batch["labels"].tolist() == [[-100, -100, 7, 8], [-100, 9, 3, -100]]


def test_completion_only_loss_equals_the_full_head_loss(tiny_model: Path, tmp_path: Path) -> None:
    """Same value and gradients as the model's own loss with prompt labels masked out."""
    from transformers import AutoModelForCausalLM, TrainingArguments

    from core.train.worker import Collator, _trainer_class

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model)).train()
    batch = Collator(pad_id=1)(
        [{"input_ids": list(range(10, 30)), "prompt_len": 12},
         {"input_ids": list(range(40, 52)), "prompt_len": 5}]
    )  # fmt: skip
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none")
    trainer = _trainer_class()(model=model, args=args)
    ours = trainer.compute_loss(model, batch)
    ours.backward()
    grad_ours = model.model.layers[0].self_attn.q_proj.weight.grad.clone()
    model.zero_grad()
    ref = model(**batch).loss
    ref.backward()
    grad_ref = model.model.layers[0].self_attn.q_proj.weight.grad
    assert torch.allclose(ours, ref, atol=1e-5)
    assert torch.allclose(grad_ours, grad_ref, atol=1e-6)
    assert trainer.tokens_seen == 20 + 12


def test_out_of_memory_is_recognised() -> None:
    from core.train.worker import _oom

    assert _oom(MemoryError())
    assert _oom(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried 9 GB"))
    assert _oom(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert not _oom(ValueError("bad shape"))
