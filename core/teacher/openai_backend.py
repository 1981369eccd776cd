"""The `openai` teacher backend: any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama,
llama.cpp's server, LM Studio) through the official async client.

One `complete` = one prompt sent once with `n` choices, streamed; deltas go to `on_delta` by
choice index. If the endpoint rejects `n > 1` (a 400 that an n=1 request does not repeat) or
silently returns fewer choices (llama.cpp), the missing choices come from single requests and
the instance remembers it (`n_fallback` says why). Usage comes from the stream's final chunk
(`stream_options.include_usage`; dropped if the server refuses the option) else is counted with
core.tokens. Retries follow core.teacher.retry; after `on_retry` a retried call's choices
stream again from empty. Concurrency is the caller's business.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

import httpx2
import openai

from core.config import TeacherSection
from core.errors import TeacherError
from core.teacher import TeacherChoice, TeacherFailure, TeacherRequest, TeacherResult
from core.teacher.retry import AdaptiveLimit, RetryPolicy, SlowDown, parse_retry_after
from core.teacher.stream import (
    Call,
    CallbackFailed,
    CallError,
    Progress,
    StreamState,
    one_line,
)
from core.tokens import count_tokens

OPENAI_URL = "https://api.openai.com/v1"
_DUMMY_KEY = "sk-no-key-required"  # local servers accept anything


def is_local_url(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost" or host.endswith(".local"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_unspecified


def resolve_api_key(cfg: TeacherSection) -> str:
    """The key from the env var the config names; local endpoints get a dummy key."""
    key = os.environ.get(cfg.api_key_env, "") if cfg.api_key_env else ""
    if key:
        return key
    url = cfg.base_url or OPENAI_URL
    if is_local_url(url):
        return _DUMMY_KEY
    raise TeacherError(
        f"teacher: environment variable {cfg.api_key_env or '(none)'} is not set, and {url} "
        "needs an API key (export it, or set [teacher] api_key_env)"
    )


def _status_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        msg = inner.get("message") if isinstance(inner, dict) else inner
        if msg:
            return one_line(msg)
    return one_line(exc.message)


class OpenAITeacher:
    def __init__(
        self,
        cfg: TeacherSection,
        *,
        policy: RetryPolicy | None = None,
        slowdown: SlowDown | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.cfg = cfg
        self.base_url = (cfg.base_url or OPENAI_URL).rstrip("/")
        self.description = f"openai:{cfg.model}@{self.base_url}"
        self.policy = policy or RetryPolicy(max_retries=cfg.max_retries)
        self.slowdown = slowdown or SlowDown()
        self.limit = AdaptiveLimit()  # the engine sets its maximum (`set_concurrency`)
        self._sleep = sleep  # injectable so tests can see the waits without taking them
        self.n_fallback: str | None = None  # why n>1 is no longer sent, once detected
        self._include_usage = True
        self._max_tokens_field = "max_tokens"  # newer OpenAI models want max_completion_tokens
        self._reached = False  # any HTTP response yet: tells "unreachable" from "flaky"
        self._openai = self.base_url.startswith(OPENAI_URL)
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=resolve_api_key(cfg),
            max_retries=0,  # ours are the only retries
            timeout=cfg.timeout_s,
        )

    def set_concurrency(self, maximum: int, on_change: Callable[[int, str], None] | None = None
                        ) -> None:  # fmt: skip
        """The caller's concurrency bounds the adaptive limit; `on_change(limit, why)` hears
        each change."""
        self.limit.set_maximum(maximum)
        self.limit.on_change = on_change

    async def check_model(self) -> str | None:
        """One line when `GET /models` answers and does not list the configured model: a server
        that answers any name (llama.cpp's) would hide a typo. None when it is listed or the
        endpoint has no model list."""
        try:
            page = await asyncio.wait_for(self._client.models.list(),
                                          timeout=min(10.0, self.cfg.timeout_s))  # fmt: skip
            ids = [str(m.id) for m in page.data]
        except Exception:  # no /models (or no answer): nothing to say
            return None
        if not ids or self.cfg.model in ids:
            return None
        shown = ", ".join(ids[:3]) + (", …" if len(ids) > 3 else "")
        return (f"model {self.cfg.model!r} is not listed by {self.base_url}/models ({shown});"
                " the server may answer with another model (check --model)")  # fmt: skip

    async def aclose(self) -> None:
        await self._client.close()

    async def complete(
        self,
        req: TeacherRequest,
        *,
        on_delta: Callable[[int, str], None] | None = None,
        on_retry: Callable[[str, str, int], None] | None = None,
    ) -> TeacherResult:
        prog = Progress(time.perf_counter(), on_delta, on_retry)
        got: dict[int, tuple[str, str | None]] = {}
        if req.n > 1 and self.n_fallback is None:
            try:
                call = await self._with_retries(req, req.n, 0, prog)
            except CallError as exc:  # n>1 refused with a 400: probe with a single request
                got.update(self._take(await self._with_retries(req, 1, 0, prog), 0, req))
                self.n_fallback = f"the endpoint refused n={req.n} ({exc})"
            else:
                got.update(self._take(call, 0, req))
                if len(got) < req.n:
                    self.n_fallback = f"the endpoint returned {len(got)} of n={req.n} choices"
        for index in range(req.n):
            if index not in got:
                got.update(self._take(await self._with_retries(req, 1, index, prog), index, req))
        return self._result(req, got, prog)

    # -- one logical call with retries ----------------------------------------------------
    async def _with_retries(self, req: TeacherRequest, n: int, offset: int, prog: Progress) -> Call:
        attempt = 0
        while True:
            attempt += 1
            await self.slowdown.acquire()
            epoch = await self.limit.acquire()
            try:
                call = await self._stream_once(req, n, offset, prog)
            except CallError as exc:
                await self.limit.release()
                cls, msg = exc.error_class, str(exc)
                self.limit.failed(cls, epoch)
                if cls == "bad_request" and self._adapt(msg):
                    attempt -= 1  # the same request in the dialect this server speaks
                    continue
                if cls == "bad_request" and n > 1:
                    raise  # complete() probes whether n is the problem
                if cls in {"auth", "not_found"}:
                    raise TeacherError(msg) from None
                retry = self.policy.should_retry(cls, attempt)
                if cls == "connection" and not self._reached:
                    retry = retry and attempt <= 2  # an endpoint never reached: fail fast
                if not retry:
                    if cls == "connection" and not self._reached:
                        raise TeacherError(msg) from None
                    tries = prog.retries + 1
                    raise TeacherFailure(
                        f"{msg} (after {tries} attempt{'s' if tries > 1 else ''})",
                        error_class=cls,
                        attempts=tries,
                    ) from None
                delay = self.policy.delay(attempt, exc.retry_after)
                if cls == "rate_limit":
                    self.slowdown.rate_limited(delay)
                prog.retries += 1
                if prog.on_retry is not None:
                    prog.on_retry(cls, msg, attempt)
                await self._sleep(delay)
                continue
            except BaseException:
                await self.limit.release()
                raise
            await self.limit.release()
            self.limit.succeeded()
            self.slowdown.succeeded()
            prog.calls.append(call)
            return call

    def _adapt(self, message: str) -> bool:
        """Learn from a 400 about a parameter this server does not take; True: send again."""
        if self._include_usage and "stream_options" in message:
            self._include_usage = False  # an older server: count tokens instead
            return True
        chat = self.cfg.mode == "chat"  # the completions endpoint has only max_tokens
        if chat and self._max_tokens_field == "max_tokens" and "max_completion_tokens" in message:
            self._max_tokens_field = "max_completion_tokens"
            return True
        return False

    async def _stream_once(self, req: TeacherRequest, n: int, offset: int, prog: Progress) -> Call:
        chat = self.cfg.mode == "chat"
        kw: dict[str, Any] = {
            "model": self.cfg.model,
            "n": n,
            self._max_tokens_field: req.max_tokens,
            "temperature": req.temperature,
            "top_p": req.top_p,
            "stream": True,
        }
        if self._include_usage:
            kw["stream_options"] = {"include_usage": True}
        if req.stop:
            kw["stop"] = req.stop[:4] if self._openai else list(req.stop)  # OpenAI allows 4
        if req.seed is not None:
            kw["seed"] = req.seed
        if chat:
            messages = [{"role": "user", "content": req.prompt}]
            if self.cfg.system:
                messages.insert(0, {"role": "system", "content": self.cfg.system})
            opener = self._client.chat.completions.with_streaming_response.create
            kw["messages"] = messages
        else:
            opener = self._client.completions.with_streaming_response.create
            kw["prompt"] = req.prompt
        state = StreamState(self.base_url, chat, offset, prog)
        in_stream = False
        try:
            async with opener(**kw) as resp:  # a non-2xx status raises here
                in_stream = self._reached = True
                await state.read(resp.http_response.aiter_lines())
        except CallError:
            raise
        except CallbackFailed as exc:
            assert exc.__cause__ is not None
            raise exc.__cause__ from None
        except Exception as exc:
            raise self._classify(exc, in_stream=in_stream) from exc
        if not state.finish or any(i not in state.finish for i in state.texts):
            raise CallError("dropped_stream", f"{self.base_url}: stream ended mid-answer")
        texts = {i: "".join(state.texts.get(i, ())) for i in state.finish if i < n}
        return Call(texts, state.finish, state.usage)

    def _classify(self, exc: Exception, *, in_stream: bool) -> CallError:
        where = self.base_url
        if isinstance(exc, openai.APITimeoutError):
            return CallError("timeout", f"{where}: no answer within {self.cfg.timeout_s:g} s")
        if isinstance(exc, openai.APIConnectionError):
            cause = one_line(exc.__cause__ or exc)
            if in_stream:
                return CallError("dropped_stream", f"{where}: stream dropped ({cause})")
            return CallError("connection", f"cannot reach the teacher at {where} ({cause})")
        if isinstance(exc, openai.APIStatusError):
            self._reached = True  # it answered, if only with an error
            status, msg = exc.status_code, _status_message(exc)
            if status == 429:
                wait = parse_retry_after(exc.response.headers)
                return CallError("rate_limit", f"{where}: 429 rate limited: {msg}", wait)
            if status == 408:
                return CallError("timeout", f"{where}: 408 {msg}")
            if status == 409 or status >= 500:
                return CallError("server_error", f"{where}: {status} {msg}")
            if status in (401, 403):
                return CallError(
                    "auth",
                    f"teacher at {where} refused the API key from ${self.cfg.api_key_env} "
                    f"({status}: {msg})",
                )
            if status == 404:
                return CallError(
                    "not_found",
                    f"teacher at {where}: 404 for model {self.cfg.model!r} ({msg}); check "
                    "[teacher] model and base_url (most servers want it to end in /v1)",
                )
            return CallError("bad_request", f"{where}: {status} {msg}")
        if isinstance(exc, httpx2.TimeoutException):
            return CallError("timeout", f"{where}: stream stalled for {self.cfg.timeout_s:g} s")
        if isinstance(exc, httpx2.TransportError):
            cause = f"{type(exc).__name__}: {one_line(exc)}"
            if in_stream:
                return CallError("dropped_stream", f"{where}: stream dropped ({cause})")
            return CallError("connection", f"cannot reach the teacher at {where} ({cause})")
        if isinstance(exc, openai.APIError):
            return CallError("server_error", f"{where}: stream error: {one_line(exc)}")
        if in_stream:  # JSON that does not parse, or chunks of the wrong shape
            kind = type(exc).__name__
            return CallError("malformed_chunk", f"{where}: malformed chunk ({kind}: {exc})")
        return CallError("unexpected", f"{where}: {type(exc).__name__}: {one_line(exc)}")

    # -- assembling the result ------------------------------------------------------------
    @staticmethod
    def _take(call: Call, offset: int, req: TeacherRequest) -> dict[int, tuple[str, str | None]]:
        out = {}
        for i, text in sorted(call.texts.items()):
            cut = _cut(text, req.stop)
            out[offset + i] = (cut, "stop" if len(cut) < len(text) else call.finish.get(i))
        return out

    def _result(
        self, req: TeacherRequest, got: dict[int, tuple[str, str | None]], prog: Progress
    ) -> TeacherResult:
        prompt_tokens = completion_tokens = 0
        reported = all(c.usage is not None for c in prog.calls)
        for call in prog.calls:
            if call.usage is not None:
                prompt_tokens += call.usage[0]
                completion_tokens += call.usage[1]
            else:
                prompt_tokens += self._count(self._sent_prompt(req))
                completion_tokens += sum(self._count(t) for t in call.texts.values())
        choices = [TeacherChoice(i, got[i][0], got[i][1]) for i in range(req.n)]
        return TeacherResult(
            choices=choices,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            usage_reported=reported,
            latency_s=time.perf_counter() - prog.started,
            ttft_s=prog.ttft,
            attempts=prog.retries + 1,
        )

    def _sent_prompt(self, req: TeacherRequest) -> str:
        if self.cfg.mode == "chat" and self.cfg.system:
            return self.cfg.system + "\n" + req.prompt
        return req.prompt

    def _count(self, text: str) -> int:
        return count_tokens(text, self.cfg.model).n if text else 0


def _cut(text: str, stop: list[str]) -> str:
    cut = min((i for s in stop if s and (i := text.find(s)) != -1), default=len(text))
    return text[:cut]
