"""Live updates: engine events from the bus (in-process) and `PRAGMA data_version` (any process),
coalesced into at most TICKS_PER_S screen refreshes a second.

The teacher stream keeps only a tail of each request's text (STREAM_TAIL characters per choice)
and only the last MAX_STREAMS requests, so a flood of tokens never grows memory or a widget.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from core import (
    CandidateVerified,
    ConcurrencyChanged,
    Event,
    Notice,
    RequestFailed,
    RequestFinished,
    RequestStarted,
    RunStateChanged,
    TeacherNotice,
    TokensStreamed,
)

TICKS_PER_S = 10
POLL_S = 0.5
STREAM_TAIL = 600
MAX_STREAMS = 12


@dataclass
class StreamState:
    """One request as the teacher-stream pane shows it."""

    request_id: int
    problem_id: str
    n: int
    state: str = "streaming"  # streaming | done | failed | retrying
    choices: dict[int, str] = field(default_factory=dict)
    tokens: int = 0
    note: str = ""

    def add(self, choice: int, text: str) -> None:
        self.choices[choice] = (self.choices.get(choice, "") + text)[-STREAM_TAIL:]
        self.tokens += 1


class LiveFeed:
    """Folds bus events into small state the dashboard renders; says when something changed."""

    def __init__(self) -> None:
        self.streams: OrderedDict[int, StreamState] = OrderedDict()
        self.dirty = True
        self.run_state: dict[int, str] = {}
        self.notices: list[tuple[str, str]] = []
        self.concurrency: dict[int, int] = {}  # run id -> the teacher's current request limit

    def apply(self, event: Event) -> None:
        self.dirty = True
        if isinstance(event, RequestStarted):
            self._stream(event.request_id, event.problem_id, event.n).state = "streaming"
        elif isinstance(event, TokensStreamed):
            self._stream(event.request_id, event.problem_id, 1).add(event.choice, event.text)
        elif isinstance(event, RequestFinished):
            s = self._stream(event.request_id, event.problem_id, 1)
            s.state = "done"
            s.note = f"{event.completion_tokens} tok, {event.latency_s:.1f}s"
        elif isinstance(event, RequestFailed):
            s = self._stream(event.request_id, event.problem_id, 1)
            s.state = "failed" if event.final else "retrying"
            s.note = f"{event.error_class}: {event.message}"[:200]
            if event.final:
                self.notices.append((f"{event.problem_id}: {s.note}", "error"))
        elif isinstance(event, RunStateChanged):
            self.run_state[event.run_id] = event.state
            if event.state == "failed" and event.message:
                self.notices.append((event.message, "error"))
        elif isinstance(event, Notice):
            self.notices.append((event.message, event.severity))
        elif isinstance(event, ConcurrencyChanged):
            self.concurrency[event.run_id] = event.limit
        elif isinstance(event, TeacherNotice):
            self.notices.append((event.message, "warning"))
        elif isinstance(event, CandidateVerified):
            pass  # counts come from the store; the event only marks the view dirty

    def _stream(self, request_id: int, problem_id: str, n: int) -> StreamState:
        s = self.streams.get(request_id)
        if s is None:
            s = self.streams[request_id] = StreamState(request_id, problem_id, n)
            while len(self.streams) > MAX_STREAMS:
                self._drop_oldest()
        else:
            self.streams.move_to_end(request_id)
        return s

    def _drop_oldest(self) -> None:
        """Forget a finished request first; a streaming one only if nothing else is left."""
        for rid, s in self.streams.items():
            if s.state in ("done", "failed"):
                del self.streams[rid]
                return
        self.streams.popitem(last=False)

    def take_notices(self) -> list[tuple[str, str]]:
        out, self.notices = self.notices, []
        return out
