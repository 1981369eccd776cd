"""Schema of the project store, as an ordered list of forward migrations.

`PRAGMA user_version` holds the number of migrations applied. Never edit a migration that has
shipped: append a new one. Per-problem counts live in `problem_stats`, maintained by triggers in
the same transaction as the write, so the problem list and its filters never aggregate 150k rows;
gold itself is still derived from verdicts (`gold_candidates` view), never stored twice.

The gold rule is written once, in `gold_rule`: the view, the triggers and every read query
(`CANDIDATE_GOLD`) are built from it. Changing the rule (e.g. a verdict flag such as `spurious`
that keeps a pass out of gold) means: extend `gold_rule`/`CANDIDATE_GOLD`, and append a migration
that adds the column and re-creates the derived objects with `gold_objects()`.
"""

from __future__ import annotations

VERDICT_STATUSES = (
    "pass",
    "fail",
    "error",
    "timeout",
    "memory",
    "syntax",
    "crashed",
    "output-limit",
)
CANDIDATE_SOURCES = ("teacher", "student", "edit", "refine")

_STATUS_COLS = {s: s.replace("-", "_") for s in VERDICT_STATUSES}


def _bump(*terms: tuple[str, str]) -> str:
    """`col = col ± (ref.status = 'x') …` for every status column, one assignment each
    (SQLite keeps only the last of several assignments to one column)."""
    return ", ".join(
        f"{col} = {col} " + " ".join(f"{sign} ({ref}.status = '{status}')" for sign, ref in terms)
        for status, col in _STATUS_COLS.items()
    )


def gold_rule(status: str, override: str, flags: str | None = "") -> str:
    """THE gold rule, as an SQL expression over a verdict status, its flags and a candidate's
    `gold_override`: 1 when gold. A human override wins; otherwise a passing verdict is gold unless
    it is flagged `spurious` (a pass that does not compute its answer) and the project does not
    allow those (`[gold] allow_spurious`, mirrored into the one-row `gold_settings` table).

    `flags` is the SQL of the verdict's flags column; `None` builds the rule as it was before
    flags existed (store versions 1-2), which migration v2 must keep using."""
    if flags is None:
        passing = f"{status} = 'pass'"
    else:
        flags = flags or "NULL"
        passing = (
            f"{status} = 'pass' AND (coalesce({flags}, '') NOT LIKE '%\"spurious\"%'"
            " OR (SELECT allow_spurious FROM gold_settings) = 1)"
        )
    return (
        f"(CASE WHEN {override} = 1 THEN 1 WHEN {override} = 0 THEN 0 "
        f"WHEN {passing} THEN 1 ELSE 0 END)"
    )


CANDIDATE_GOLD = gold_rule("v.status", "c.gold_override", "v.flags")
"""Gold of a candidate `c` LEFT JOINed with its verdict `v`: what every read query selects."""

_STATS_COLS = ",\n  ".join(f"{col} INTEGER NOT NULL DEFAULT 0" for col in _STATUS_COLS.values())
_OV = "(SELECT gold_override FROM candidates WHERE id = NEW.candidate_id)"

_GOLD_TRIGGERS = (
    "candidates_ai",
    "candidates_au_gold",
    "verdicts_ai",
    "verdicts_au",
    "verdicts_ad",
)


def _gold_triggers(flagged: bool = True) -> str:
    """The triggers that keep problem_stats (status counts and gold, by `gold_rule`) current.
    `flagged`: the rule reads verdict flags (store version 3 on)."""

    def rule(status: str, override: str, flags: str) -> str:
        return gold_rule(status, override, flags if flagged else None)

    cur = "(SELECT {} FROM verdicts WHERE candidate_id = NEW.id)"
    au_of = "status, flags" if flagged else "status"
    return f"""
CREATE TRIGGER candidates_ai AFTER INSERT ON candidates BEGIN
  UPDATE problem_stats SET n = n + 1, pending = pending + 1,
    gold = gold + {rule("NULL", "NEW.gold_override", "NULL")}
  WHERE problem_id = NEW.problem_id;
END;

CREATE TRIGGER candidates_au_gold AFTER UPDATE OF gold_override ON candidates BEGIN
  UPDATE problem_stats SET gold = gold
    + {rule(cur.format("status"), "NEW.gold_override", cur.format("flags"))}
    - {rule(cur.format("status"), "OLD.gold_override", cur.format("flags"))}
  WHERE problem_id = NEW.problem_id;
END;

CREATE TRIGGER verdicts_ai AFTER INSERT ON verdicts BEGIN
  UPDATE problem_stats SET pending = pending - 1, {_bump(("+", "NEW"))},
    gold = gold + {rule("NEW.status", _OV, "NEW.flags")} - {rule("NULL", _OV, "NULL")}
  WHERE problem_id = (SELECT problem_id FROM candidates WHERE id = NEW.candidate_id);
END;

CREATE TRIGGER verdicts_au AFTER UPDATE OF {au_of} ON verdicts BEGIN
  UPDATE problem_stats SET {_bump(("-", "OLD"), ("+", "NEW"))},
    gold = gold + {rule("NEW.status", _OV, "NEW.flags")} - {rule("OLD.status", _OV, "OLD.flags")}
  WHERE problem_id = (SELECT problem_id FROM candidates WHERE id = NEW.candidate_id);
END;

CREATE TRIGGER verdicts_ad AFTER DELETE ON verdicts BEGIN
  UPDATE problem_stats SET pending = pending + 1, {_bump(("-", "OLD"))},
    gold = gold + {rule("NULL", _OV.replace("NEW.", "OLD."), "NULL")}
               - {rule("OLD.status", _OV.replace("NEW.", "OLD."), "OLD.flags")}
  WHERE problem_id = (SELECT problem_id FROM candidates WHERE id = OLD.candidate_id);
END;
"""


