"""The wire side of FakeOpenAIServer (tests/fake_openai.py): the HTTP handler speaking the
OpenAI chat/completions protocol (SSE chunks, usage, faults) and the records it keeps."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fake_openai import FakeOpenAIServer

_TOKEN = re.compile(r"\s*\S+|\s+")
FAULT_KINDS = (
    "rate_limit",
    "server_error",
    "bad_request",
    "drop",
    "malformed",
    "stall",
    "slow",
    "truncate",
)


def fake_tokens(text: str) -> list[str]:
    """The fake model's tokens: a word with its leading whitespace (joined they give `text`)."""
    return _TOKEN.findall(text)


@dataclass
class Fault:
    kind: str
    times: int = 1
    match: str | None = None
    retry_after: float | None = None  # seconds, sent as Retry-After
    retry_after_ms: float | None = None  # sent as retry-after-ms
    after: int = 1  # chunks sent before drop/malformed/truncate
    seconds: float = 5.0  # stall duration


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]  # names lower-cased
    prompt: str
    status: int = 0


@dataclass
class _Choice:
    index: int
    tokens: list[str]
    finish_reason: str


def _headers(handler: BaseHTTPRequestHandler) -> dict[str, str]:
    return {k.lower(): v for k, v in handler.headers.items()}


def _prompt_of(path: str, body: dict[str, Any]) -> str:
    if path.endswith("/chat/completions"):
        parts = []
        for m in body.get("messages") or []:
            content = m.get("content")
            if isinstance(content, list):  # content parts
                content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
            parts.append(str(content or ""))
        return "\n".join(parts)
    prompt = body.get("prompt", "")
    return prompt if isinstance(prompt, str) else "".join(map(str, prompt))


