"""A small per-process cache for the live polls: one computation per scope and change.

A thousand open boards of seventy stations ask for the same seventy answers every three
seconds. The polls compare a cheap fingerprint of what the board shows first; when it
changed, the board's data is computed once per key and the other boards with the same key
take it from here. Keys hold everything the answer depends on — the caller's scope (role,
units, clients, crew), the filters, the language and the data's fingerprint — so two
scopes never share an entry, and a change (a new fingerprint) is a new key: nothing is
served after the data it came from changed. Entries also expire after ``MAX_AGE_S``.

Per process on purpose: no shared server to run, and with H hosts x W workers a change
costs at most H x W computations per scope instead of one per open board.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

MAX_ENTRIES = 64  # board results can be a few hundred kB (the operations map)
MAX_AGE_S = 120.0


class LiveCache:
    """Least-recently-used, bounded, thread-safe; a key is computed by one thread at a time
    (the others wait for it rather than computing it again)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_age_s: float = MAX_AGE_S) -> None:
        self.max_entries = max_entries
        self.max_age_s = max_age_s
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _fresh(self, key: Hashable) -> tuple[bool, Any]:
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        if time.monotonic() - entry[0] > self.max_age_s:
            del self._entries[key]
            return False, None
        self._entries.move_to_end(key)
        return True, entry[1]

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            found, value = self._fresh(key)
            if found:
                self.hits += 1
                return value
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                found, value = self._fresh(key)  # computed meanwhile by another thread
                if found:
                    self.hits += 1
                    return value
            try:
                value = compute()
            except BaseException:
                with self._lock:
                    self._computing.pop(key, None)
                raise
            with self._lock:
                self.misses += 1
                self._entries[key] = (time.monotonic(), value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
                self._computing.pop(key, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


def scope_key(scope: Any) -> tuple[Any, ...]:
    """What of a scope decides what its boards show (everything but who the user is, except
    where the scope itself names the user: an account manager's own cases)."""
    from station_portal.auth.roles import Role

    return (scope.role, scope.unit_ids, scope.client_ids, scope.crew_id,
            scope.user_id if scope.role is Role.ACCOUNT_MANAGER else None)
