"""The openai teacher backend against FakeOpenAIServer through the real openai client."""

from __future__ import annotations

import socket

import pytest

from core.config import TeacherSection
from core.errors import TeacherError
from core.teacher import TeacherFailure, TeacherRequest, make_teacher
from core.teacher.openai_backend import OpenAITeacher
from core.teacher.retry import RetryPolicy, SlowDown
from core.tokens import count_tokens
from tests.fake_openai import FakeOpenAIServer, fake_tokens

ANSWERS = {"Janet": ["\n    return 18\n", "\n    return 3\n", "\n    x = 1\n    return x\n"]}
PROMPT = "Q: Janet has 3 ducks.\ndef solution():"


class Recorder:
    def __init__(self) -> None:
        self.deltas: list[tuple[int, str]] = []
        self.retries: list[tuple[str, str, int]] = []
        self.sleeps: list[float] = []

    def on_delta(self, index: int, text: str) -> None:
        self.deltas.append((index, text))

    def on_retry(self, cls: str, msg: str, attempt: int) -> None:
        self.retries.append((cls, msg, attempt))

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


_open: list[OpenAITeacher] = []


@pytest.fixture(autouse=True)
async def _close_teachers():
    """Close every client on the test's own loop (httpx pools outliving their loop complain)."""
    yield
    while _open:
        await _open.pop().aclose()


def teacher(base_url: str, rec: Recorder, **cfg) -> OpenAITeacher:
    max_retries = cfg.pop("max_retries", 3)
    section = TeacherSection(
        backend="openai",
        base_url=base_url,
        model=cfg.pop("model", "fake-model"),
        api_key_env=cfg.pop("api_key_env", "EKT_TEST_TEACHER_KEY"),
        mode=cfg.pop("mode", "completion"),
        timeout_s=cfg.pop("timeout_s", 5.0),
        max_retries=max_retries,
        **cfg,
    )
    policy = RetryPolicy(max_retries=max_retries, base_s=0.001, cap_s=0.002)
    t = OpenAITeacher(section, policy=policy, slowdown=SlowDown(), sleep=rec.sleep)
    _open.append(t)
    return t


def request(n: int = 3, **kw) -> TeacherRequest:
    params = {"stop": ["\n\n\n"], "max_tokens": 64, "temperature": 0.8, "top_p": 0.95}
    return TeacherRequest(PROMPT, n, **{**params, **kw})


@pytest.fixture
def srv(fake_openai: FakeOpenAIServer) -> FakeOpenAIServer:
    fake_openai.answers = ANSWERS
    return fake_openai


@pytest.mark.parametrize("mode", ["completion", "chat"])
async def test_streams_n_choices_from_one_request(srv: FakeOpenAIServer, mode: str) -> None:
    rec = Recorder()
    t = teacher(srv.base_url, rec, mode=mode, system="You write Python." if mode == "chat" else "")
    result = await t.complete(request(3, seed=7), on_delta=rec.on_delta)

    assert [c.text for c in result.choices] == ANSWERS["Janet"]
    assert [c.index for c in result.choices] == [0, 1, 2]
    assert {c.finish_reason for c in result.choices} == {"stop"}
    for i, c in enumerate(result.choices):  # deltas per choice add up to the choice
        assert "".join(t for j, t in rec.deltas if j == i) == c.text
        assert len([1 for j, _ in rec.deltas if j == i]) == len(fake_tokens(c.text))
    assert len(srv.requests) == 1  # the prompt was sent once
    body = srv.requests[0].body
    assert body["n"] == 3 and body["stream"] is True and body["seed"] == 7
    assert body["stop"] == ["\n\n\n"] and body["max_tokens"] == 64
    if mode == "chat":
        assert srv.requests[0].path == "/v1/chat/completions"
        assert body["messages"][0] == {"role": "system", "content": "You write Python."}
        assert body["messages"][1] == {"role": "user", "content": PROMPT}
    else:
        assert srv.requests[0].path == "/v1/completions" and body["prompt"] == PROMPT
    assert result.attempts == 1 and rec.retries == []
    assert result.ttft_s is not None and result.latency_s >= result.ttft_s
    assert t.description == f"openai:fake-model@{srv.base_url}"


