"""The live polls' per-process cache: bounded, expiring, one computation per key."""

from __future__ import annotations

import threading
import time

import pytest

from station_portal.auth.roles import Role
from station_portal.auth.scope import Scope
from station_portal.callbacks._live import LiveCache, scope_key


def test_a_key_is_computed_once_and_then_served():
    cache = LiveCache()
    calls = []
    assert cache.get("a", lambda: calls.append(1) or "A") == "A"
    assert cache.get("a", lambda: calls.append(1) or "other") == "A"
    assert calls == [1] and (cache.misses, cache.hits) == (1, 1)


def test_the_oldest_entry_goes_when_the_cache_is_full():
    cache = LiveCache(max_entries=2)
    cache.get("a", lambda: 1)
    cache.get("b", lambda: 2)
    cache.get("a", lambda: 0)  # used: b is now the oldest
    cache.get("c", lambda: 3)
    assert len(cache) == 2
    assert cache.get("b", lambda: "again") == "again"


def test_an_entry_expires():
    cache = LiveCache(max_age_s=0.05)
    cache.get("a", lambda: 1)
    time.sleep(0.1)
    assert cache.get("a", lambda: 2) == 2


def test_threads_asking_at_once_wait_for_one_computation():
    cache = LiveCache()
    started = threading.Event()
    calls = []

    def slow():
        calls.append(1)
        started.set()
        time.sleep(0.2)
        return "done"

    answers = []
    threads = [threading.Thread(target=lambda: answers.append(cache.get("k", slow)))
               for _i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == ["done"] * 4 and calls == [1]


def test_a_failed_computation_is_not_kept():
    cache = LiveCache()

    def broken():
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        cache.get("k", broken)
    assert cache.get("k", lambda: "fine") == "fine"


def test_scopes_that_see_different_things_have_different_keys():
    station = Scope(1, Role.STATION_HEAD, frozenset({3, 4}), frozenset({9}), (3,))
    same_station = Scope(2, Role.STATION_HEAD, frozenset({3, 4}), frozenset({9}), (3,))
    other_station = Scope(3, Role.STATION_HEAD, frozenset({5}), frozenset(), (5,))
    grid_manager = Scope(4, Role.GRID_MANAGER, frozenset({3, 4}), frozenset({9}), (3,))
    account_a = Scope(5, Role.ACCOUNT_MANAGER, frozenset({3}), frozenset({9}), (3,))
    account_b = Scope(6, Role.ACCOUNT_MANAGER, frozenset({3}), frozenset({9}), (3,))
    assert scope_key(station) == scope_key(same_station)  # the same board: shared
    keys = {scope_key(s) for s in (station, other_station, grid_manager, account_a, account_b)}
    assert len(keys) == 5  # own cases of an account manager: never shared
