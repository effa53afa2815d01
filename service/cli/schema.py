"""Commands on the database schema and the API's contract: migrate, new-migration,
write-openapi."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command()
@click.option(
    "--revision", default="head", show_default=True, help="The Alembic revision to reach."
)
@with_appcontext
def migrate(revision: str) -> None:
    """Bring the database schema up to date (Alembic upgrade)."""
    from service.migrations import upgrade

    upgrade(current_app.extensions["settings"].database_url, revision)
    click.echo(f"database migrated to {revision}")


@click.command("new-migration")
@click.argument("message")
@with_appcontext
def new_migration(message: str) -> None:
    """Write a new Alembic migration from the models' difference to the database (review it!)."""
    from alembic import command

    from service.migrations import alembic_config

    config = alembic_config(current_app.extensions["settings"].database_url)
    command.revision(config, message=message, autogenerate=True)


@click.command("write-openapi")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def write_openapi(path: Path) -> None:
    """Write the OpenAPI spec that the code generates to PATH (openapi/openapi.json)."""
    from service.http.api import spec_document

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(spec_document(current_app) + "\n", encoding="utf-8")
    click.echo(f"wrote {path}")
