"""Login brute force is slowed per user and address and per address, counted before
the password is checked, audited, with bounded memory (issue 10, item 5)."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from sdwan.auth.throttle import LoginThrottle
from sdwan.errors import NotAuthenticated, TooManyRequests
from tests.support.identity import PASSWORD, add_user


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _fail(throttle: LoginThrottle, user: str, addr: str, times: int) -> None:
    for _ in range(times):
        throttle(user, addr).failed()


def test_a_user_is_locked_only_where_the_guesses_come_from() -> None:
    """Guessing alice's password from one address locks alice there, not elsewhere:
    nobody can lock an admin out from an address of their own."""
    clock = Clock()
    throttle = LoginThrottle(free=3, address_free=100, base_delay=2, clock=clock)
    for _ in range(4):
        throttle("alice", "192.0.2.66").failed()
    with pytest.raises(TooManyRequests) as raised:
        throttle("alice", "192.0.2.66")
    assert raised.value.retry_after == 2
    throttle("alice", "198.51.100.1").succeeded()  # alice from her own address
    throttle("bob", "192.0.2.66").failed()  # others from that address: not yet
    clock.now += 2.01
    throttle("alice", "192.0.2.66").failed()  # 5th: the delay doubles
    with pytest.raises(TooManyRequests) as raised:
        throttle("alice", "192.0.2.66")
    assert raised.value.retry_after == 4


def test_lockout_per_address_across_users() -> None:
    throttle = LoginThrottle(free=3, address_free=3, clock=Clock())
    for i in range(4):  # password spraying: a new user every time
        throttle(f"user{i}", "192.0.2.1").failed()
    with pytest.raises(TooManyRequests):
        throttle("someone-else", "192.0.2.1")
    throttle("someone-else", "192.0.2.2").succeeded()


def test_attempts_count_before_their_password_is_checked() -> None:
    """Guesses in flight at once count like guesses one after the other."""
    throttle = LoginThrottle(free=3, clock=Clock())
    in_flight = [throttle("alice", "192.0.2.1") for _ in range(4)]  # none has failed yet
    assert [a.locked for a in in_flight] == [False, False, False, True]
    with pytest.raises(TooManyRequests):
        throttle("alice", "192.0.2.1")


def test_parallel_wrong_passwords_are_throttled(client: TestClient) -> None:
    add_user(client, "alice", "blue", "member")
    identity = client.app.state.services.identity  # type: ignore[attr-defined]
    start = threading.Barrier(12)
    outcomes: list[str] = []

    def guess() -> None:
        start.wait()
        try:
            identity.login("alice", "wrong password", None, source="192.0.2.7")
        except NotAuthenticated:
            outcomes.append("401")
        except TooManyRequests:
            outcomes.append("429")

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["401"] * 6 + ["429"] * 6


def test_delay_is_capped_and_window_forgets() -> None:
    clock = Clock()
    throttle = LoginThrottle(free=1, base_delay=1, max_delay=8, window=100, clock=clock)
    for _ in range(10):
        clock.now += 9
        throttle("alice", "a").failed()
    with pytest.raises(TooManyRequests) as raised:
        throttle("alice", "a")
    assert raised.value.retry_after == 8
    clock.now += 200  # past the window: counting starts over
    throttle("alice", "a").failed()
    throttle("alice", "a")


def test_success_resets_the_user_at_that_address() -> None:
    throttle = LoginThrottle(free=2, clock=Clock())
    _fail(throttle, "alice", "a", 2)
    throttle("alice", "a").succeeded()
    _fail(throttle, "alice", "a", 2)
    throttle("alice", "a")  # not locked: the success reset the count


def test_memory_is_bounded() -> None:
    throttle = LoginThrottle(max_keys=100, clock=Clock())
    for i in range(5000):
        throttle(f"user{i}", f"10.{i // 256}.{i % 256}.1").failed()
    assert len(throttle) <= 100


def test_api_answers_429_with_retry_after(client: TestClient) -> None:
    add_user(client, "alice", "blue", "member")
    open_headers = {"Authorization": ""}
    wrong = {"username": "alice", "password": "not the password"}
    answers = [
        client.post("/v1/auth/login", json=wrong, headers=open_headers).status_code
        for _ in range(6)
    ]
    assert answers == [401] * 6
    locked = client.post(
        "/v1/auth/login",
        json={"username": "alice", "password": PASSWORD},
        headers=open_headers,
    )
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) >= 1
    assert locked.json()["error"]["code"] == "too_many_requests"


def test_failed_logins_and_lockouts_are_audited(client: TestClient) -> None:
    add_user(client, "alice", "blue", "member")
    wrong = {"username": "alice", "password": "not the password"}
    for _ in range(6):
        client.post("/v1/auth/login", json=wrong, headers={"Authorization": ""})
    entries = client.get("/v1/audit", params={"resource_type": "user", "limit": 100}).json()
    actions = [e["action"] for e in entries["items"] if e["actor"] == "alice"]
    assert actions.count("login_failed") == 6
    assert actions.count("lockout") == 1
    failed = next(e for e in entries["items"] if e["action"] == "login_failed")
    assert failed["actor_role"] == "anonymous" and failed["source"] == "testclient"
    assert "not the password" not in str(entries)


def test_a_lock_runs_from_the_failure_not_from_the_count() -> None:
    """Checking a password takes time: a lock started when the attempt was counted must
    still hold when the caller learns the attempt failed."""
    now = [0.0]
    throttle = LoginThrottle(free=1, address_free=100, base_delay=1.0, clock=lambda: now[0])
    throttle("alice", "192.0.2.7").failed()
    attempt = throttle("alice", "192.0.2.7")  # the second: locks for 1 s from now
    now[0] += 3.0  # its password check was slow
    attempt.failed()
    with pytest.raises(TooManyRequests):
        throttle("alice", "192.0.2.7")
