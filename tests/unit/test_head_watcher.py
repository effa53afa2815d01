"""The process's head watcher: one look at the feed's head for all waiting long polls, which
wakes them when it moves, lets them run out their wait when it does not, and stops looking
when nobody waits."""

from __future__ import annotations

import threading
import time

from service.changes import services
from service.changes.services import HeadWatcher


class Feed:
    """A head that the test moves, and how often it was read."""

    def __init__(self) -> None:
        self.head: int | None = 7
        self.reads = 0
        self.fail = False

    def read(self) -> int | None:
        self.reads += 1
        if self.fail:
            raise OSError("the database is restarting")
        return self.head


def _waiters(
    watcher: HeadWatcher, count: int, timeout: float
) -> tuple[list[float], list[threading.Thread]]:
    """`count` threads that each take their mark, then wait; each records how long it waited."""
    waited: list[float] = []
    marks = [watcher.seen() for _ in range(count)]

    def wait(seen: int) -> None:
        started = time.monotonic()
        watcher.wait(seen, timeout)
        waited.append(time.monotonic() - started)

    threads = [threading.Thread(target=wait, args=(mark,)) for mark in marks]
    for thread in threads:
        thread.start()
    return waited, threads


def test_waiters_wake_together_when_the_head_moves(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(services, "POLL_INTERVAL_SECONDS", 0.02)
    feed = Feed()
    watcher = HeadWatcher(feed.read)
    # The first look finds the head (it was unknown): that wakes whoever waits already.
    watcher.wait(watcher.seen(), 1)
    waited, threads = _waiters(watcher, 20, timeout=5)
    reads_before = feed.reads
    time.sleep(0.2)
    assert waited == []  # the head has not moved: all still wait
    reads_while_waiting = feed.reads - reads_before
    feed.head = 8
    for thread in threads:
        thread.join(2)
    assert len(waited) == 20 and max(waited) < 1
    # Twenty waiters, one reader: about one read an interval (10 in 0.2 s), not one an
    # interval for each waiter (200).
    assert reads_while_waiting <= 2 * 0.2 / 0.02


def test_a_wait_with_no_change_ends_at_its_timeout(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(services, "POLL_INTERVAL_SECONDS", 0.02)
    feed = Feed()
    watcher = HeadWatcher(feed.read)
    watcher.wait(watcher.seen(), 1)
    started = time.monotonic()
    watcher.wait(watcher.seen(), 0.3)
    assert 0.29 <= time.monotonic() - started < 1


def test_a_failing_look_counts_as_no_change_and_the_watcher_recovers(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(services, "POLL_INTERVAL_SECONDS", 0.02)
    feed = Feed()
    watcher = HeadWatcher(feed.read)
    watcher.wait(watcher.seen(), 1)
    feed.fail = True
    started = time.monotonic()
    watcher.wait(watcher.seen(), 0.2)
    assert time.monotonic() - started >= 0.19
    feed.fail = False
    feed.head = 9
    started = time.monotonic()
    watcher.wait(watcher.seen(), 2)
    assert time.monotonic() - started < 1


def test_nobody_waiting_means_nobody_looking(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(services, "POLL_INTERVAL_SECONDS", 0.02)
    feed = Feed()
    watcher = HeadWatcher(feed.read)
    watcher.wait(watcher.seen(), 0.1)
    time.sleep(0.1)
    reads = feed.reads
    time.sleep(0.2)
    assert feed.reads == reads
    assert not any(thread.name == "change-feed-head" for thread in threading.enumerate())
