"""The sandboxed verifier: candidates in, verdicts out, and gold derived from them.

Public API (the rest is private to its module):
- `VerifierService` — feed candidate ids while they arrive (`submit`), `drain()`, or
  `verify(id)` one now; verdicts are stored in batches and announced on the bus.
- `verify_pending` — every candidate without a verdict (`ekt verify`).
- `check_program` — one program against one problem, nothing stored (`ekt check`).
- `Verdict`, `CheckSpec` — the verdict model and what a program is checked against.
- `select_gold`, `export_gold`, `GoldExample` — re-exported from `core.gold`.
- `calibrate`, `Calibration` — time reference programs here and suggest a timeout.
- `WorkerPool` — the lean worker processes themselves (for callers that batch their own jobs).
"""

from core.gold import POLICIES, GoldExample, export_gold, select_gold
from core.verify.calibrate import Calibration, calibrate
from core.verify.client import WorkerPool
from core.verify.service import VerifierService, check_program, verify_pending
from core.verify.verdict import CheckSpec, Verdict

__all__ = [
    "POLICIES",
    "Calibration",
    "CheckSpec",
    "GoldExample",
    "Verdict",
    "VerifierService",
    "WorkerPool",
    "calibrate",
    "check_program",
    "export_gold",
    "select_gold",
    "verify_pending",
]
