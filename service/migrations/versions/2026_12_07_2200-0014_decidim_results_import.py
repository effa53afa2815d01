"""the Decidim results and indicators imports: kinds of job, and the options a job runs with

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Sequence
from typing import Literal

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOB_KINDS = ["import_assessments", "import_commitments"]


def _jobs(kinds: list[str], *, add_options: bool) -> None:
    allowed = ", ".join(f"'{kind}'" for kind in sorted(kinds))
    # On SQLite a CHECK constraint changes only with the table around it; PostgreSQL alters
    # it in place.
    recreate: Literal["always", "auto"] = (
        "always" if op.get_bind().dialect.name == "sqlite" else "auto"
    )
    with op.batch_alter_table("jobs", recreate=recreate) as batch_op:
        batch_op.drop_constraint(op.f("ck_jobs_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_jobs_kind"), sa.text(f"kind IN ({allowed})"))
        if add_options:
            batch_op.add_column(sa.Column("options", sa.JSON(), nullable=True))
        else:
            batch_op.drop_column("options")


def upgrade() -> None:
    _jobs([*JOB_KINDS, "import_decidim_results", "import_indicators"], add_options=True)


def downgrade() -> None:
    op.execute("DELETE FROM jobs WHERE kind IN ('import_decidim_results', 'import_indicators')")
    _jobs(JOB_KINDS, add_options=False)
