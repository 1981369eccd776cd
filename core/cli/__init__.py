"""`ekt`: the engine without the UI. Each command group lives in its own module, registered here.

Every EktError becomes one line on stderr and exit status 1; nothing prints a traceback.
"""

from __future__ import annotations

from core.cli import (
    candidate_cmds,  # noqa: F401  (registers candidates list/show/edit/gold)
    eval_cmds,  # noqa: F401  (registers eval, eval table, eval list)
    import_cmds,  # noqa: F401  (registers import)
    judge_cmds,  # noqa: F401  (registers judge)
    project_cmds,  # noqa: F401  (registers init, status)
    prompt_cmds,  # noqa: F401  (registers prompt list/show/set/render)
    refine_cmds,  # noqa: F401  (registers feedback add/list, refine)
    sample_cmds,  # noqa: F401  (registers sample)
    select_cmds,  # noqa: F401  (registers select, select list)
    train_cmds,  # noqa: F401  (registers train, train list, train cancel)
    verify_cmds,  # noqa: F401  (registers verify, check, gold)
)
from core.cli.app import cli, main

__all__ = ["cli", "main"]