async def test_usage_reported_by_the_stream(srv: FakeOpenAIServer) -> None:
    t = teacher(srv.base_url, Recorder())
    result = await t.complete(request(3))
    assert srv.requests[0].body["stream_options"] == {"include_usage": True}
    assert result.usage_reported
    assert result.prompt_tokens == len(fake_tokens(PROMPT))
    assert result.completion_tokens == sum(len(fake_tokens(a)) for a in ANSWERS["Janet"])


async def test_usage_counted_when_not_reported(srv: FakeOpenAIServer) -> None:
    srv.report_usage = False
    t = teacher(srv.base_url, Recorder())
    result = await t.complete(request(3))
    assert not result.usage_reported
    assert result.prompt_tokens == count_tokens(PROMPT).n
    assert result.completion_tokens == sum(count_tokens(a).n for a in ANSWERS["Janet"])


async def test_stop_and_length(srv: FakeOpenAIServer) -> None:
    srv.answers = {"Janet": "\n    return 18\n\n\n\nprint(1)\n"}
    t = teacher(srv.base_url, Recorder())
    result = await t.complete(request(1))
    assert result.choices[0].text == "\n    return 18"
    assert result.choices[0].finish_reason == "stop"
    result = await t.complete(request(1, max_tokens=1))
    assert result.choices[0].text == "\n    return"
    assert result.choices[0].finish_reason == "length"


async def test_n_ignored_falls_back_to_single_requests(srv: FakeOpenAIServer) -> None:
    srv.n_mode = "ignore"  # llama.cpp: one choice whatever n says
    rec = Recorder()
    t = teacher(srv.base_url, rec)
    result = await t.complete(request(3), on_delta=rec.on_delta)
    assert len(result.choices) == 3 and [c.index for c in result.choices] == [0, 1, 2]
    assert [r.body["n"] for r in srv.requests] == [3, 1, 1]
    assert t.n_fallback is not None and "1 of n=3" in t.n_fallback
    assert {i for i, _ in rec.deltas} == {0, 1, 2}  # single answers land on their own index
    # usage is billed per HTTP call: the prompt went out three times
    assert result.prompt_tokens == 3 * len(fake_tokens(PROMPT))
    srv.clear()
    await t.complete(request(3))  # remembered: no more n>1 requests
    assert [r.body["n"] for r in srv.requests] == [1, 1, 1]


async def test_n_rejected_falls_back_to_single_requests(srv: FakeOpenAIServer) -> None:
    srv.n_mode = "reject"  # a 400 for n>1
    rec = Recorder()
    t = teacher(srv.base_url, rec)
    result = await t.complete(request(3), on_retry=rec.on_retry)
    assert [c.text for c in result.choices] == [ANSWERS["Janet"][0]] * 3  # n=1 -> choice 0
    assert [r.body["n"] for r in srv.requests] == [3, 1, 1, 1]
    assert t.n_fallback is not None and "refused n=3" in t.n_fallback
    assert rec.retries == []  # a fallback is not a retry
    srv.clear()
    await t.complete(request(2))
    assert [r.body["n"] for r in srv.requests] == [1, 1]


async def test_bad_request_that_is_not_about_n_fails_without_fallback(
    srv: FakeOpenAIServer,
) -> None:
    srv.fail_next("bad_request", times=2)  # the prompt is too long, whatever n is
    t = teacher(srv.base_url, Recorder())
    with pytest.raises(TeacherFailure) as err:
        await t.complete(request(3))
    assert err.value.error_class == "bad_request" and "context length" in str(err.value)
    assert t.n_fallback is None
    assert [r.body["n"] for r in srv.requests] == [3, 1]


