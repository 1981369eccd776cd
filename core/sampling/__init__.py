"""Teacher sampling runs: plan the missing samples, stream them in, store and verify them.

A run is teacher config + prompt version (per problem kind) + sampling parameters over a set of
problems; calling `sample()` again with the same run continues it and sends only what is missing.
"""

from core.sampling.engine import dry_run, sample
from core.sampling.options import DryRunPlan, RunControl, RunSummary, SampleOptions

__all__ = ["DryRunPlan", "RunControl", "RunSummary", "SampleOptions", "dry_run", "sample"]
