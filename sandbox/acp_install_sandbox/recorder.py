"""What the sandbox received, kept for tests and demos to inspect.

Why bounded deques: a sandbox left running for hours under a polling engine must not grow
without limit. Secret payloads are redacted at record time, so a recording can be printed or
attached to a bug report safely.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any, cast

import attrs

from .data import clone

__all__ = ["AppliedObject", "InstallerRequest", "RecordedRequest", "Recorder", "redact"]

_REDACTED = "<redacted>"


def redact(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy with Secret ``data``/``stringData`` values replaced."""
    return clone(_redacted(obj))


def _redacted(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` itself, or for a Secret a shallow copy with the values replaced."""
    if obj.get("kind") != "Secret":
        return obj
    out = dict(obj)
    for field in ("data", "stringData"):
        if isinstance(out.get(field), dict):
            out[field] = dict.fromkeys(out[field], _REDACTED)
    return out


@attrs.frozen
class RecordedRequest:
    """One HTTP request to the API server (no bodies: see :class:`AppliedObject`)."""

    time: float
    method: str
    path: str
    query: str
    content_type: str
    user_agent: str
    status: int


@attrs.frozen
class AppliedObject:
    """One successful write: verb (create/update/patch/apply/delete), what, and the result."""

    time: float
    verb: str
    api_version: str
    kind: str
    namespace: str
    name: str
    manager: str
    subresource: str
    #: the redacted object, pickled: every write is recorded, few are read back (a copy at
    #: write time and one per read is half the cost of copying both ways)
    blob: bytes = attrs.field(eq=False, repr=False)

    @property
    def obj(self) -> dict[str, Any]:
        """The object as written (a Secret's values redacted); a new copy on every read."""
        return cast(dict[str, Any], pickle.loads(self.blob))


@attrs.frozen
class InstallerRequest:
    """One request to the simulated cpaas-installer."""

    time: float
    method: str
    path: str
    status: int
    body: Any = attrs.field(eq=False, repr=False)


class Recorder:
    """Thread-safe, bounded recordings of requests, writes and installer calls."""

    def __init__(self, limit: int = 5000) -> None:
        self._lock = threading.Lock()
        self._requests: deque[RecordedRequest] = deque(maxlen=limit)
        self._writes: deque[AppliedObject] = deque(maxlen=limit)
        self._installer: deque[InstallerRequest] = deque(maxlen=limit)
        self._served = {"api": 0, "installer": 0}  # totals: the deques forget, these do not

    def request(self, method: str, path: str, query: str, content_type: str, user_agent: str, status: int) -> None:
        with self._lock:
            self._requests.append(RecordedRequest(time.time(), method, path, query, content_type, user_agent, status))

    def received(self) -> None:
        """An API request arrived: counted at once (a watch is recorded only when it ends)."""
        with self._lock:
            self._served["api"] += 1

    def write(self, verb: str, obj: dict[str, Any], *, manager: str = "", subresource: str = "") -> None:
        meta = obj.get("metadata") or {}
        rec = AppliedObject(
            time.time(),
            verb,
            str(obj.get("apiVersion", "")),
            str(obj.get("kind", "")),
            str(meta.get("namespace", "")),
            str(meta.get("name", "")),
            manager,
            subresource,
            pickle.dumps(_redacted(obj), pickle.HIGHEST_PROTOCOL),
        )
        with self._lock:
            self._writes.append(rec)

    def installer(self, method: str, path: str, status: int, body: Any) -> None:
        with self._lock:
            self._installer.append(InstallerRequest(time.time(), method, path, status, clone(body)))
            self._served["installer"] += 1

    @property
    def api_requests_served(self) -> int:
        """Every request the API server answered since start (a watch counts once)."""
        with self._lock:
            return self._served["api"]

    @property
    def installer_requests_served(self) -> int:
        """Every request the simulated cpaas-installer answered since start."""
        with self._lock:
            return self._served["installer"]

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def writes(self) -> list[AppliedObject]:
        with self._lock:
            return list(self._writes)

    @property
    def installer_requests(self) -> list[InstallerRequest]:
        with self._lock:
            return list(self._installer)

    @property
    def installer_payloads(self) -> list[Any]:
        """Bodies of accepted ``POST`` requests to the installer config endpoint."""
        return [r.body for r in self.installer_requests if r.method == "POST" and r.status < 300]

    def writes_of(self, kind: str, name: str | None = None) -> Iterator[AppliedObject]:
        return (w for w in self.writes if w.kind == kind and (name is None or w.name == name))
