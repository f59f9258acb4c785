"""Login brute force is slowed per user and per address, with bounded memory."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sdwan.auth.throttle import LoginThrottle
from sdwan.errors import TooManyRequests
from tests.unit.identity_helpers import PASSWORD, add_user


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _fail(throttle: LoginThrottle, user: str, addr: str, times: int) -> None:
    for _ in range(times):
        throttle(user, addr).failed()


def test_lockout_per_user_across_addresses() -> None:
    clock = Clock()
    throttle = LoginThrottle(free=3, base_delay=2, clock=clock)
    for i in range(4):  # a distributed guesser: a new address every time
        throttle("alice", f"10.0.0.{i}").failed()
    with pytest.raises(TooManyRequests) as raised:
        throttle("alice", "10.9.9.9")
    assert raised.value.retry_after == 2
    throttle("bob", "10.9.9.9").succeeded()  # others are not affected
    clock.now += 2.01
    throttle("alice", "10.9.9.9").failed()  # 5th failure: the delay doubles
    with pytest.raises(TooManyRequests) as raised:
        throttle("alice", "10.9.9.8")
    assert raised.value.retry_after == 4


def test_lockout_per_address_across_users() -> None:
    throttle = LoginThrottle(free=3, clock=Clock())
    for i in range(4):  # password spraying: a new user every time
        throttle(f"user{i}", "192.0.2.1").failed()
    with pytest.raises(TooManyRequests):
        throttle("someone-else", "192.0.2.1")
    throttle("someone-else", "192.0.2.2").succeeded()


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


def test_success_resets_the_user() -> None:
    throttle = LoginThrottle(free=2, clock=Clock())
    _fail(throttle, "alice", "a", 2)
    throttle("alice", "b").succeeded()
    _fail(throttle, "alice", "c", 2)
    throttle("alice", "d")  # not locked: the success reset the count


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
