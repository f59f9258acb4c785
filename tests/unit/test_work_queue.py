"""The reconciler's work queue: coalescing, one pass per key at a time, timers, and
the retries' per-key backoff."""

from __future__ import annotations

import threading

from sdwan.reconcile.queue import Request, WorkQueue
from tests.support.waits import wait_for


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_adds_of_one_key_coalesce_into_one_request() -> None:
    queue = WorkQueue()
    queue.add("r1", Request.of({"198.18.0.1"}))
    queue.add("r2", Request.everything())
    queue.add("r1", Request.of({"198.18.0.2"}))
    assert queue.depth() == 2
    assert queue.get(timeout=0) == ("r1", Request.of({"198.18.0.1", "198.18.0.2"}))
    assert queue.get(timeout=0) == ("r2", Request.everything())
    assert queue.get(timeout=0) is None


def test_a_full_request_absorbs_targeted_ones_and_probes_yield_to_passes() -> None:
    many = Request.of({f"198.18.0.{i}" for i in range(1, 201)})
    merged = many.merge(Request.of({"198.18.1.1"}))
    assert not merged.full and len(merged.addresses) == 201  # a bulk stays targeted
    assert Request.of({"198.18.1.1"}).merge(Request.everything()) == Request.everything()
    assert Request(probe=True).merge(Request(probe=True)).probe
    merged = Request(probe=True).merge(Request.of({"198.18.1.1"}))
    assert not merged.probe and merged.scope == {"198.18.1.1"}
    assert Request(counters=True).merge(Request(counters=True)).counters_only
    assert not Request(counters=True).merge(Request.of({"198.18.1.1"})).counters_only


def test_a_key_in_process_is_not_handed_out_again_until_done() -> None:
    queue = WorkQueue()
    queue.add("r1", Request.of({"198.18.0.1"}))
    key, _ = queue.get(timeout=0) or ("", Request())
    assert key == "r1"
    queue.add("r1", Request.of({"198.18.0.2"}))  # changed while its pass runs
    assert queue.get(timeout=0) is None  # not twice at once
    queue.done("r1")
    assert queue.get(timeout=0) == ("r1", Request.of({"198.18.0.2"}))


def test_timers_fire_when_due_and_a_slot_keeps_only_the_latest() -> None:
    clock = FakeClock()
    queue = WorkQueue(clock=clock)
    queue.add_after("r1", Request.everything(), 30, slot="resync")
    queue.add_after("r1", Request.everything(), 60, slot="resync")  # replaces the first
    queue.add_after("r2", Request.of({"198.18.0.9"}), 5)
    assert queue.get(timeout=0) is None
    clock.now += 5
    assert queue.get(timeout=0) == ("r2", Request.of({"198.18.0.9"}))
    clock.now += 30  # the replaced timer's time: nothing
    assert queue.get(timeout=0) is None
    clock.now += 30
    assert queue.get(timeout=0) == ("r1", Request.everything())


def test_cancel_and_drop_remove_what_waits_for_a_key() -> None:
    clock = FakeClock()
    queue = WorkQueue(clock=clock)
    queue.add_after("r1", Request.everything(), 1, slot="retry")
    queue.cancel("r1", "retry")
    queue.add("r2", Request.everything())
    queue.add_after("r2", Request.everything(), 1)
    queue.drop("r2")
    clock.now += 2
    assert queue.get(timeout=0) is None
    assert queue.scheduled() == 0  # the cancelled timer was popped and skipped


def test_get_blocks_until_an_add_or_shutdown() -> None:
    queue = WorkQueue()
    got: list[object] = []

    def consume() -> None:
        got.append(queue.get())
        got.append(queue.get())

    thread = threading.Thread(target=consume)
    thread.start()
    queue.add("r1", Request.everything())
    wait_for(lambda: got, what="the first key taken")
    queue.shutdown()  # wakes the second get()
    thread.join(5)
    assert not thread.is_alive()
    assert got == [("r1", Request.everything()), None]


def _retry_delays(queue: WorkQueue, key: str, count: int) -> list[float]:
    return [queue.add_rate_limited(key, Request.everything()) for _ in range(count)]


def test_retries_back_off_per_key_doubling_to_the_maximum() -> None:
    queue = WorkQueue(FakeClock(), backoff_initial=0.5, backoff_max=30.0)
    assert _retry_delays(queue, "r1", 9) == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    assert _retry_delays(queue, "r2", 2) == [0.5, 1]  # another key counts its own
    assert queue.next_backoff("r1") == 30 and queue.next_backoff("r2") == 2
    queue.forget("r1")  # its pass succeeded
    assert _retry_delays(queue, "r1", 2) == [0.5, 1]
    queue.drop("r2")  # the router is gone
    assert queue.next_backoff("r2") == 0.5


def test_a_retry_fires_after_its_backoff_and_only_the_latest_one() -> None:
    clock = FakeClock()
    queue = WorkQueue(clock, backoff_initial=1.0, backoff_max=60.0)
    queue.add_rate_limited("r1", Request.everything())  # due in 1 s
    queue.add_rate_limited("r1", Request.everything())  # replaces it: due in 2 s
    clock.now += 1
    assert queue.get(timeout=0) is None
    clock.now += 1
    assert queue.get(timeout=0) == ("r1", Request.everything())
    assert queue.scheduled() == 0


def test_forget_keeps_a_waiting_retry_and_add_now_drops_it() -> None:
    clock = FakeClock()
    queue = WorkQueue(clock, backoff_initial=1.0, backoff_max=60.0)
    _retry_delays(queue, "r1", 3)  # the last retry is due in 4 s
    queue.forget("r1")
    clock.now += 4
    assert queue.get(timeout=0) == ("r1", Request.everything())  # still comes
    queue.done("r1")
    _retry_delays(queue, "r1", 3)
    queue.add_now("r1", Request.of({"198.18.0.1"}))  # a user change: at once
    assert queue.get(timeout=0) == ("r1", Request.of({"198.18.0.1"}))
    queue.done("r1")
    clock.now += 60
    assert queue.get(timeout=0) is None  # the retry it waited for is gone
    assert queue.next_backoff("r1") == 1.0  # and its failures forgotten