@pytest.mark.parametrize(
    ("fault", "kw", "error_class"),
    [
        ("server_error", {}, "server_error"),
        ("drop", {"after": 3}, "dropped_stream"),
        ("truncate", {"after": 3}, "dropped_stream"),
        ("malformed", {"after": 2}, "malformed_chunk"),
        ("stall", {"seconds": 5}, "timeout"),
        ("slow", {"seconds": 5}, "timeout"),  # headers sent, then no first token in time
    ],
)
async def test_each_fault_is_retried(
    srv: FakeOpenAIServer, fault: str, kw: dict, error_class: str
) -> None:
    srv.fail_next(fault, **kw)
    rec = Recorder()
    t = teacher(srv.base_url, rec, timeout_s=0.3)
    result = await t.complete(request(3), on_delta=rec.on_delta, on_retry=rec.on_retry)
    assert [c.text for c in result.choices] == ANSWERS["Janet"]
    assert result.attempts == 2 and len(srv.requests) == 2
    assert [(c, a) for c, _, a in rec.retries] == [(error_class, 1)]
    assert "\n" not in rec.retries[0][1] and srv.base_url in rec.retries[0][1]
    assert len(rec.sleeps) == 1 and 0 < rec.sleeps[0] <= 0.002  # backoff, not a server wait


@pytest.mark.parametrize(
    ("headers", "wait"), [({"retry_after": 0.25}, 0.25), ({"retry_after_ms": 40}, 0.04)]
)
async def test_429_waits_as_the_server_asks(
    srv: FakeOpenAIServer, headers: dict, wait: float
) -> None:
    srv.fail_next("rate_limit", times=2, **headers)
    rec = Recorder()
    t = teacher(srv.base_url, rec)
    result = await t.complete(request(2), on_retry=rec.on_retry)
    assert len(result.choices) == 2 and result.attempts == 3
    assert [c for c, _, _ in rec.retries] == ["rate_limit", "rate_limit"]
    assert "429" in rec.retries[0][1]
    assert rec.sleeps == [pytest.approx(wait), pytest.approx(wait)]


async def test_clustered_429s_slow_every_request_down(srv: FakeOpenAIServer) -> None:
    srv.fail_next("rate_limit", times=3, retry_after=0.01)
    t = teacher(srv.base_url, Recorder())
    t.slowdown = SlowDown(threshold=3, spacing_s=0.001)
    await t.complete(request(1))
    assert t.slowdown.level == 1 and t.slowdown.spacing() == pytest.approx(0.001)


async def test_final_failure_is_a_teacher_failure(srv: FakeOpenAIServer) -> None:
    srv.fail_next("server_error", times=10)
    rec = Recorder()
    t = teacher(srv.base_url, rec, max_retries=2)
    with pytest.raises(TeacherFailure) as err:
        await t.complete(request(3), on_retry=rec.on_retry)
    assert err.value.error_class == "server_error" and err.value.attempts == 3
    assert "500" in str(err.value) and "after 3 attempts" in str(err.value)
    assert len(srv.requests) == 3 and [a for _, _, a in rec.retries] == [1, 2]


async def test_missing_api_key_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EKT_NO_SUCH_KEY", raising=False)
    cfg = TeacherSection(
        backend="openai", base_url="https://api.example.com/v1", api_key_env="EKT_NO_SUCH_KEY"
    )
    with pytest.raises(TeacherError, match=r"EKT_NO_SUCH_KEY is not set.*api\.example\.com"):
        make_teacher(cfg)
    # a local server needs no key: a dummy one is sent
    local = make_teacher(cfg.model_copy(update={"base_url": "http://localhost:8000/v1"}))
    assert isinstance(local, OpenAITeacher)
    await local.aclose()


