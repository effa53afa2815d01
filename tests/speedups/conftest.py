"""The speed-ups' tests run against apps with their speed-ups, whatever SPEEDUPS says."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import Connection

from tests.conftest import DASHBOARD, app_on_connection


@pytest.fixture(scope="session")
def app(app_with_speedups: Flask) -> Flask:
    return app_with_speedups


@pytest.fixture
def cors_app(database_url: str, connection: Connection) -> Flask:
    return app_on_connection(database_url, connection, cors_origins=(DASHBOARD,), speedups=True)
