"""Injected API faults: the next N requests to a path answer with an error status.

Why: a real API server answers 503 for a moment (an aggregated API restarting, the server
itself starting up), and clients must tell that from "not served". Tests arm a fault with
:meth:`Sandbox.fail <acp_install_sandbox.Sandbox.fail>` and read back how many requests it
served, instead of patching the client.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence

import attrs

__all__ = ["ACTIONS", "Chaos", "Fault", "Faults"]

#: What a chaos fault does to one request: answer an error status (503, 500, 429 with
#: ``Retry-After``), reset the connection without an answer, answer late, or drop a watch.
ACTIONS = ("503", "500", "429", "reset", "slow", "drop-watch")


@attrs.define
class Fault:
    """Answer ``status`` to the next ``times`` ``method`` requests whose path is ``path``
    (or starts with it, when it ends with ``*``)."""

    path: str
    status: int = 503
    times: int = 1
    method: str = "GET"
    served: int = 0
    #: ``status`` (answer ``status``), ``reset``, ``slow`` (answer after ``delay`` seconds),
    #: ``drop-watch`` (a watch stream ends at once; other requests are served)
    action: str = "status"
    delay: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        if method != self.method or self.served >= self.times:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path.rstrip("/")


@attrs.define
class Chaos:
    """Seeded random faults on a share of all requests: the n-th request meets the n-th draw of
    ``random.Random(seed)``, so a seed replays the same sequence of faults.

    ``rate`` is the share of requests that meet a fault (1.0: every one, a persistent fault);
    ``actions`` the faults drawn from (:data:`ACTIONS`); ``limit`` stops injecting after that
    many faults (a transient episode); paths starting with one of ``spare`` are never touched.
    """

    seed: int = 0
    rate: float = 0.1
    actions: Sequence[str] = ACTIONS
    limit: int | None = None
    delay: float = 0.2
    spare: Sequence[str] = ()
    injected: dict[str, int] = attrs.field(factory=dict)
    _rng: random.Random = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self, method: str, path: str) -> Fault | None:
        """The fault of the next request (call under the owner's lock)."""
        roll, pick = self._rng.random(), self._rng.choice(list(self.actions))
        if any(path.startswith(p) for p in self.spare) or roll >= self.rate:
            return None
        if self.limit is not None and sum(self.injected.values()) >= self.limit:
            return None
        self.injected[pick] = self.injected.get(pick, 0) + 1
        if pick.isdigit():
            return Fault(path, int(pick), 1, method, 1)
        return Fault(path, 0, 1, method, 1, action=pick, delay=self.delay)


class Faults:
    """The armed faults of one API server (thread-safe: requests run in many threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.chaos: Chaos | None = None

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The fault this request meets (counted as served), or None."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.served += 1
                    return fault
            if self.chaos is not None:
                return self.chaos.draw(method, path)
        return None
