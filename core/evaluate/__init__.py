"""Evaluation: pass@k of students and teachers, the comparison table, dev pass@1 in training.

`passk` is the estimator, `results` turns an evaluation's verdicts into numbers, `table` builds
the comparison table, `runner` is `ekt eval`, and `dev` runs inside the training subprocess.
Importing this package never pulls torch: generation happens in a subprocess.
"""

from core.evaluate.passk import Estimate, bootstrap_ci, estimate_pass_at_k, pass_at_k
from core.evaluate.runner import EvalOptions, EvalProgress, EvalSummary, plan_eval, run_eval
from core.evaluate.table import TableRow, comparison_rows, render_csv, render_markdown

__all__ = [
    "Estimate",
    "EvalOptions",
    "EvalProgress",
    "EvalSummary",
    "TableRow",
    "bootstrap_ci",
    "comparison_rows",
    "estimate_pass_at_k",
    "pass_at_k",
    "plan_eval",
    "render_csv",
    "render_markdown",
    "run_eval",
]
