"""Commands on the data: seed, the imports, rebuild-statistics, create-api-key."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

DEFAULT_SEED_DIR = Path(__file__).resolve().parents[2] / "seeds"


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=DEFAULT_SEED_DIR,
    show_default=True,
    help="The folder of seed files (*.yaml).",
)
@click.option(
    "--check",
    is_flag=True,
    help="List where the database differs from the seed files, record by record and field by "
    "field, and write nothing. Exit status 1 when they differ.",
)
@click.option(
    "--apply",
    "apply_changes",
    is_flag=True,
    help="Apply those differences in one transaction, as actor `seed`. Records that users "
    "changed or deleted after seeding are left alone and named.",
)
@click.option(
    "--overwrite-user-changes",
    is_flag=True,
    help="With --apply: apply the seed files over users' changes and deletions too.",
)
@with_appcontext
def seed(directory: Path, check: bool, apply_changes: bool, overwrite_user_changes: bool) -> None:
    """Load the seed data into a database that has never been seeded, in one transaction.

    Once seeded, a database is never written by this command again, whatever users changed
    or deleted since, unless asked with --apply. `make run` calls it on every start.
    """
    from service.core.errors import DomainError
    from service.seeding.files import SeedError
    from service.seeding.ledger import SEED_ACTOR, is_seeded
    from service.seeding.loader import load_seeds

    if check and apply_changes:
        raise click.UsageError("--check and --apply are two different runs: choose one.")
    if overwrite_user_changes and not apply_changes:
        raise click.UsageError("--overwrite-user-changes goes with --apply.")
    database = current_app.extensions["database"]
    with database.engine.connect() as connection, connection.begin() as transaction:
        # Each service commits its own step; inside this outer transaction those commits are
        # savepoints, so a bad file (or --check) leaves the database as it was.
        session = database.session_factory(
            bind=connection, join_transaction_mode="create_savepoint"
        )
        session.info["actor"] = SEED_ACTOR
        try:
            if not (check or apply_changes) and is_seeded(session):
                click.echo(
                    "the database was seeded already: nothing written "
                    "(`seed --check` compares it with the seed files)"
                )
                return
            report = load_seeds(
                session,
                directory,
                on_step=lambda step: click.echo(f"  {step}...", err=True),
                overwrite_user_changes=overwrite_user_changes,
            )
        except (SeedError, DomainError) as error:
            transaction.rollback()
            raise click.ClickException(f"the seed data was not loaded: {error}") from error
        finally:
            session.close()
        if check:
            transaction.rollback()
        else:
            transaction.commit()
    if check or apply_changes:
        _echo_seed_differences(report, applied=apply_changes)
        if check and report.differences:
            sys.exit(1)
        return
    for line in report.summary():
        click.echo(line)
    click.echo("seed data loaded")


def _echo_seed_differences(report: Any, *, applied: bool) -> None:
    for line in report.difference_lines():
        click.echo(line)
    kept = len(report.left_alone)
    done = len(report.differences) - kept
    if not report.differences:
        click.echo("the database matches the seed files")
        return
    verb = "applied" if applied else "would be applied by --apply"
    summary = f"{len(report.differences)} differences: {done} {verb}"
    if kept:
        summary += f", {kept} left alone as named above"
    click.echo(summary)


@click.command("create-api-key")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["reader", "editor", "admin"]),
    default="editor",
    show_default=True,
    help="reader: reads when PUBLIC_READ=false; editor: every write; admin: also key management.",
)
@with_appcontext
def create_api_key(name: str, role: str) -> None:
    """Make an API key called NAME and print it: it is shown this once, and stored only as a hash."""
    from service.auth.services import create_api_key as make_key
    from service.core.vocabularies import Role

    database = current_app.extensions["database"]
    with database.session_factory() as session:
        session.info["actor"] = "cli"
        new = make_key(session, data={"name": name, "role": Role(role)})
    click.echo(
        f"made API key {new.id} ({new.name}, {new.role.value}, prefix {new.prefix}); keep it now:",
        err=True,
    )
    click.echo(new.key)


def _run_import(path: Path, dry_run: bool, run: Callable[..., Any], actor: str) -> None:
    """Run an import of the file at `path` with a progress bar; list every problem if refused."""
    from service.exchange.csv_files import ImportRefused

    body = path.read_bytes()
    rows = max(0, len(body.splitlines()) - 1)
    database = current_app.extensions["database"]
    with database.session_factory() as session:
        session.info["actor"] = actor
        # Each row is checked, then written: two steps a row.
        bar_context: Any = click.progressbar(length=2 * rows, label="importing", file=sys.stderr)
        with bar_context as bar:
            try:
                report = run(session, body, dry_run=dry_run, on_row=lambda n: bar.update(n))
            except ImportRefused as refused:
                for error in refused.report.errors:
                    click.echo(f"row {error.row}, {error.column}: {error.message}", err=True)
                raise click.ClickException(refused.detail) from refused
    verb = "would be" if dry_run else "were"
    click.echo(
        f"{report.rows} rows: {report.created} {verb} created, {report.updated} {verb} updated, "
        f"{report.unchanged} unchanged"
    )


@click.command("import-commitments")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would change, and change nothing.")
@with_appcontext
def import_commitments(path: Path, dry_run: bool) -> None:
    """Create and update commitments from a CSV with the export's columns (docs/csv-format.md).

    All rows or none: if any row is wrong, nothing is written and every problem is listed.
    """
    from service.exchange.imports import import_commitments as run_import

    _run_import(path, dry_run, run_import, "cli import")


@click.command("import-assessments")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row, and change nothing.")
@with_appcontext
def import_assessments(path: Path, dry_run: bool) -> None:
    """Append status assessments from a CSV, one a row (docs/csv-format.md): the bulk path
    for a history. Each commitment touched has its status recomputed once.

    All rows or none: if any row is wrong, nothing is written and every problem is listed.
    """
    from service.exchange.assessment_imports import import_assessments as run_import

    _run_import(path, dry_run, run_import, "cli import")


@click.command("import-indicators")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every line, and change nothing.")
@with_appcontext
def import_indicators(path: Path, dry_run: bool) -> None:
    """Create and update indicators from JSON lines, one indicator a line as the API creates
    one, naming its commitment and keyed on external_id (docs/csv-format.md).

    All lines or none: if any line is wrong, nothing is written and every problem is listed.
    """
    from service.exchange.indicator_imports import import_indicators as run_import

    _run_import(path, dry_run, run_import, "cli import")


@click.command("import-decidim-results")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--agreement", "agreement_ref", required=True, metavar="REF", help="The agreement (id or slug)."
)
@click.option(
    "--locale",
    metavar="LOCALE",
    help="Take titles and descriptions in this locale (title/LOCALE). "
    "Default: the agreement's language where the file has it, else the file's first.",
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The date the progress is of. Default: the day each result was last updated where "
    "the file says (updated_at), else today.",
)
@click.option("--dry-run", is_flag=True, help="Check every row, and change nothing.")
@with_appcontext
def import_decidim_results(
    path: Path, agreement_ref: str, locale: str | None, as_of: Any, dry_run: bool
) -> None:
    """Turn a results export of Decidim's accountability module into the agreement's
    commitment tree, with an assessment for each result's progress (docs/csv-format.md).

    Keyed on each result's Decidim id: running the same file again creates nothing twice.
    All rows or none: if any row is wrong, nothing is written and every problem is listed.
    """
    import re
    from functools import partial

    from service.agreements.models import Agreement
    from service.core import records
    from service.core.errors import InvalidInput
    from service.core.identifiers import LOCALE_PATTERN
    from service.core.vocabularies import EntityType
    from service.exchange.decidim import import_decidim_results as run_import

    if locale is not None and not re.fullmatch(LOCALE_PATTERN, locale):
        raise click.BadParameter(
            "must be a locale as Decidim names it: en, ca, pt-BR", param_hint="--locale"
        )
    database = current_app.extensions["database"]
    with database.session_factory() as session:
        try:
            agreement_id = records.referenced_ref(
                session, Agreement, EntityType.AGREEMENT, agreement_ref, "--agreement"
            )
        except InvalidInput as error:
            raise click.BadParameter(error.detail, param_hint="--agreement") from error
    run = partial(
        run_import,
        agreement_id=agreement_id,
        locale=locale,
        as_of=as_of.date().isoformat() if as_of else None,
    )
    _run_import(path, dry_run, run, "cli import")


@click.command("rebuild-statistics")
@click.option(
    "--agreement",
    "agreement_refs",
    multiple=True,
    metavar="REF",
    help="Only this agreement (id or slug); repeat for more. Default: every agreement.",
)
@with_appcontext
def rebuild_statistics(agreement_refs: tuple[str, ...]) -> None:
    """Rebuild the statistics' kept tallies and open commitments by due date from the
    commitments (progress.tallies, progress.dues), and their monthly rows from the
    commitments' histories (progress.month_rows).

    Every write keeps them current; this is for a database restored or edited by hand, or a
    check: the rows written are those the writes would have kept. Committed a batch of
    agreements at a time, each batch under its agreements' row locks, so the service stays up.
    """
    from sqlalchemy import select

    from service.agreements.models import Agreement
    from service.core import records
    from service.core.errors import InvalidInput
    from service.core.vocabularies import EntityType
    from service.progress.dues import rebuild_due_totals
    from service.progress.tables import SPANS, TALLIES
    from service.progress.tallies import AGREEMENTS_PER_REBUILD
    from service.progress.upkeep import rebuild_kept

    database = current_app.extensions["database"]
    with database.session_factory() as session:
        if agreement_refs:
            try:
                ids = sorted(
                    {
                        records.referenced_ref(
                            session, Agreement, EntityType.AGREEMENT, ref, "--agreement"
                        )
                        for ref in agreement_refs
                    }
                )
            except InvalidInput as error:
                raise click.BadParameter(error.detail, param_hint="--agreement") from error
        else:
            # Deleted agreements too: their rows, if any are left, go.
            ids = sorted(
                set(session.scalars(select(Agreement.id)))
                | set(session.scalars(select(TALLIES.c.agreement_id).distinct()))
                | set(session.scalars(select(SPANS.c.agreement_id)))
            )
        session.rollback()
        with click.progressbar(length=len(ids), label="agreements", file=sys.stderr) as bar:
            for start in range(0, len(ids), AGREEMENTS_PER_REBUILD):
                batch = ids[start : start + AGREEMENTS_PER_REBUILD]
                rebuild_kept(session, batch)
                session.commit()
                bar.update(len(batch))
        if not agreement_refs:
            rebuild_due_totals(session)
            session.commit()
    click.echo(f"rebuilt the statistics of {len(ids)} agreement{'' if len(ids) == 1 else 's'}")
