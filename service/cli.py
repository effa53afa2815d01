"""Command-line tasks: `flask --app service migrate | seed`."""

from __future__ import annotations

import click
from flask import Flask, current_app


def register_commands(app: Flask) -> None:
    app.cli.add_command(migrate)


@click.command()
@click.option(
    "--revision", default="head", show_default=True, help="The Alembic revision to reach."
)
def migrate(revision: str) -> None:
    """Bring the database schema up to date (Alembic upgrade)."""
    from service.migrations import upgrade

    upgrade(current_app.extensions["settings"].database_url, revision)
    click.echo(f"database migrated to {revision}")