async def test_wrong_key_and_unknown_model_stop_with_one_line(
    srv: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EKT_TEST_TEACHER_KEY", "sk-wrong")
    srv.api_key = "sk-right"
    t = teacher(srv.base_url, Recorder())
    with pytest.raises(TeacherError) as err:
        await t.complete(request(1))
    assert not isinstance(err.value, TeacherFailure)
    assert "EKT_TEST_TEACHER_KEY" in str(err.value) and "401" in str(err.value)
    srv.api_key, srv.models = None, ["llama-3"]
    with pytest.raises(TeacherError, match="404 for model 'fake-model'") as err:
        await t.complete(request(1))
    assert not isinstance(err.value, TeacherFailure) and "\n" not in str(err.value)
    assert len(srv.requests) == 2  # neither was retried


async def test_unreachable_endpoint_is_one_clear_line() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rec = Recorder()
    t = teacher(f"http://127.0.0.1:{port}/v1", rec, max_retries=5)
    with pytest.raises(TeacherError) as err:
        await t.complete(request(1))
    msg = str(err.value)
    assert not isinstance(err.value, TeacherFailure)
    assert msg.startswith(f"cannot reach the teacher at http://127.0.0.1:{port}/v1")
    assert "\n" not in msg
    assert len(rec.sleeps) == 2  # a never-reached endpoint is not retried five times


@pytest.mark.parametrize(
    ("param", "replacement"), [("stream_options", None), ("max_tokens", "max_completion_tokens")]
)
async def test_adapts_once_to_a_server_that_refuses_a_parameter(
    srv: FakeOpenAIServer, param: str, replacement: str | None
) -> None:
    srv.reject_params = {param}
    rec = Recorder()
    t = teacher(srv.base_url, rec, mode="chat" if replacement else "completion")
    for _ in range(2):
        result = await t.complete(request(2), on_retry=rec.on_retry)
        assert [c.text for c in result.choices] == ANSWERS["Janet"][:2]
    assert [param in r.body for r in srv.requests] == [True, False, False]  # learnt once
    assert rec.retries == [] and result.attempts == 1
    if replacement:
        assert srv.requests[-1].body[replacement] == 64
    else:
        assert not result.usage_reported  # no usage chunk without the option: counted


async def test_a_stream_that_stalls_midway_times_out(srv: FakeOpenAIServer) -> None:
    srv.token_latency_s = 2.0  # the first token, then silence longer than timeout_s
    rec = Recorder()
    t = teacher(srv.base_url, rec, timeout_s=0.2, max_retries=1)
    with pytest.raises(TeacherFailure) as err:
        await t.complete(request(1), on_delta=rec.on_delta)
    assert err.value.error_class == "timeout" and err.value.attempts == 2
    assert rec.deltas and rec.deltas[0] == (0, "\n    return")


async def test_an_endpoint_that_answered_once_is_retried_when_it_goes_away() -> None:
    rec = Recorder()
    srv = FakeOpenAIServer().start()
    t = teacher(srv.base_url, rec, max_retries=4)
    srv.fail_next("server_error")  # an answer, even an error, proves the address right
    srv.fail_next("server_error")
    await t.complete(request(1))
    srv.stop()  # now the port is closed: a flaky server, not a wrong address
    with pytest.raises(TeacherFailure) as err:
        await t.complete(request(1))
    assert err.value.error_class == "connection" and err.value.attempts == 5


async def test_make_teacher_picks_the_backend(srv: FakeOpenAIServer) -> None:
    from core.teacher.local import LocalTeacher

    remote = make_teacher(TeacherSection(backend="openai", base_url=srv.base_url, model="m"))
    assert isinstance(remote, OpenAITeacher) and remote.description.startswith("openai:m@")
    await remote.aclose()
    local = make_teacher(TeacherSection(backend="local", model="smollm2"))
    assert isinstance(local, LocalTeacher)  # nothing loaded until the first request
    assert local.description == "local:smollm2"


async def test_an_error_in_on_delta_is_raised_not_retried(srv: FakeOpenAIServer) -> None:
    def broken(index: int, text: str) -> None:
        raise ValueError("subscriber bug")

    t = teacher(srv.base_url, Recorder())
    with pytest.raises(ValueError, match="subscriber bug"):
        await t.complete(request(2), on_delta=broken)
    assert len(srv.requests) == 1
