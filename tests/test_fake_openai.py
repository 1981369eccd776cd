"""The test teacher itself, through the sync openai client: the parts the async backend tests
do not reach (plain JSON answers, headers, model list, the request log)."""

from __future__ import annotations

import openai
import pytest

from tests.fake_openai import FakeOpenAIServer


def client(srv: FakeOpenAIServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=0, timeout=5)


def test_plain_json_answers_with_n_usage_and_stop(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.answers = lambda prompt, i: f"answer {i} to {prompt}\nSTOP tail"
    with client(fake_openai) as c:
        r = c.completions.create(model="m", prompt="q1", n=3, stop=["\nSTOP"], max_tokens=50)
        assert [ch.text for ch in r.choices] == [f"answer {i} to q1" for i in range(3)]
        assert r.usage is not None and r.usage.completion_tokens == 3 * 4
        r = c.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "q2"}], max_tokens=2
        )
        assert r.choices[0].message.content == "answer 0"
        assert r.choices[0].finish_reason == "length"
        assert [m.id for m in c.models.list()] == ["fake-model"]
    assert [q.path for q in fake_openai.requests] == [
        "/v1/completions",
        "/v1/chat/completions",
        "/v1/models",
    ]
    assert fake_openai.requests[0].headers["authorization"] == "Bearer sk-test"
    assert fake_openai.requests[1].prompt == "q2"


def test_faults_are_consumed_in_order_and_by_match(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.fail_next("server_error", match="beta")
    fake_openai.fail_next("rate_limit", retry_after=1.5, retry_after_ms=1500)
    with client(fake_openai) as c:
        with pytest.raises(openai.RateLimitError) as err:
            c.completions.create(model="m", prompt="alpha")
        assert err.value.response.headers["retry-after"] == "1.5"
        assert err.value.response.headers["retry-after-ms"] == "1500"
        c.completions.create(model="m", prompt="alpha")  # both faults spent or not matching
        with pytest.raises(openai.InternalServerError):
            c.completions.create(model="m", prompt="beta")
        c.completions.create(model="m", prompt="beta")


def test_n_modes(fake_openai: FakeOpenAIServer) -> None:
    with client(fake_openai) as c:
        fake_openai.n_mode = "ignore"
        assert len(c.completions.create(model="m", prompt="x", n=4).choices) == 1
        fake_openai.n_mode = "reject"
        with pytest.raises(openai.BadRequestError):
            c.completions.create(model="m", prompt="x", n=4)
        assert len(c.completions.create(model="m", prompt="x", n=1).choices) == 1
