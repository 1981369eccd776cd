"""Gold: the programs training learns from, derived from verdicts by the one gold rule
(`core.store.schema.gold_rule`) and never stored twice.

- `select_gold`, `GoldExample`, `POLICIES` — gold by policy (select.py).
- `set_gold`, `toggle_gold` — human overrides (overrides.py).
- `pick_dev` — the SFT split: the dev problems training holds out (split.py).
- `export_gold` — JSON lines / HF dataset export, `ekt gold export` (export.py).
"""

from core.gold.export import export_gold
from core.gold.overrides import candidate_row, set_gold, toggle_gold
from core.gold.select import POLICIES, GoldExample, select_gold
from core.gold.split import pick_dev

__all__ = [
    "POLICIES",
    "GoldExample",
    "candidate_row",
    "export_gold",
    "pick_dev",
    "select_gold",
    "set_gold",
    "toggle_gold",
]
