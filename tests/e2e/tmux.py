"""Drive a real terminal program in tmux: start it, send keys, read the screen.

Each `Tmux` uses its own server socket, so tests never touch a person's tmux sessions.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

TMUX = shutil.which("tmux")


class ScreenTimeout(AssertionError):
    """The screen never showed what was waited for; the message holds the last screen."""


class Tmux:
    def __init__(self, width: int = 160, height: int = 45) -> None:
        self.socket = f"ekt-e2e-{os.getpid()}-{time.monotonic_ns()}"
        self.width, self.height = width, height
        self.session = "ekt"

    def _tmux(self, *args: str, check: bool = True) -> str:
        assert TMUX is not None
        done = subprocess.run(
            [TMUX, "-L", self.socket, *args], capture_output=True, text=True, timeout=30
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def start(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        """Run `argv` in a new session (Textual draws on stderr: both stay on the terminal).
        When it exits, the pane shows `EXIT=<status>` and stays open for a last look."""
        command = f"{shlex.join(argv)}; echo EXIT=$?; sleep 60"
        # COLUMNS/LINES (pytest's may be 80x24) would win over the pane's real size.
        env = {**env, "COLUMNS": str(self.width), "LINES": str(self.height)}
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        self._tmux(
            "new-session", "-d", "-s", self.session, "-x", str(self.width), "-y",
            str(self.height), "-c", str(cwd), f"env {exports} sh -c {shlex.quote(command)}",
        )  # fmt: skip

    def keys(self, *keys: str) -> None:
        for key in keys:
            self._tmux("send-keys", "-t", self.session, key)
            time.sleep(0.05)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.session, "-l", text)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.session, check=False)

    def wait_for(self, test: str | Callable[[str], bool], timeout: float = 30.0) -> str:
        """The screen once `test` (a text it must contain, or a predicate) holds."""
        check = (lambda s: test in s) if isinstance(test, str) else test
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.1)
        raise ScreenTimeout(f"waited {timeout:.0f} s for {test!r}; the screen was:\n{screen}")

    def kill(self) -> None:
        self._tmux("kill-server", check=False)
