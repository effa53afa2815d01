from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from service.core.db import Base, utcnow, vocabulary
from service.core.vocabularies import JobKind, JobState


class Job(Base):
    """One piece of long work: what it is, who asked for it, and how far it has got."""

    __tablename__ = "jobs"
    __table_args__ = (
        # The claim looks for queued jobs and for running ones whose lease has expired.
        Index("ix_jobs_state_lease_expires_at", "state", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind] = mapped_column(vocabulary(JobKind, "kind"))
    state: Mapped[JobState] = mapped_column(vocabulary(JobState, "state"), default=JobState.QUEUED)
    dry_run: Mapped[bool] = mapped_column(default=False)
    # What the import was asked besides its file (the agreement a Decidim file goes into):
    # keyword arguments of its run.
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # The uploaded file, kept in the database so that a worker on any host can run it;
    # dropped once the job has finished. Deferred: reading a job never loads it.
    payload: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    rows_total: Mapped[int | None] = mapped_column(default=None)
    rows_done: Mapped[int] = mapped_column(default=0)
    # The report: counts, or the per-row errors that refused the file.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # Why the job failed, for people; null unless it did.
    error: Mapped[str | None] = mapped_column(String(2000), default=None)
    # Who submitted it, and in which request: the change events it writes name them, as a
    # synchronous import's did.
    actor: Mapped[str | None] = mapped_column(String(200))
    actor_key_id: Mapped[int | None] = mapped_column(index=True)
    request_id: Mapped[str | None] = mapped_column(String(100))
    service_request_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # Claims so far: the claim that is the job's latest is the only one that may finish it.
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def row_errors(self) -> list[dict[str, Any]]:
        return list((self.result or {}).get("row_errors", []))
