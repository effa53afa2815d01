"""Command-line tasks: `flask --app service <command>`, `--help` on each. The schema and
the contract (cli/schema.py), the data (cli/data.py), the long-running workers
(cli/workers.py)."""

from __future__ import annotations

from flask import Flask

from service.cli.data import (
    create_api_key,
    import_assessments,
    import_commitments,
    import_decidim_results,
    import_indicators,
    rebuild_statistics,
    seed,
)
from service.cli.schema import migrate, new_migration, write_openapi
from service.cli.workers import deliver_webhooks, worker


def register_commands(app: Flask) -> None:
    app.cli.add_command(migrate)
    app.cli.add_command(new_migration)
    app.cli.add_command(seed)
    app.cli.add_command(write_openapi)
    app.cli.add_command(create_api_key)
    app.cli.add_command(import_commitments)
    app.cli.add_command(import_assessments)
    app.cli.add_command(import_decidim_results)
    app.cli.add_command(import_indicators)
    app.cli.add_command(deliver_webhooks)
    app.cli.add_command(worker)
    app.cli.add_command(rebuild_statistics)
