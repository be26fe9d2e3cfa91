"""Injected API faults: the next N requests to a path answer with an error status.

Why: a real API server answers 503 for a moment (an aggregated API restarting, the server
itself starting up), and clients must tell that from "not served". Tests arm a fault with
:meth:`Sandbox.fail <acp_install_sandbox.Sandbox.fail>` and read back how many requests it
served, instead of patching the client.
"""

from __future__ import annotations

import threading

import attrs

__all__ = ["Fault", "Faults"]


@attrs.define
class Fault:
    """Answer ``status`` to the next ``times`` ``method`` requests whose path is ``path``
    (or starts with it, when it ends with ``*``)."""

    path: str
    status: int = 503
    times: int = 1
    method: str = "GET"
    served: int = 0

    def matches(self, method: str, path: str) -> bool:
        if method != self.method or self.served >= self.times:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path.rstrip("/")


class Faults:
    """The armed faults of one API server (thread-safe: requests run in many threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

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
        return None
