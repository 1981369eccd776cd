"""`ekt import SOURCE`: GSM8K, MBPP, HumanEval or a mapped jsonl/csv into the project."""

from __future__ import annotations

import click

from core.cli.app import cli as root
from core.cli.app import run
from core.datasets import FORMATS, FieldMap, ImportOptions, ImportReport, import_dataset
from core.datasets.importer import report_json
from core.project import Project

_MAX_LISTED = 20


@root.command("import")
@click.argument("source")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="Source format.")
@click.option(
    "--split",
    help="Split name to record (default: from the file name, else train; "
    "MBPP: the paper's task_id ranges; hub: every split).",
)
@click.option(
    "--split-preset",
    type=click.Choice(["ilf"]),
    help="MBPP: a paper's splits by task id (ilf: refine 111-310, train 311-974, test 11-110).",
)
@click.option("--limit", type=int, help="Only the first N rows.")
@click.option("--sample", type=int, help="N rows drawn at random (after --limit).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --sample.")
@click.option("--skip-bad", is_flag=True, help="Import the good rows, report the bad ones.")
@click.option("--dataset", help="Dataset name, the id prefix (default: the format, or the file).")
@click.option("--subset", help="Hugging Face config name (e.g. main for gsm8k).")
@click.option("--id-field", help="jsonl/csv: column holding the problem id (used verbatim).")
@click.option("--question-field", default="question", show_default=True, help="jsonl/csv.")
@click.option("--answer-field", help="jsonl/csv: final-answer column (checked like GSM8K).")
@click.option("--tests-field", help="jsonl/csv: asserts column (checked like MBPP).")
@click.option("--setup-field", help="jsonl/csv: setup code column.")
@click.option("--entry-point-field", help="jsonl/csv: function name column.")
@click.option("--json", "as_json", is_flag=True, help="The import report as JSON on stdout.")
def import_(
    source: str,
    fmt: str,
    split: str | None,
    split_preset: str | None,
    limit: int | None,
    sample: int | None,
    seed: int,
    skip_bad: bool,
    dataset: str | None,
    subset: str | None,
    id_field: str | None,
    question_field: str,
    answer_field: str | None,
    tests_field: str | None,
    setup_field: str | None,
    entry_point_field: str | None,
    as_json: bool,
) -> None:
    """Import problems from SOURCE: a local file (.jsonl, .json, .csv, .parquet) or a Hugging
    Face dataset id. All or nothing: a malformed row aborts with its file and line, unless
    --skip-bad. Importing again adds only problems not already stored."""
    fields = FieldMap(
        id=id_field,
        question=question_field,
        answer=answer_field,
        tests=tests_field,
        setup=setup_field,
        entry_point=entry_point_field,
    )
    opts = ImportOptions(
        format=fmt,
        split=split,
        limit=limit,
        sample=sample,
        seed=seed,
        skip_bad=skip_bad,
        dataset=dataset,
        subset=subset,
        fields=fields,
        split_preset=split_preset,
    )

    async def go(project: Project) -> ImportReport:
        return await import_dataset(project.store, source, opts)

    report = run(go)
    click.echo(report_json(report) if as_json else report.summary())
    warn_report(report)


def warn_report(report: ImportReport) -> None:
    """Skipped rows, changed sources and prompt leaks go to stderr, one line each."""
    if report.skipped:
        click.echo(f"ekt: skipped {len(report.skipped)} bad rows:", err=True)
        for line in report.skipped[:_MAX_LISTED]:
            click.echo(f"  {line}", err=True)
        if len(report.skipped) > _MAX_LISTED:
            click.echo(f"  … and {len(report.skipped) - _MAX_LISTED} more", err=True)
    if report.changed:
        click.echo(
            f"ekt: warning: {len(report.changed)} problems already stored differ from the source "
            f"(kept the stored version; --dataset NAME imports them as new problems), e.g. "
            f"{', '.join(report.changed[:3])}",
            err=True,
        )
    for leak in report.leaks:
        click.echo(f"ekt: warning: leakage: {leak}", err=True)
