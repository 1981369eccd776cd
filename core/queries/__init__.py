"""The read model: every SELECT the TUI, the CLI, status, lineage, sampling plans, training and
the evaluation table need, as functions returning frozen dataclasses (or plain dicts of a
problem's or candidate's columns). The TUI and the CLI read only through these.

Modules follow the concepts: `problems` (the windowed problem list and problem sets),
`candidates` (a problem's candidates, one candidate, listings, writers' id look-ups), `runs`
(sampling runs: identity, progress, outcomes), `prompts` (versions and their yield), `evals`
(evaluations and checkpoint lineage), `training` (train runs, events, checkpoints, SFT
inputs), `gold` (the gold rows a policy selects from), `status` (project totals).
The gold rule itself is `core.store.schema.gold_rule`; every `gold` here is computed by it.
"""

from core.queries.candidates import (
    BAD_STATUSES,
    CandidateListing,
    CandidateRow,
    candidate_gold,
    count_candidates,
    count_unverified,
    find_candidates,
    get_candidate,
    list_candidates,
)
from core.queries.embeddings import cached_vectors, question_items
from core.queries.evals import (
    EvalProblemRow,
    EvalRow,
    RunningEval,
    eval_problems,
    get_eval,
    list_evals,
    running_evals,
)
from core.queries.judgements import Judgement, latest_judgements, problem_judge_scores
from core.queries.problems import (
    ProblemFilter,
    ProblemRow,
    ProblemSort,
    count_problems,
    first_problem_of_kind,
    get_problem,
    list_problems,
    most_common_kind,
    pick_problems,
    problem_count,
    problem_summary,
)
from core.queries.prompts import PromptVersion, PromptYield, prompt_names, prompt_yields
from core.queries.runs import (
    RATE_WINDOW,
    RequestTotals,
    RunIdentity,
    RunOutcomes,
    RunStats,
    all_runs,
    find_run_id,
    list_runs,
    request_totals,
    run_by_name,
    run_core,
    run_failures,
    run_gold_problems,
    run_identity,
    run_outcomes,
    run_problem_count,
    run_results,
    teacher_label,
)
from core.queries.selections import Selection, get_selection, list_selections
from core.queries.status import (
    FlagCounts,
    StatusCounts,
    flag_counts,
    gold_problem_count,
    status_counts,
)

__all__ = [
    "BAD_STATUSES",
    "RATE_WINDOW",
    "CandidateListing",
    "CandidateRow",
    "EvalProblemRow",
    "EvalRow",
    "FlagCounts",
    "Judgement",
    "ProblemFilter",
    "ProblemRow",
    "ProblemSort",
    "PromptVersion",
    "PromptYield",
    "RequestTotals",
    "RunIdentity",
    "RunOutcomes",
    "RunStats",
    "RunningEval",
    "Selection",
    "StatusCounts",
    "all_runs",
    "cached_vectors",
    "candidate_gold",
    "count_candidates",
    "count_problems",
    "count_unverified",
    "eval_problems",
    "find_candidates",
    "find_run_id",
    "first_problem_of_kind",
    "flag_counts",
    "get_candidate",
    "get_eval",
    "get_problem",
    "get_selection",
    "gold_problem_count",
    "latest_judgements",
    "list_candidates",
    "list_evals",
    "list_problems",
    "list_runs",
    "list_selections",
    "most_common_kind",
    "pick_problems",
    "problem_count",
    "problem_judge_scores",
    "problem_summary",
    "prompt_names",
    "prompt_yields",
    "question_items",
    "request_totals",
    "run_by_name",
    "run_core",
    "run_failures",
    "run_gold_problems",
    "run_identity",
    "run_outcomes",
    "run_problem_count",
    "run_results",
    "running_evals",
    "status_counts",
    "teacher_label",
]
