"""ekt core: the engine behind `ekt` and `ekt-tui`. Never imports textual.

The public API is re-exported here; everything else is private to its module.
"""

from core.config import ProjectConfig, load_config, parse_config, render_default_toml
from core.datasets import FieldMap, ImportOptions, ImportReport, import_dataset
from core.demo import ensure_demo_project
from core.errors import (
    ConfigError,
    DatasetError,
    EktError,
    EvalError,
    ModelError,
    PromptError,
    StoreError,
    TeacherError,
    TrainError,
    VerifyError,
)
from core.evaluate import (
    Estimate,
    EvalOptions,
    EvalProgress,
    EvalSummary,
    TableRow,
    comparison_rows,
    pass_at_k,
    render_csv,
    render_markdown,
    run_eval,
)
from core.events import (
    BudgetExhausted,
    CandidateAdded,
    CandidateVerified,
    Event,
    EventBus,
    Notice,
    RequestFailed,
    RequestFinished,
    RequestStarted,
    RunStateChanged,
    TokensStreamed,
    TrainProgressed,
)
from core.generate import Completion, GenerationWorker
from core.project import ASSETS, Project, init_project, is_project
from core.prompts import (
    PromptVersion,
    RenderedPrompt,
    current_prompt,
    find_leaks_in_store,
    get_prompt,
    list_prompts,
    prompt_name_for_kind,
    render,
    render_zero_shot,
    resolve_prompt,
    save_prompt,
    seed_default_prompts,
)
from core.sampling import DryRunPlan, RunControl, RunSummary, SampleOptions, dry_run, sample
from core.status import project_status
from core.store import (
    ProblemFilter,
    ProblemRow,
    ProblemSort,
    StatusCounts,
    Store,
    count_problems,
    gold_problem_count,
    list_problems,
    problem_summary,
    status_counts,
)
from core.tokens import TokenCount, count_tokens
from core.train import SftPreview, TrainOptions, build_sft, preview_sft
from core.train import cancel as cancel_training
from core.train import find_run as find_train_run
from core.train import launch as launch_training
from core.train import list_runs as list_train_runs
from core.train import resume as resume_training
from core.train import run_checkpoints as train_checkpoints
from core.train import run_events as train_run_events
from core.train.follow import format_event as format_train_event

__all__ = [
    "ASSETS",
    "BudgetExhausted",
    "CandidateAdded",
    "CandidateVerified",
    "Completion",
    "ConfigError",
    "DatasetError",
    "DryRunPlan",
    "EktError",
    "Estimate",
    "EvalError",
    "EvalOptions",
    "EvalProgress",
    "EvalSummary",
    "Event",
    "EventBus",
    "FieldMap",
    "GenerationWorker",
    "ImportOptions",
    "ImportReport",
    "ModelError",
    "Notice",
    "ProblemFilter",
    "ProblemRow",
    "ProblemSort",
    "Project",
    "ProjectConfig",
    "PromptError",
    "PromptVersion",
    "RenderedPrompt",
    "RequestFailed",
    "RequestFinished",
    "RequestStarted",
    "RunControl",
    "RunStateChanged",
    "RunSummary",
    "SampleOptions",
    "SftPreview",
    "StatusCounts",
    "Store",
    "StoreError",
    "TableRow",
    "TeacherError",
    "TokenCount",
    "TokensStreamed",
    "TrainError",
    "TrainOptions",
    "TrainProgressed",
    "VerifyError",
    "build_sft",
    "cancel_training",
    "comparison_rows",
    "count_problems",
    "count_tokens",
    "current_prompt",
    "dry_run",
    "ensure_demo_project",
    "find_leaks_in_store",
    "find_train_run",
    "format_train_event",
    "get_prompt",
    "gold_problem_count",
    "import_dataset",
    "init_project",
    "is_project",
    "launch_training",
    "list_problems",
    "list_prompts",
    "list_train_runs",
    "load_config",
    "parse_config",
    "pass_at_k",
    "preview_sft",
    "problem_summary",
    "project_status",
    "prompt_name_for_kind",
    "render",
    "render_csv",
    "render_default_toml",
    "render_markdown",
    "render_zero_shot",
    "resolve_prompt",
    "resume_training",
    "run_eval",
    "sample",
    "save_prompt",
    "seed_default_prompts",
    "status_counts",
    "train_checkpoints",
    "train_run_events",
]
