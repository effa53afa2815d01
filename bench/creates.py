"""Milliseconds per create of an assessment, in process on the benchmark's database: the
first on each agreement (its monthly rows filled up to the create's month) and later ones in
a month already kept, each on a commitment not yet advanced (so its status moves, as in
`make bench`, where most creates assess a commitment no create has assessed before). Wall
time and the process's CPU time (which the database's work and the machine's other load
leave out), so that two checkouts can be compared in one sitting:

    PYTHONPATH=/path/to/checkout .venv/bin/python bench/creates.py

Nothing is left behind: the creates run in one transaction that is rolled back at the end,
each create's own commit a savepoint's release (so the figures leave out the commit's flush
to disk). A create dated after an agreement's monthly rows, left behind, would make every
later create there take another path (and `make bench`'s too).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.dataset import CITED_SOURCE_ID

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/policy_tracker_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--offset", type=int, default=300, help="the first agreement taken")
    parser.add_argument("--agreements", type=int, default=20)
    parser.add_argument(
        "--repeats", type=int, default=10, help="creates per agreement after the first"
    )
    parser.add_argument("--as-of", default="2026-10")
    args = parser.parse_args()

    from sqlalchemy import text

    from service import create_app
    from service.assessments.services import create_commitment_assessment
    from service.core.config import Settings
    from service.core.dates import PartialDate
    from service.core.vocabularies import AssessorKind, ImplementationStatus

    app = create_app(
        Settings(
            database_url=args.database_url,
            secret_key="inprocess-timing-secret-key-0123456789",
            rate_limit_per_minute=0,
            anonymous_rate_limit_per_minute=0,
        )
    )
    database = app.extensions["database"]
    # One transaction for the whole run, rolled back at the end: each session's commit
    # releases a savepoint of it.
    outer = database.engine.connect()
    rollback_at_the_end = outer.begin()
    database.session_factory.configure(bind=outer, join_transaction_mode="create_savepoint")
    with database.session_factory() as session:
        # The commitments below the top of the agreements taken (agreements by id), none
        # advanced yet: each create moves a status, as most of `make bench`'s creates do.
        agreement_ids = session.scalars(
            text("SELECT id FROM agreements WHERE deleted_at IS NULL ORDER BY id")
        ).all()[args.offset : args.offset + args.agreements]
        below_top: dict[int, list[int]] = {agreement_id: [] for agreement_id in agreement_ids}
        for agreement_id, commitment_id in session.execute(
            text(
                "SELECT agreement_id, id FROM commitments WHERE deleted_at IS NULL"
                " AND parent_id IS NOT NULL AND current_status <> 'advanced'"
                " AND agreement_id = ANY(:agreements) ORDER BY agreement_id, id"
            ),
            {"agreements": list(agreement_ids)},
        ):
            below_top[agreement_id].append(commitment_id)
    for agreement_id, commitment_ids in below_top.items():
        if len(commitment_ids) <= args.repeats:
            parser.error(
                f"agreement {agreement_id} has {len(commitment_ids)} commitments to assess:"
                " ask for fewer --repeats"
            )

    def create(commitment_id: int) -> tuple[float, float]:
        with app.app_context(), database.session_factory() as session:
            wall, cpu = time.perf_counter(), time.process_time()
            create_commitment_assessment(
                session,
                commitment_id=commitment_id,
                data={
                    "status": ImplementationStatus.ADVANCED,
                    "as_of": PartialDate.parse(args.as_of),
                    "assessor_kind": AssessorKind.INDEPENDENT,
                    "source_ids": [CITED_SOURCE_ID],
                },
            )
            session.commit()
            return time.perf_counter() - wall, time.process_time() - cpu

    first = [create(commitment_ids[0]) for commitment_ids in below_top.values()]
    later = [
        create(commitment_ids[turn])
        for turn in range(1, args.repeats + 1)
        for commitment_ids in below_top.values()
    ]
    rollback_at_the_end.rollback()
    outer.close()
    for label, times in (("first on an agreement", first), ("in a kept month", later)):
        print(
            f"{label}: wall p50 {statistics.median(t[0] for t in times) * 1000:.2f} ms,"
            f" CPU p50 {statistics.median(t[1] for t in times) * 1000:.2f} ms"
            f" ({len(times)} creates)"
        )


if __name__ == "__main__":
    main()
