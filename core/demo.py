"""The offline demo project: the sample problems this project ships, imported once.

`make run` opens `ekt-tui` on it when no project is given. It lives in the user data folder
(`$XDG_DATA_HOME/ekt-tui/demo`, else `~/.local/share/ekt-tui/demo`; `EKT_DEMO_DIR` overrides),
or `./ekt-demo` when that is not writable. A stamp file records which samples it holds, so a
later start costs one small file read; changed samples are imported again (idempotently).
Its teacher is the bundled offline one (`qwen-coder-1.5b`); a demo made when the default was
SmolLM2 (which solves nothing) is switched over once, other edits to its ekt.toml are kept.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import re
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from core.datasets import ImportOptions, import_dataset
from core.errors import ConfigError
from core.models import DEFAULT_TEACHER
from core.project import ASSETS, CONFIG_NAME, DB_NAME, init_project, is_project
from core.prompts import seed_default_prompts
from core.store import Store

T = TypeVar("T")
SAMPLES = ASSETS / "samples"
STAMP = ".ekt-demo"
# (file, format, dataset): the split comes from the file name (…-train / …-test).
DEMO_SOURCES = (
    ("math-train.jsonl", "gsm8k", "sample-math"),
    ("math-test.jsonl", "gsm8k", "sample-math"),
    ("code-train.jsonl", "mbpp", "sample-code"),
    ("code-test.jsonl", "mbpp", "sample-code"),
    ("check-test.jsonl", "humaneval", "sample-check"),
)


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError:
        return False
    return True


def demo_dir() -> Path:
    """Where the demo lives (created if needed): env override, user data folder, ./ekt-demo."""
    if env := os.environ.get("EKT_DEMO_DIR"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    preferred = Path(base).expanduser() / "ekt-tui" / "demo"
    return preferred if _writable(preferred.parent) else Path.cwd() / "ekt-demo"


OLD_TEACHERS = ("smollm2",)  # earlier demo defaults, replaced by DEFAULT_TEACHER


def _fingerprint() -> str:
    digest = hashlib.sha256(f"teacher:{DEFAULT_TEACHER}\n".encode())
    for name, fmt, dataset in DEMO_SOURCES:
        digest.update(f"{name}:{fmt}:{dataset}\n".encode())
        digest.update((SAMPLES / name).read_bytes())
    for prompt in sorted((ASSETS / "prompts").glob("*.txt")):
        digest.update(prompt.name.encode() + prompt.read_bytes())
    return digest.hexdigest()[:16]


def _retarget_teacher(root: Path) -> None:
    """Point the [teacher] model of an existing demo at DEFAULT_TEACHER if it still names an
    older default; the rest of the file (comments, user edits) stays as it is."""
    path = root / CONFIG_NAME
    text = path.read_text(encoding="utf-8")
    section = re.search(r"^\[teacher\]\n(?:(?!^\[).*\n?)*", text, re.M)
    if section is None:
        return
    olds = "|".join(re.escape(m) for m in OLD_TEACHERS)
    body = re.sub(
        rf'^model = "(?:{olds})"$', f'model = "{DEFAULT_TEACHER}"', section.group(0), flags=re.M
    )
    if body != section.group(0):
        tmp = path.with_name(CONFIG_NAME + ".tmp")
        tmp.write_text(text[: section.start()] + body + text[section.end() :], encoding="utf-8")
        os.replace(tmp, path)


async def _populate(root: Path) -> None:
    async with await Store.open(root / DB_NAME) as store:
        for name, fmt, dataset in DEMO_SOURCES:
            opts = ImportOptions(format=fmt, dataset=dataset)
            await import_dataset(store, str(SAMPLES / name), opts, check_leaks=False)
        await seed_default_prompts(store)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, also from inside a running loop (then on a helper thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="ekt-demo")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def ensure_demo_project(root: Path | None = None) -> Path:
    """The demo project folder, created and filled on first use; idempotent and cheap later."""
    root = root or demo_dir()
    stamp = root / STAMP
    fingerprint = _fingerprint()
    if is_project(root) and stamp.is_file() and stamp.read_text().strip() == fingerprint:
        return root
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = (root / ".ekt-demo.lock").open("w")
    except OSError as exc:
        raise ConfigError(f"{root}: cannot create the demo project: {exc.strerror}") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second process waits, then finds the stamp
        if stamp.is_file() and stamp.read_text().strip() == fingerprint and is_project(root):
            return root
        init_project(root, name="ekt-demo", exist_ok=True)
        _retarget_teacher(root)
        _run(_populate(root))
        stamp.write_text(fingerprint + "\n")
    return root
