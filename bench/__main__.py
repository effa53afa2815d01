"""`python -m bench`: generate the benchmark's data, and run the benchmark (`make bench`)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from bench.dataset import Scale

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/policy_tracker_bench"
# The generator and the server under test must sign page tokens with one key.
BENCH_SECRET_KEY = "bench-secret-key-not-for-production-0123456789"


database_option = click.option(
    "--database-url",
    default=lambda: os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
    show_default=f"$BENCH_DATABASE_URL or {DEFAULT_URL}",
    help="The benchmark's own PostgreSQL database: created, generated when empty, dropped "
    "by `generate --fresh`.",
)

report_option = click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("docs/benchmarks.md"),
    show_default=True,
    help="Where to write the report.",
)


def _scale(agreements: int) -> Scale:
    return Scale(agreements=agreements)


@click.group()
def main() -> None:
    """The benchmark of docs/benchmarks.md, against a PostgreSQL database of its own."""


@main.command()
@database_option
@click.option(
    "--agreements",
    default=1_000,
    show_default=True,
    help="Agreements to make, each with 100 commitments with 10 assessments each.",
)
@click.option("--fresh", is_flag=True, help="Drop the database and generate again.")
def generate(database_url: str, agreements: int, fresh: bool) -> None:
    """Fill the database through the service's API and bulk imports (skipped when done)."""
    from bench.generate import generate as run

    click.echo(run(database_url, _scale(agreements), fresh=fresh, secret_key=BENCH_SECRET_KEY))


@main.command()
@database_option
@click.option(
    "--agreements", default=1_000, show_default=True, help="The data's size, as for generate."
)
@click.option("--runs", default=5, show_default=True, help="Rounds; each figure is their median.")
@click.option(
    "--seconds", default=8, show_default=True, help="Seconds of load per scenario and round."
)
@report_option
def run(database_url: str, agreements: int, runs: int, seconds: int, report: Path) -> None:
    """Generate the data if needed, measure every scenario and the ceiling, write the report."""
    from bench import report as reporting
    from bench.generate import generate as make_data
    from bench.run import run as measure

    counts = make_data(database_url, _scale(agreements), fresh=False, secret_key=BENCH_SECRET_KEY)
    summary = measure(
        database_url, runs=runs, seconds=seconds, secret_key=BENCH_SECRET_KEY, counts=counts
    )
    report.write_text(reporting.render(summary, reporting.machine(database_url)))
    click.echo(f"wrote {report}", err=True)


@main.command("report")
@database_option
@report_option
def rewrite_report(database_url: str, report: Path) -> None:
    """Write the report again from the last run's figures (var/bench/results.json), after
    bench/notes.md changed."""
    import json

    from bench import report as reporting
    from bench.run import RESULTS

    summary = json.loads(RESULTS.read_text())
    report.write_text(reporting.render(summary, reporting.machine(database_url)))
    click.echo(f"wrote {report} from {RESULTS}", err=True)


@main.command("compare")
@database_option
@click.option(
    "--before",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    required=True,
    help="Another checkout of the service (`git worktree add /tmp/before <commit>`).",
)
@click.option(
    "--after",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="The checkout to compare it with (default: this one): to time one past step.",
)
@click.option(
    "--scenario",
    "names",
    multiple=True,
    help="A scenario's name as in var/bench/results.json (create_assessment, "
    "get_commitment_computed, ...); repeatable.",
)
@click.option(
    "--latency",
    "latency_names",
    multiple=True,
    help="A computed read to time one request at a time (stats_all, stats_agreement, "
    "progress_all, progress_agreement); repeatable.",
)
@click.option("--rounds", default=2, show_default=True, help="Times each pair is measured.")
@click.option("--seconds", default=8, show_default=True, help="Seconds of load per measure.")
def run_compare(
    database_url: str,
    before: Path,
    after: Path | None,
    names: tuple[str, ...],
    latency_names: tuple[str, ...],
    rounds: int,
    seconds: int,
) -> None:
    """Measure scenarios against another checkout and this one, in turn, on the same data."""
    if not names and not latency_names:
        raise click.UsageError("name at least one --scenario or --latency")
    from bench.generate import generate as make_data
    from bench.run import compare

    make_data(database_url, _scale(1_000), fresh=False, secret_key=BENCH_SECRET_KEY)
    compare(
        database_url,
        secret_key=BENCH_SECRET_KEY,
        before=before.resolve(),
        **({"after": after.resolve()} if after is not None else {}),
        names=list(names),
        latency_names=list(latency_names),
        rounds=rounds,
        seconds=seconds,
    )


@main.command("soak")
@database_option
@click.option("--minutes", default=5.0, show_default=True, help="How long the load runs.")
@click.option(
    "--recycle/--no-recycle",
    default=False,
    show_default=True,
    help="Let gunicorn replace workers every 10,000 requests (production: 100,000), so that "
    "replacing them is exercised under load (off: each worker lives the whole run, so a "
    "leak shows).",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("docs/reliability.md"),
    show_default=True,
    help="The document whose soak section is rewritten.",
)
def run_soak(database_url: str, minutes: float, recycle: bool, report: Path) -> None:
    """Mixed load for some minutes; zero 5xx, flat memory and steady connections expected."""
    from bench.generate import generate as make_data
    from bench.soak import soak, write_into

    make_data(database_url, _scale(1_000), fresh=False, secret_key=BENCH_SECRET_KEY)
    result = soak(database_url, BENCH_SECRET_KEY, minutes, recycle)
    write_into(report, result)
    click.echo(
        f"{result['answered']} answers, {result['five_hundreds']} 5xx; wrote {report}", err=True
    )


@main.command("http-import")
@database_option
@click.option(
    "--agreements", default=1_000, show_default=True, help="The data's size, as for generate."
)
@click.option(
    "--limit-minutes",
    default=60.0,
    show_default=True,
    help="Fail when the job has not ended after this long.",
)
@click.option(
    "--file-agreements",
    type=click.IntRange(min=1),
    default=None,
    help="Import only the assessments of this many agreements (1,000 rows each); default: all.",
)
def run_http_import(
    database_url: str, agreements: int, limit_minutes: float, file_agreements: int | None
) -> None:
    """Import the whole assessment file (1,000,000 rows) in one request to the API, on a
    scratch copy of the database, and follow the job while creating a theme every 0.2 s
    (how long other writes wait); fails unless every row was added."""
    from bench.generate import generate as make_data
    from bench.http_import import http_import, is_generated

    scale = _scale(agreements)
    if not is_generated(database_url, scale):
        make_data(database_url, scale, fresh=False, secret_key=BENCH_SECRET_KEY)
    outcome = http_import(
        database_url,
        scale,
        secret_key=BENCH_SECRET_KEY,
        limit_minutes=limit_minutes,
        agreements_in_file=file_agreements,
    )
    rows = scale.assessments * (file_agreements or agreements) // agreements
    if outcome.result is not None:
        report = {name: value for name, value in outcome.result.items() if name != "row_errors"}
        click.echo(f"report: {report}; row errors: {outcome.result['row_errors'][:5]}", err=True)
    click.echo(outcome.summary(rows))
    if outcome.state != "succeeded" or outcome.added != rows:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
