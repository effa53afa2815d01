"""The long-running workers: deliver-webhooks, worker (background jobs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("deliver-webhooks")
@click.option(
    "--once", is_flag=True, help="Deliver what is due now, then stop (for cron or tests)."
)
@click.option(
    "--interval", default=1.0, show_default=True, help="Seconds to rest when nothing is due."
)
@click.option("--batch", default=20, show_default=True, help="Deliveries claimed at a time.")
@with_appcontext
def deliver_webhooks(once: bool, interval: float, batch: int) -> None:
    """Send webhook events from the change feed. Run as many workers as you like: each claims
    different deliveries. Stops cleanly on SIGTERM or Ctrl-C, after the batch in hand."""
    import signal
    import time

    from service.webhooks.services import deliver_due, fan_out

    database = current_app.extensions["database"]
    settings = current_app.extensions["webhook_settings"]
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    sent = 0
    try:
        while not stopping:
            with database.session_factory() as session:
                made = fan_out(session)
            with database.session_factory() as session:
                tried = deliver_due(session, settings, batch=batch)
            sent += tried
            if made == 0 and tried == 0:
                if once:
                    break
                time.sleep(interval)
    except KeyboardInterrupt:
        pass
    click.echo(f"delivery attempts: {sent}", err=True)


@click.command()
@click.option(
    "--once",
    is_flag=True,
    help="Run the jobs and send the webhook deliveries that are due now, then stop (for "
    "cron or tests).",
)
@click.option(
    "--interval", default=1.0, show_default=True, help="Seconds to rest when nothing is due."
)
@click.option(
    "--batch", default=20, show_default=True, help="Webhook deliveries claimed at a time."
)
@with_appcontext
def worker(once: bool, interval: float, batch: int) -> None:
    """Run background jobs (imports) and send webhook events from the change feed.

    Run as many workers as you like, on as many hosts as share the database: each claims
    different work. A job whose worker dies is taken up by another once its lease
    (JOB_LEASE_SECONDS) has expired; nothing is applied twice. Stops cleanly on SIGTERM or
    Ctrl-C, after the job or batch in hand; a second Ctrl-C stops at once, and the job in
    hand is rolled back for another worker to run.
    """
    import logging
    import os
    import signal
    import threading
    import time

    from sqlalchemy.exc import OperationalError

    from service.http.observability import configure_json_logging
    from service.jobs.running import run_pending, worker_name
    from service.webhooks.services import deliver_due, fan_out

    configure_json_logging(os.environ.get("LOG_LEVEL", "info"))
    log = logging.getLogger("policy_tracker.worker")
    database = current_app.extensions["database"]
    webhook_settings = current_app.extensions["webhook_settings"]
    job_settings = current_app.extensions["job_settings"]
    name = worker_name()
    stopping: list[int] = []

    def stop(signum: int, _frame: Any) -> None:
        if stopping and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stopping.append(signum)

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    log.info("worker %s started", name, extra={"fields": {"worker": name}})
    counts = {"jobs": 0, "delivery_attempts": 0}

    def deliver() -> int:
        with database.session_factory() as session:
            made = fan_out(session)
        with database.session_factory() as session:
            tried = deliver_due(session, webhook_settings, batch=batch)
        counts["delivery_attempts"] += tried
        return made + tried

    def run_one_job() -> int:
        ran = run_pending(database.session_factory, job_settings, worker=name, limit=1)
        counts["jobs"] += ran
        return ran

    def loop(step: Callable[[], int], what: str) -> None:
        """Do `step` until stopped, resting when it found nothing to do."""
        while not stopping:
            try:
                done = step()
            except OperationalError:
                # The database is down, or (SQLite) another writer holds it: rest, retry.
                if once:
                    raise
                log.warning(
                    "worker %s: the database is unavailable (%s)", name, what, exc_info=True
                )
                done = 0
            except Exception:
                # Anything else is a bug or a surprise: logged, and the loop goes on, so
                # that deliveries never stop for good in a worker that still runs jobs.
                if once:
                    raise
                log.exception("worker %s: %s failed", name, what)
                done = 0
            if done == 0:
                if once:
                    return
                time.sleep(interval)

    try:
        if once:
            loop(lambda: deliver() + run_one_job(), "jobs and deliveries")
        else:
            # Deliveries in a thread of their own, so that a long job does not hold them
            # up; jobs here, one at a time.
            deliveries = threading.Thread(
                target=loop, args=(deliver, "webhook deliveries"), daemon=True
            )
            deliveries.start()
            loop(run_one_job, "jobs")
            deliveries.join()
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    jobs, sent = counts["jobs"], counts["delivery_attempts"]
    log.info(
        "worker %s stopped: %s jobs run, %s delivery attempts",
        name,
        jobs,
        sent,
        extra={"fields": {"worker": name, "jobs": jobs, "delivery_attempts": sent}},
    )
    click.echo(f"jobs run: {jobs}, delivery attempts: {sent}", err=True)
