"""A tiny randomly initialised causal LM with a tokenizer trained on the fly (tests only).

Student tests must be offline and fast: a 2-layer Llama with hidden size 32 and a ~300-token
byte-level BPE vocabulary saves and reloads in well under a second and trains a step in
milliseconds. The vocabulary is learned from a few Python/word-problem strings so prompts and
gold programs tokenise into a realistic number of tokens.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "def solution():\n    total = 3 + 4\n    return total\n",
    "def add(a, b):\n    return a + b\n",
    "assert add(1, 2) == 3\n",
    "Question: Tom has 5 apples and eats 2. How many apples are left?\n",
    "Write a Python function that returns the sum of a list of numbers.\n",
    "for i in range(10):\n    x = x * 2 - 1\nprint(x)\n",
    '"""Return the answer."""\n# comment\nif a > b: return a else: return b\n',
    "0123456789 + - * / = ( ) [ ] { } : , . ' \" # _ < > ! % \n\t",
]
SPECIALS = ["<|endoftext|>", "<pad>"]


def _tokenizer(vocab_size: int) -> object:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=SPECIALS[0], pad_token=SPECIALS[1]
    )


def make_tiny_model(folder: Path | str, *, vocab_size: int = 320, seed: int = 0) -> Path:
    """Save a random 2-layer Llama (hidden 32) plus its tokenizer into `folder`; return it."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer(vocab_size)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),  # type: ignore[arg-type]
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,  # RoPE: free; few-shot prompts run past 1k tokens
        eos_token_id=tokenizer.eos_token_id,  # type: ignore[attr-defined]
        pad_token_id=tokenizer.pad_token_id,  # type: ignore[attr-defined]
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))  # type: ignore[attr-defined]
    return folder