def _cut(text: str, stop: Sequence[str]) -> str:
    cut = min((i for s in stop if s and (i := text.find(s)) >= 0), default=-1)
    return text[:cut] if cut >= 0 else text


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # the default 5 drops concurrent connects: 1 s SYN retries
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a cancelled or timed-out request) is normal here: stay quiet;
        anything else is a bug in the fake and is printed as usual."""
        import sys

        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, like real servers
    fake: FakeOpenAIServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet tests
        pass

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake._conns.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._conns.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    # -- plumbing --------------------------------------------------------------------------
    def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] = {}) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, type_: str, headers: Mapping[str, str] = {}):
        err = {"error": {"message": message, "type": type_, "param": None, "code": None}}
        self._send_json(status, err, headers)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- routes ----------------------------------------------------------------------------
    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        self.fake._record(RecordedRequest(path, {}, _headers(self), ""))
        if self.path.rstrip("/").endswith("/models"):
            names = self.fake.models or ["fake-model"]
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in names]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._error(404, f"no route GET {self.path}", "not_found_error")

    def do_POST(self) -> None:
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0].rstrip("/")
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._error(400, "body is not JSON", "invalid_request_error")
            return
        prompt = _prompt_of(path, body)
        fake._record(RecordedRequest(path, body, _headers(self), prompt))
        if not (path.endswith("/chat/completions") or path.endswith("/completions")):
            self._error(404, f"no route POST {self.path}", "not_found_error")
            return
        auth = self.headers.get("Authorization")
        if fake.api_key is not None and auth != f"Bearer {fake.api_key}":
            self._error(401, "Incorrect API key provided", "invalid_request_error")
            return
        model = str(body.get("model", ""))
        if fake.models is not None and model not in fake.models:
            self._error(404, f"The model `{model}` does not exist", "invalid_request_error")
            return
        for param in sorted(fake.reject_params & body.keys()):
            hint = " Use 'max_completion_tokens' instead." if param == "max_tokens" else ""
            self._error(400, f"Unsupported parameter: '{param}'.{hint}", "invalid_request_error")
            return
        n = int(body.get("n") or 1)
        if n > 1 and fake.n_mode == "reject":
            self._error(400, "only n=1 is supported", "invalid_request_error")
            return
        fault = fake._take_fault(prompt)
        if fault is not None and fault.kind == "rate_limit":
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            if fault.retry_after_ms is not None:
                headers["retry-after-ms"] = f"{fault.retry_after_ms:g}"
            self._error(429, "Rate limit reached", "rate_limit_error", headers)
            return
        if fault is not None and fault.kind == "server_error":
            self._error(500, "The server had an error", "server_error")
            return
        if fault is not None and fault.kind == "bad_request":
            msg = "This model's maximum context length is 2048 tokens"
            self._error(400, msg, "invalid_request_error")
            return
        if fault is not None and fault.kind == "stall":
            fake._sleep(fault.seconds)
            self._drop()
            return
        with fake._lock:  # interrupt_requests: this request supersedes the one in flight
            fake._newest += 1
            self._ticket = fake._newest
        if fake._slots is not None:
            fake._slots.acquire()
        try:
            self._complete(path, body, prompt, n, model, fault)
        finally:
            if fake._slots is not None:
                fake._slots.release()

    def _complete(
        self, path: str, body: dict[str, Any], prompt: str, n: int, model: str, fault: Fault | None
    ) -> None:
        fake = self.fake
        chat = path.endswith("/chat/completions")
        stop = body.get("stop") or []
        stop = [stop] if isinstance(stop, str) else list(stop)
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or 1 << 30
        choices = []
        for i in range(1 if fake.n_mode == "ignore" else n):
            text = _cut(fake.answer_for(prompt, i), stop)
            toks = fake_tokens(text)
            reason = "stop"
            if len(toks) > max_tokens:
                toks, reason = toks[:max_tokens], "length"
            choices.append(_Choice(i, toks, reason))
        prompt_tokens = len(fake_tokens(prompt))
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": sum(len(c.tokens) for c in choices),
            "total_tokens": prompt_tokens + sum(len(c.tokens) for c in choices),
        }
        head = {
            "id": f"{'chatcmpl' if chat else 'cmpl'}-{len(fake.requests)}",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": model or "fake-model",
        }
        if not body.get("stream"):
            fake._sleep(
                fake.first_token_s
                + fake.token_latency_s * max((len(c.tokens) for c in choices), default=0)
            )
            out = [_final_choice(c, chat) for c in choices]
            payload = {**head, "choices": out}
            if fake.report_usage:
                payload["usage"] = usage
            self._send_json(200, payload)
            return
        if chat:
            head["object"] = "chat.completion.chunk"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        fake._sleep(fake.first_token_s)
        if fault is not None and fault.kind == "slow":
            fake._sleep(fault.seconds)
            fault = None
        sent = 0
        step: list[bytes] = []  # one token step's events go out in one write, like a batch

        def flush() -> None:
            if step:
                self._chunk(b"".join(step))
                step.clear()

        try:
            for event in _stream_events(choices, chat):
                if fault is not None and sent >= fault.after:
                    flush()
                    if fault.kind == "drop":
                        self._drop()
                        return
                    if fault.kind == "malformed":
                        self._chunk(b'data: {"choices": [{"index": 0, "delta": {"content\n\n')
                        fault = None
                    elif fault.kind == "truncate":
                        self._chunk(b"")  # a clean end of body, mid-answer
                        return
                if event is None:
                    flush()
                    fake._sleep(fake.token_latency_s)
                    if fake.interrupt_requests and fake._newest != self._ticket:
                        with fake._lock:
                            fake.interrupted += 1
                        self._drop()  # like llama-cpp-python: the newer request wins
                        return
                    continue
                step.append(_sse({**head, **event}))
                sent += 1
            include_usage = (body.get("stream_options") or {}).get("include_usage")
            if fake.report_usage and include_usage:
                step.append(_sse({**head, "choices": [], "usage": usage}))
            step.append(b"data: [DONE]\n\n")
            flush()
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _sse(payload: Any) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _final_choice(c: _Choice, chat: bool) -> dict[str, Any]:
    text = "".join(c.tokens)
    if chat:
        message = {"role": "assistant", "content": text}
        return {"index": c.index, "message": message, "finish_reason": c.finish_reason}
    return {"index": c.index, "text": text, "finish_reason": c.finish_reason, "logprobs": None}


def _stream_events(choices: list[_Choice], chat: bool) -> Iterator[dict[str, Any] | None]:
    """One event per choice per token step (None marks the end of a step: time passes), then
    a finish event per choice — how batched servers (vLLM) interleave choices."""
    if chat:
        for c in choices:
            yield {"choices": [_delta(c.index, {"role": "assistant", "content": ""}, None)]}
    steps = max((len(c.tokens) for c in choices), default=0)
    for t in range(steps):
        for c in choices:
            if t < len(c.tokens):
                tok = c.tokens[t]
                yield {
                    "choices": [
                        _delta(c.index, {"content": tok}, None)
                        if chat
                        else _text(c.index, tok, None)
                    ]
                }
        yield None
    for c in choices:
        yield {
            "choices": [
                _delta(c.index, {}, c.finish_reason)
                if chat
                else _text(c.index, "", c.finish_reason)
            ]
        }


def _delta(index: int, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {"index": index, "delta": delta, "finish_reason": finish, "logprobs": None}


def _text(index: int, text: str, finish: str | None) -> dict[str, Any]:
    return {"index": index, "text": text, "finish_reason": finish, "logprobs": None}