V1 = f"""
CREATE TABLE problems (
  id          TEXT PRIMARY KEY,
  seq         INTEGER NOT NULL UNIQUE,
  dataset     TEXT NOT NULL,
  split       TEXT NOT NULL DEFAULT '',
  kind        TEXT NOT NULL CHECK (kind IN ('answer', 'asserts', 'check')),
  question    TEXT NOT NULL,
  answer      TEXT,
  tests       TEXT,
  setup       TEXT,
  entry_point TEXT,
  prompt      TEXT,
  meta        TEXT NOT NULL DEFAULT '{{}}',
  imported_at REAL NOT NULL
);

CREATE TABLE problem_stats (
  problem_id TEXT PRIMARY KEY REFERENCES problems(id) ON DELETE CASCADE,
  n          INTEGER NOT NULL DEFAULT 0,
  pending    INTEGER NOT NULL DEFAULT 0,
  gold       INTEGER NOT NULL DEFAULT 0,
  {_STATS_COLS}
);
CREATE INDEX problem_stats_gold ON problem_stats(gold, problem_id);

CREATE TABLE prompts (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  version    INTEGER NOT NULL,
  template   TEXT NOT NULL,
  note       TEXT NOT NULL DEFAULT '',
  parent_id  INTEGER REFERENCES prompts(id),
  created_at REAL NOT NULL,
  UNIQUE (name, version)
);

CREATE TABLE runs (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  prompt_id  INTEGER REFERENCES prompts(id),
  teacher    TEXT NOT NULL DEFAULT '{{}}',
  params     TEXT NOT NULL DEFAULT '{{}}',
  status     TEXT NOT NULL DEFAULT 'created',
  budget_usd REAL,
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL
);

CREATE TABLE requests (
  id                INTEGER PRIMARY KEY,
  run_id            INTEGER NOT NULL REFERENCES runs(id),
  problem_id        TEXT NOT NULL REFERENCES problems(id),
  first_index       INTEGER NOT NULL,
  n                 INTEGER NOT NULL,
  status            TEXT NOT NULL DEFAULT 'pending',
  attempts          INTEGER NOT NULL DEFAULT 0,
  prompt_tokens     INTEGER,
  completion_tokens INTEGER,
  cost_usd          REAL,
  latency_s         REAL,
  ttft_s            REAL,
  error_class       TEXT,
  error             TEXT,
  started_at        REAL,
  finished_at       REAL,
  UNIQUE (run_id, problem_id, first_index)
);
CREATE INDEX requests_run ON requests(run_id, status);

CREATE TABLE evals (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  model      TEXT NOT NULL,
  method     TEXT NOT NULL DEFAULT '',
  teacher    TEXT NOT NULL DEFAULT '',
  prompt_id  INTEGER REFERENCES prompts(id),
  split      TEXT NOT NULL DEFAULT '',
  params     TEXT NOT NULL DEFAULT '{{}}',
  status     TEXT NOT NULL DEFAULT 'created',
  results    TEXT NOT NULL DEFAULT '{{}}',
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL
);

CREATE TABLE candidates (
  id            INTEGER PRIMARY KEY,
  problem_id    TEXT NOT NULL REFERENCES problems(id),
  source        TEXT NOT NULL CHECK (source IN ('teacher', 'student', 'edit', 'refine')),
  parent_id     INTEGER REFERENCES candidates(id),
  run_id        INTEGER REFERENCES runs(id),
  eval_id       INTEGER REFERENCES evals(id),
  request_id    INTEGER REFERENCES requests(id),
  sample_index  INTEGER,
  code          TEXT NOT NULL,
  raw           TEXT,
  code_hash     TEXT NOT NULL,
  gold_override INTEGER CHECK (gold_override IN (0, 1)),
  created_at    REAL NOT NULL,
  UNIQUE (run_id, problem_id, sample_index),
  UNIQUE (eval_id, problem_id, sample_index)
);
CREATE INDEX candidates_problem ON candidates(problem_id, id);
CREATE INDEX candidates_hash ON candidates(problem_id, code_hash);
CREATE INDEX candidates_eval ON candidates(eval_id) WHERE eval_id IS NOT NULL;

CREATE TABLE verdicts (
  candidate_id  INTEGER PRIMARY KEY REFERENCES candidates(id) ON DELETE CASCADE,
  status        TEXT NOT NULL CHECK (status IN {VERDICT_STATUSES!r}),
  detail        TEXT NOT NULL DEFAULT '',
  passed        INTEGER,
  total         INTEGER,
  returned      TEXT,
  expected      TEXT,
  error_type    TEXT,
  error_message TEXT,
  trace         TEXT,
  output        TEXT,
  duration_s    REAL,
  verifier      TEXT NOT NULL DEFAULT '{{}}',
  created_at    REAL NOT NULL
);
CREATE INDEX verdicts_status ON verdicts(status);

CREATE TABLE train_runs (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  status     TEXT NOT NULL DEFAULT 'created',
  config     TEXT NOT NULL DEFAULT '{{}}',
  lineage    TEXT NOT NULL DEFAULT '{{}}',
  output_dir TEXT NOT NULL DEFAULT '',
  pid        INTEGER,
  error      TEXT,
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL
);

CREATE TABLE train_events (
  id           INTEGER PRIMARY KEY,
  train_run_id INTEGER NOT NULL REFERENCES train_runs(id),
  kind         TEXT NOT NULL DEFAULT 'log',
  step         INTEGER,
  epoch        REAL,
  loss         REAL,
  lr           REAL,
  grad_norm    REAL,
  tokens_per_s REAL,
  eta_s        REAL,
  data         TEXT NOT NULL DEFAULT '{{}}',
  created_at   REAL NOT NULL
);
CREATE INDEX train_events_run ON train_events(train_run_id, id);

CREATE TABLE checkpoints (
  id           INTEGER PRIMARY KEY,
  train_run_id INTEGER NOT NULL REFERENCES train_runs(id),
  step         INTEGER NOT NULL,
  path         TEXT NOT NULL,
  metrics      TEXT NOT NULL DEFAULT '{{}}',
  lineage      TEXT NOT NULL DEFAULT '{{}}',
  created_at   REAL NOT NULL,
  UNIQUE (train_run_id, step)
);

CREATE VIEW gold_candidates AS
  SELECT c.*, v.status AS verdict_status
  FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id
  WHERE c.gold_override = 1 OR (c.gold_override IS NOT 0 AND v.status = 'pass');

CREATE TRIGGER problems_ai AFTER INSERT ON problems BEGIN
  INSERT OR IGNORE INTO problem_stats(problem_id) VALUES (NEW.id);
END;

{_gold_triggers(flagged=False)}"""


