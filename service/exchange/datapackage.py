"""The exports as one Frictionless Data Package: `datapackage.json`, served beside the CSV
exports it describes, with a Table Schema per file, so that the data set opens in the tools
open-data users already have (frictionless, Open Data Editor, CKAN, pandas through them).

The descriptor is written from the exports' own columns (exchange/columns.py): each column's
type, the vocabulary it takes, the pattern of its dates, what it holds. Its resources are the
unfiltered CSV exports, named relative to the descriptor."""

from __future__ import annotations

from typing import Any

from service.exchange.columns import (
    AGREEMENT_COLUMNS,
    ASSESSMENT_EXPORT_COLUMNS,
    CITATION_COLUMNS,
    COMMITMENT_COLUMNS,
    INDICATOR_COLUMNS,
    INDICATOR_PERIOD_COLUMNS,
    SOURCE_COLUMNS,
    Column,
)

# Each export of the package: its name, what one row is, its columns.
EXPORTS: list[tuple[str, str, list[Column]]] = [
    ("agreements", "One agreement, with its participants.", AGREEMENT_COLUMNS),
    (
        "commitments",
        "One commitment, a node of an agreement's tree, with its current status and progress.",
        COMMITMENT_COLUMNS,
    ),
    (
        "assessments",
        "One judgement of a commitment's implementation at a date, with the sources it cites.",
        ASSESSMENT_EXPORT_COLUMNS,
    ),
    (
        "indicators",
        "One measurable indicator of a commitment, with its baseline and progress.",
        INDICATOR_COLUMNS,
    ),
    (
        "indicator_periods",
        "One period of an indicator: its target and the actual value reached.",
        INDICATOR_PERIOD_COLUMNS,
    ),
    ("sources", "One source: where a fact comes from, and how far to trust it.", SOURCE_COLUMNS),
    (
        "citations",
        "One citation: a source supporting a record, or one of its fields.",
        CITATION_COLUMNS,
    ),
]
# Each export's references to the others, checked by a validator of the package.
FOREIGN_KEYS: dict[str, list[dict[str, Any]]] = {
    "commitments": [{"fields": "parent_id", "reference": {"resource": "", "fields": "id"}}],
    "assessments": [
        {"fields": "commitment_id", "reference": {"resource": "commitments", "fields": "id"}}
    ],
    "citations": [{"fields": "source_id", "reference": {"resource": "sources", "fields": "id"}}],
    "indicators": [
        {"fields": "commitment_id", "reference": {"resource": "commitments", "fields": "id"}}
    ],
    "indicator_periods": [
        {"fields": "indicator_id", "reference": {"resource": "indicators", "fields": "id"}}
    ],
}
# Each export's key: `id`, but for the periods, which are keyed within their indicator.
PRIMARY_KEYS = {"indicator_periods": ["indicator_id", "period"]}


def _field(column: Column) -> dict[str, Any]:
    field: dict[str, Any] = {"name": column.name, "type": column.field_type}
    if column.description:
        field["description"] = column.description
    constraints: dict[str, Any] = {}
    if column.name in ("id", "indicator_id", "period"):
        constraints["required"] = True
    if column.enum is not None:
        constraints["enum"] = [member.value for member in column.enum]
    if column.pattern is not None:
        constraints["pattern"] = column.pattern
    if constraints:
        field["constraints"] = constraints
    return field


def descriptor() -> dict[str, Any]:
    """The package's descriptor (Data Package v1, tabular)."""
    return {
        "profile": "tabular-data-package",
        "name": "policy-tracker",
        "title": "Policy Tracker: agreements, commitments and the evidence of their implementation",
        "description": (
            "Every export of the service as it stands when each file is read: agreements, "
            "their commitments with current status and progress, the assessments behind each "
            "status, their sources and citations. Lists in a cell are separated by ;. "
            "Text a spreadsheet would run as a formula starts with a ' (docs/csv-format.md)."
        ),
        "resources": [
            {
                "name": name,
                "path": f"{name}.csv",
                "profile": "tabular-data-resource",
                "description": description,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": True},
                "schema": {
                    "fields": [_field(column) for column in columns],
                    "primaryKey": PRIMARY_KEYS.get(name, ["id"]),
                    "missingValues": [""],
                    **({"foreignKeys": FOREIGN_KEYS[name]} if name in FOREIGN_KEYS else {}),
                },
            }
            for name, description, columns in EXPORTS
        ],
    }
