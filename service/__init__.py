"""Policy Tracker: agreements, their commitments, and how far each is implemented.

`create_app` (service/app.py) builds the app. It is imported when first called, not here:
importing any module of the service (a model, a rule) must not import the whole app."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from service.core.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app: service.app.create_app."""
    from service.app import create_app as build_app

    return build_app(settings)