def gold_objects(flagged: bool = True) -> str:
    """The view and triggers derived from `gold_rule`, dropped and re-created (for a migration
    that changes the rule). `flagged=False`: the rule before verdict flags (migration v2)."""
    drops = "".join(f"DROP TRIGGER IF EXISTS {t};\n" for t in _GOLD_TRIGGERS)
    gold = CANDIDATE_GOLD if flagged else gold_rule("v.status", "c.gold_override", None)
    return f"""
{drops}{_gold_triggers(flagged)}
DROP VIEW IF EXISTS gold_candidates;
CREATE VIEW gold_candidates AS
  SELECT c.*, v.status AS verdict_status
  FROM candidates c LEFT JOIN verdicts v ON v.candidate_id = c.id
  WHERE {gold} = 1;
"""


_PARAMS = "(CASE WHEN json_valid(r.params) THEN r.params ELSE '{}' END)"

# v2: a run's prompt versions are stored once, in run_prompts (run × problem kind → prompt),
# instead of runs.prompt_id (single-prompt runs) + params.prompts + params.prompt_labels. Runs
# from before params.prompts get their prompt for every kind their requests sampled.
V2 = f"""
CREATE TABLE run_prompts (
  run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  kind      TEXT NOT NULL,
  prompt_id INTEGER NOT NULL REFERENCES prompts(id),
  PRIMARY KEY (run_id, kind)
);
CREATE INDEX run_prompts_prompt ON run_prompts(prompt_id);

INSERT OR IGNORE INTO run_prompts(run_id, kind, prompt_id)
  SELECT r.id, j.key, CAST(j.value AS INTEGER)
  FROM runs r, json_each({_PARAMS}, '$.prompts') j
  WHERE json_type({_PARAMS}, '$.prompts') = 'object'
    AND EXISTS (SELECT 1 FROM prompts p WHERE p.id = CAST(j.value AS INTEGER));

INSERT OR IGNORE INTO run_prompts(run_id, kind, prompt_id)
  SELECT DISTINCT r.id, pb.kind, r.prompt_id
  FROM runs r JOIN requests q ON q.run_id = r.id JOIN problems pb ON pb.id = q.problem_id
  WHERE r.prompt_id IS NOT NULL
    AND coalesce(json_type({_PARAMS}, '$.prompts'), '') != 'object';

UPDATE runs SET params = json_remove(params, '$.prompts', '$.prompt_labels')
  WHERE json_valid(params);
ALTER TABLE runs DROP COLUMN prompt_id;
{gold_objects(flagged=False)}
"""

