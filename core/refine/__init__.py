"""ILF (imitation learning from language feedback): failing candidates + feedback → refinements.

Feedback (`core.refine.feedback`) is human, execution (built from the verdict) or teacher (a
versioned `critique` prompt); a refine run (`core.refine.run`) gives the teacher a versioned
`refine` prompt per (failing candidate, feedback) and stores what comes back as candidates with
source = refine, parent_id and feedback_id, verified as they arrive. Passing refinements are gold
like any other pass, so they enter the SFT set (`ekt train --gold-sources`).

How a *derived teacher run* plugs into the sampling engine (refine now; plan and judge later):
1. Build a `core.sampling.plan.Plan` yourself instead of `build_plan`: the teacher and sampling
   sections from `core.sampling.options.effective_sections`, `prompts` = {your prompt kind:
   version} (stored in run_prompts under that kind), `params` with a `method` key naming the
   kind of run, and one `Work` per request. A `Work` carries its own rendered prompt, its
   `source` (the candidates' source), and optionally `parent_id` / `feedback_id`.
2. Give each item a block of sample indices that is a pure function of its stored identity
   (refine: feedback_id × STRIDE), and plan only the indices missing from `run_coverage` with
   `core.sampling.plan._missing`: that is what makes a rerun send nothing twice and a kill -9
   resumable (a request row not `done` has no candidates, so it is sent again).
3. Call `core.sampling.engine.execute(project, plan, control=...)` (or `estimate(plan)` for a
   dry run): budget, retries, concurrency, events on the bus, group commit and verification
   come with it. Inputs the run needs that cost a teacher call (a critique) are written before
   the plan, each idempotent by its own unique key.
"""

from core.refine.feedback import AUTHORS, add_feedback, execution_feedback, hide_answer
from core.refine.run import (
    FEEDBACK_KINDS,
    STRIDE,
    RefineEstimate,
    RefineOptions,
    build_refine_plan,
    refine,
    refine_dry_run,
)

__all__ = [
    "AUTHORS",
    "FEEDBACK_KINDS",
    "STRIDE",
    "RefineEstimate",
    "RefineOptions",
    "add_feedback",
    "build_refine_plan",
    "execution_feedback",
    "hide_answer",
    "refine",
    "refine_dry_run",
]
