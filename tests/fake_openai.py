"""FakeOpenAIServer: a real HTTP server on 127.0.0.1 that speaks the OpenAI API, for tests and
benchmarks driven by the real `openai` client (no mock transport: the wire format is the point).

Endpoints: POST /v1/chat/completions, POST /v1/completions (streaming SSE and plain JSON, `n`
choices, `usage` incl. the `stream_options.include_usage` final chunk, stop sequences,
max_tokens -> finish_reason "length"), GET /v1/models. Runs in a background thread, so sync and
async tests can share it.

Usage::

    from tests.fake_openai import FakeOpenAIServer

    with FakeOpenAIServer(answers={"Janet": ["    return 18\\n", "    return 3\\n"]}) as srv:
        client = AsyncOpenAI(base_url=srv.base_url, api_key="x", max_retries=0)
        ...
        srv.fail_next("rate_limit", retry_after=0.01)  # the next request gets a 429
        assert srv.requests[-1].body["n"] == 4         # what the server received

ILF: `refine(prompt, index)` answers prompts ending like assets/prompts/refine.txt (the
corrected program, then "[DONE]"), `critique` (a text or a callable) those ending like
critique.txt; `refine_parts(prompt)` takes the target program and feedback out of one.

Answers: `answers` is a callable `(prompt, choice_index) -> text`, or a mapping from a prompt
substring to a text or a list of texts (indexed by choice index, cycled); prompts matching
nothing get `default_answer`. In chat mode the "prompt" is the message contents joined by "\\n".
A request with n=1 always asks for choice 0 (so "ignore n" and fallback runs see answer 0 each
time; pass a callable with its own counter for varied single answers).

Faults (`fail_next(kind, times=1, match=None, ...)`, consumed in order by the next matching
requests): "rate_limit" (429 with `Retry-After` seconds and/or `retry-after-ms`),
"server_error" (500), "bad_request" (400, a context-length message), "drop" (the stream is cut
after `after` chunks: an incomplete chunked body), "malformed" (a chunk that is not JSON after
`after` chunks), "stall" (no response for `seconds`, to hit the client's timeout), "slow"
(headers at once, then `seconds` before the first token of a stream), "truncate"
(the stream ends cleanly after `after` chunks, without a finish_reason or [DONE]).
Modes: `n_mode="ignore"` returns one choice whatever `n` is (like llama.cpp's server),
`n_mode="reject"` answers n>1 with a 400. `api_key` set -> other keys get a 401; `models` set ->
other models get a 404; `reject_params` (e.g. {"stream_options"}) answers requests carrying
those fields with a 400 "Unsupported parameter". `capacity` bounds requests served at once
(the rest queue), `token_latency_s` is the time per generated token step, `first_token_s` the
time before the first one. `interrupt_requests=True` behaves like llama-cpp-python's server
default: a new completion request cuts the stream in flight (an incomplete chunked body at its
next token step; `interrupted` counts them), so only one request at a time completes.
Attributes can be changed while the server runs (not `capacity`).
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from http.server import ThreadingHTTPServer
from typing import Any

from tests.fake_openai_wire import (
    FAULT_KINDS,
    Fault,
    RecordedRequest,
    _Handler,
    _Server,
    fake_tokens,
)

__all__ = [
    "CRITIQUE_MARK",
    "FAULT_KINDS",
    "JUDGE_MARKER",
    "REFINE_MARK",
    "FakeOpenAIServer",
    "Fault",
    "RecordedRequest",
    "fake_tokens",
    "judge_answer",
    "refine_parts",
]

Answers = Callable[[str, int], str] | Mapping[str, str | Sequence[str]]
# How the default refine / critique prompts end: `refine=` / `critique=` answer those.
REFINE_MARK = "Corrected program:\n[BEGIN]"
CRITIQUE_MARK = "Explanation of the bug:"


def refine_parts(prompt: str) -> dict[str, str]:
    """The target block of a refine or critique prompt: question, program, feedback/result."""
    block = prompt.rsplit("\nTask: ", 1)[-1]
    out = {"question": block.split("\n", 1)[0]}
    program = block.split("\nProgram:\n", 1)[-1]
    for key in ("Feedback: ", "Result: "):
        if f"\n{key}" in program:
            program, rest = program.split(f"\n{key}", 1)
            out[key.strip(": ").lower()] = rest.split("\n", 1)[0]
    out["program"] = program
    return out

JUDGE_MARKER = "[ekt-judge]"


def judge_answer(prompt: str) -> str:
    """The fake judge: a program that returns a bare literal is hard-coded (score 2, plain
    JSON); `# judge: unsure` in it gets prose that is no JSON (unparsable); else score 8 in a
    fenced block."""
    program = prompt.split("```python", 1)[-1].split("```", 1)[0]
    if "# judge: unsure" in program:
        return "I am not sure how to score this program."
    body = [
        ln.strip()
        for ln in program.splitlines()
        if ln.strip() and not ln.strip().startswith("def ")
    ]
    if len(body) == 1 and re.fullmatch(r"return\s+-?[\d.]+", body[0]):
        return '{"score": 2, "reason": "returns a hard-coded number"}'
    return '```json\n{"score": 8, "reason": "computes the answer from the quantities"}\n```'


class FakeOpenAIServer:
    def __init__(
        self,
        answers: Answers | None = None,
        *,
        default_answer: str = "\n    return 42\n",
        token_latency_s: float = 0.0,
        first_token_s: float = 0.0,
        n_mode: str = "ok",
        report_usage: bool = True,
        capacity: int | None = None,
        api_key: str | None = None,
        models: Sequence[str] | None = None,
        reject_params: Sequence[str] = (),
        refine: Callable[[str, int], str] | None = None,
        critique: Callable[[str, int], str] | str | None = None,
        interrupt_requests: bool = False,
    ) -> None:
        if n_mode not in {"ok", "ignore", "reject"}:
            raise ValueError(f"n_mode must be ok, ignore or reject, not {n_mode!r}")
        self.answers = answers
        self.default_answer = default_answer
        self.token_latency_s = token_latency_s
        self.first_token_s = first_token_s
        self.n_mode = n_mode
        self.report_usage = report_usage
        self.api_key = api_key
        self.models = list(models) if models is not None else None
        self.reject_params = set(reject_params)
        self.refine, self.critique = refine, critique  # ILF prompts (assets/prompts/refine.txt)
        self.interrupt_requests = interrupt_requests
        self.interrupted = 0  # streams cut by a newer request (interrupt_requests)
        self._newest = 0  # ticket of the newest completion request
        self._slots = threading.BoundedSemaphore(capacity) if capacity else None
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self.requests: list[RecordedRequest] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        self._stopping.clear()
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        self._httpd = _Server(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        with self._lock:  # kept-alive connections too: a stopped server answers nothing
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._conns.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting -------------------------------------------------------------------------
    def fail_next(self, kind: str, times: int = 1, match: str | None = None, **kw: Any) -> None:
        """Queue a fault for the next `times` requests (whose prompt contains `match`)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r} (known: {', '.join(FAULT_KINDS)})")
        with self._lock:
            self._faults.append(Fault(kind, times, match, **kw))

    def clear(self) -> None:
        """Forget recorded requests and pending faults."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()

    def answer_for(self, prompt: str, index: int) -> str:
        if JUDGE_MARKER in prompt:  # a judge prompt (assets/prompts/judge.txt): a scripted judge
            return judge_answer(prompt)
        tail = prompt.rstrip()[-40:]
        if self.refine is not None and tail.endswith(REFINE_MARK):
            return self.refine(prompt, index)
        if self.critique is not None and tail.endswith(CRITIQUE_MARK):
            c = self.critique
            return c(prompt, index) if callable(c) else c
        a = self.answers
        if a is None:
            return self.default_answer
        if callable(a):
            return a(prompt, index)
        for key, texts in a.items():
            if key in prompt:
                if isinstance(texts, str):
                    return texts
                return texts[index % len(texts)]
        return self.default_answer

    @property
    def completion_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("completions")]

    # -- internals -------------------------------------------------------------------------
    def _take_fault(self, prompt: str) -> Fault | None:
        with self._lock:
            for f in self._faults:
                if f.match is None or f.match in prompt:
                    f.times -= 1
                    if f.times <= 0:
                        self._faults.remove(f)
                    return f
        return None

    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(req)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)


def fake_openai_fixture() -> Iterator[FakeOpenAIServer]:
    """Body of the `fake_openai` pytest fixture (tests/conftest.py): a started server, stopped
    after the test. Configure it in the test (`fake_openai.answers = {...}`, `.n_mode = ...`)."""
    with FakeOpenAIServer() as srv:
        yield srv


def main(argv: list[str] | None = None) -> None:
    """`python -m tests.fake_openai [--first-token-s S] [--token-s S] [--n-mode M] [--capacity C]
    [--answer TEXT]`: serve until stdin closes (or Ctrl-C); prints the base URL first, then the
    completion requests served and the CPU seconds used — for benchmarks and trying `ekt`."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="python -m tests.fake_openai")
    ap.add_argument("--first-token-s", type=float, default=0.0)
    ap.add_argument("--token-s", type=float, default=0.0)
    ap.add_argument("--n-mode", choices=["ok", "ignore", "reject"], default="ok")
    ap.add_argument("--capacity", type=int, default=None)
    ap.add_argument("--answer", default=None, help="the default answer (escapes like \\n work)")
    a = ap.parse_args(argv)
    kw: dict[str, Any] = {}
    if a.answer is not None:
        kw["default_answer"] = a.answer.encode().decode("unicode_escape")
    srv = FakeOpenAIServer(
        first_token_s=a.first_token_s,
        token_latency_s=a.token_s,
        n_mode=a.n_mode,
        capacity=a.capacity,
        **kw,
    )
    with srv:
        print(srv.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            sys.stdin.read()
        print(len(srv.completion_requests), f"{time.process_time():.3f}", flush=True)


if __name__ == "__main__":
    main()