# v3: verdict flags, a JSON list: `untrusted-harness` (a test ran inside the candidate's
# interpreter), `spurious` (a pass that does not compute its answer, kept out of gold unless the
# project allows it: `[gold] allow_spurious`, mirrored into gold_settings by `sync_gold_settings`).
V3_VERDICT_FLAGS = f"""
ALTER TABLE verdicts ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
CREATE TABLE gold_settings (
  one            INTEGER PRIMARY KEY CHECK (one = 1),
  allow_spurious INTEGER NOT NULL DEFAULT 0 CHECK (allow_spurious IN (0, 1))
);
INSERT INTO gold_settings(one, allow_spurious) VALUES (1, 0);
{gold_objects(flagged=True)}
"""


# feedback (issue 14, ILF): language feedback on a candidate, by a human, built from its verdict
# (execution) or written by the teacher through a `critique` prompt; a refinement candidate
# (source = refine, parent_id) names the feedback it was made from. One execution feedback per
# candidate, one teacher feedback per (candidate, critique prompt version): re-running is a no-op.
V_FEEDBACK = """
CREATE TABLE feedback (
  id           INTEGER PRIMARY KEY,
  candidate_id INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
  author       TEXT NOT NULL CHECK (author IN ('human', 'execution', 'teacher')),
  text         TEXT NOT NULL CHECK (length(trim(text)) > 0),
  prompt_id    INTEGER REFERENCES prompts(id),
  created_at   REAL NOT NULL
);
CREATE INDEX feedback_candidate ON feedback(candidate_id, id);
CREATE UNIQUE INDEX feedback_execution_once ON feedback(candidate_id) WHERE author = 'execution';
CREATE UNIQUE INDEX feedback_teacher_once ON feedback(candidate_id, prompt_id)
  WHERE author = 'teacher';
ALTER TABLE candidates ADD COLUMN feedback_id INTEGER REFERENCES feedback(id);
CREATE INDEX candidates_parent ON candidates(parent_id) WHERE parent_id IS NOT NULL;
"""


# CodeOcean (issue 16): cached embeddings (model × item kind × item → float16 bytes), named
# k-center selections, and the judge's score per candidate. No references to other helpers' tables.
V_CODEOCEAN = """
CREATE TABLE embeddings (
  model      TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('question', 'code')),
  item_id    TEXT NOT NULL,
  dim        INTEGER NOT NULL,
  vector     BLOB NOT NULL,
  created_at REAL NOT NULL,
  PRIMARY KEY (model, kind, item_id)
);

CREATE TABLE selections (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  by            TEXT NOT NULL,
  ids           TEXT NOT NULL DEFAULT '[]',
  radius        REAL NOT NULL,
  random_radius REAL NOT NULL,
  params        TEXT NOT NULL DEFAULT '{}',
  created_at    REAL NOT NULL
);

CREATE TABLE judgements (
  id           INTEGER PRIMARY KEY,
  candidate_id INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
  prompt_id    INTEGER REFERENCES prompts(id),
  teacher      TEXT NOT NULL DEFAULT '',
  score        INTEGER CHECK (score BETWEEN 1 AND 10),
  reason       TEXT NOT NULL DEFAULT '',
  raw          TEXT NOT NULL DEFAULT '',
  parsed       INTEGER NOT NULL CHECK (parsed IN (0, 1)),
  created_at   REAL NOT NULL
);
CREATE INDEX judgements_candidate ON judgements(candidate_id, id);
"""

MIGRATIONS: list[str] = [V1, V2, V3_VERDICT_FLAGS, V_FEEDBACK, V_CODEOCEAN]
"""Migration i brings a store from user_version i to i + 1."""

SCHEMA_VERSION = len(MIGRATIONS)
