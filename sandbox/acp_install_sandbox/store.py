"""The object store: one lock, one resourceVersion counter, one bounded event history.

Why this shape: every write bumps a single counter and appends one event to a ring buffer, so a
watch is just "events after resourceVersion N", a too-old N is detectable (410 Gone), and memory
stays bounded however long watches run. Stored objects are never mutated in place (updates
replace the dict), so events can share them with watchers without copying.

Deletion follows Kubernetes: objects with finalizers get ``deletionTimestamp`` and disappear when
their finalizers are cleared; deleting a Namespace removes what it contains; objects whose owner
is deleted are garbage-collected (background propagation).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from .data import clone
from .errors import ApiError
from .kinds import ResourceType

#: What the API server accepts as an object name (apimachinery's validation): a DNS-1123
#: subdomain for most kinds, a DNS-1123 label for namespaces, a path segment for RBAC objects
#: (``system:...``). A name is part of every URL of the object: ``../../x`` must never be one.
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_PATH_SEGMENT_GROUPS = frozenset({"rbac.authorization.k8s.io"})


def name_problem(rt: ResourceType, name: Any) -> str | None:
    """Why ``name`` is not a valid name of a ``rt`` object (the API server's words), or None."""
    if not isinstance(name, str):
        return "Invalid value: must be a string"
    shown = name if len(name) <= 64 else name[:61] + "..."
    if rt.group in _PATH_SEGMENT_GROUPS:
        if name in (".", "..") or "/" in name or "%" in name:
            return f'Invalid value: "{shown}": may not be \'.\' or \'..\' and may not contain \'/\' or \'%\''
        return None
    if rt.key == ("", "namespaces"):
        if len(name) > 63 or not _LABEL.match(name):
            return (f'Invalid value: "{shown}": a lowercase RFC 1123 label must consist of lower case '
                    "alphanumeric characters or '-', and must start and end with an alphanumeric character "
                    "(at most 63 characters)")
        return None
    if len(name) > 253:
        return f'Invalid value: "{shown}": must be no more than 253 characters'
    if not _SUBDOMAIN.match(name):
        return (f'Invalid value: "{shown}": a lowercase RFC 1123 subdomain must consist of lower case '
                "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character")
    return None

__all__ = ["Store", "WatchEvent", "now_ts"]

Obj = dict[str, Any]
Matcher = Callable[[Obj], bool]


def now_ts() -> str:
    """RFC 3339 UTC timestamp at second precision, as Kubernetes writes them."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@attrs.frozen
class WatchEvent:
    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    key: tuple[str, str]
    namespace: str
    obj: Obj = attrs.field(repr=False, eq=False)


def _untimed(obj: Obj) -> Obj:
    """``obj`` without the times of its managedFields entries: a write that changes nothing
    else (the same apply again a second later) is no change, as on a real API server."""
    meta = obj.get("metadata") or {}
    entries = meta.get("managedFields")
    if not entries:
        return obj
    return {**obj, "metadata": {**meta, "managedFields": [{k: v for k, v in e.items() if k != "time"}
                                                          for e in entries]}}


def _body(obj: Obj) -> Obj:
    """Everything that counts as spec for generation purposes."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


class Store:
    """Thread-safe storage of every object the sandbox serves."""

    def __init__(self, history: int = 2000) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._rv = 1
        self._buckets: dict[tuple[str, str], dict[tuple[str, str], Obj]] = {}
        self._types: dict[tuple[str, str], ResourceType] = {}
        self._events: deque[WatchEvent] = deque(maxlen=history)
        self._closed = False
        self._listeners: list[Callable[[WatchEvent], None]] = []

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @property
    def resource_version(self) -> int:
        with self._lock:
            return self._rv

    def add_listener(self, fn: Callable[[WatchEvent], None]) -> None:
        """``fn`` is called under the store lock after every change (keep it short)."""
        self._listeners.append(fn)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._changed.notify_all()

    def _emit(self, rt: ResourceType, etype: str, obj: Obj) -> None:
        ev = WatchEvent(self._rv, etype, rt.key, (obj.get("metadata") or {}).get("namespace", ""), obj)
        self._events.append(ev)
        for fn in self._listeners:
            fn(ev)
        self._changed.notify_all()

    def _bucket(self, rt: ResourceType) -> dict[tuple[str, str], Obj]:
        self._types.setdefault(rt.key, rt)
        return self._buckets.setdefault(rt.key, {})

    @staticmethod
    def _id(rt: ResourceType, namespace: str | None, name: str) -> tuple[str, str]:
        return ((namespace or "") if rt.namespaced else "", name)

    # -- reads ------------------------------------------------------------------------------

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        with self._lock:
            obj = self._bucket(rt).get(self._id(rt, namespace, name))
            if obj is None:
                raise ApiError.not_found(rt.plural, name, rt.group)
            return clone(obj)

    def status_is(self, rt: ResourceType, namespace: str | None, name: str, status: Any) -> bool | None:
        """Whether the stored object's ``status`` equals ``status`` (None: no such object),
        compared in place: no copy of the object is made."""
        with self._lock:
            obj = self._bucket(rt).get(self._id(rt, namespace, name))
            return None if obj is None else obj.get("status") == status

    def try_get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj | None:
        try:
            return self.get(rt, namespace, name)
        except ApiError:
            return None

    def list(
        self, rt: ResourceType, namespace: str | None = None, match: Matcher | None = None
    ) -> tuple[list[Obj], int]:
        with self._lock:
            items = [
                clone(o)
                for (ns, _), o in sorted(self._bucket(rt).items())
                if (not namespace or ns == namespace) and (match is None or match(o))
            ]
            return items, self._rv

    # -- writes -----------------------------------------------------------------------------

    def create(self, rt: ResourceType, obj: Obj, *, adopt: bool = False) -> Obj:
        """Store a new object; returns a copy of what was stored. ``adopt``: the caller hands
        ``obj`` over (a copy of its own that it never touches again), so it is stored as is."""
        with self._lock:
            meta = obj.setdefault("metadata", {})
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
            name = meta.get("name")
            if not name:
                raise ApiError(422, "Invalid", "metadata.name: Required value: name or generateName is required")
            problem = name_problem(rt, name)
            if problem:
                raise ApiError.invalid(rt.kind, rt.group, str(name)[:253], [("metadata.name", "FieldValueInvalid",
                                                                              problem)])
            ns = meta.get("namespace") if rt.namespaced else None
            if rt.namespaced and not ns:
                raise ApiError.bad_request("the namespace of the object is required")
            if rt.namespaced and ("", ns) not in self._buckets.get(("", "namespaces"), {}):
                raise ApiError.not_found("namespaces", str(ns))
            bucket = self._bucket(rt)
            oid = self._id(rt, ns, name)
            if oid in bucket:
                raise ApiError.already_exists(rt.plural, name, rt.group)
            if not rt.namespaced:
                meta.pop("namespace", None)
            self._rv += 1
            meta.update(uid=str(uuid.uuid4()), resourceVersion=str(self._rv), creationTimestamp=now_ts(), generation=1)
            for server_owned in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
                meta.pop(server_owned, None)
            stored = obj if adopt else clone(obj)
            bucket[oid] = stored
            self._emit(rt, "ADDED", stored)
            return clone(stored)

    def update(self, rt: ResourceType, obj: Obj, *, subresource: str | None = None, check_rv: bool = True,
               adopt: bool = False) -> Obj:
        """Replace an object (PUT semantics); ``adopt`` as for :meth:`create`.

        The main resource ignores ``status`` changes when the kind has a status subresource;
        the ``status`` subresource changes nothing but ``status``. ``generation`` is bumped
        only when the spec (anything but metadata/status) changes. A write that changes
        nothing does not bump ``resourceVersion``, as on a real API server.
        """
        with self._lock:
            meta = obj.get("metadata") or {}
            name = meta.get("name", "")
            ns = meta.get("namespace") if rt.namespaced else None
            bucket = self._bucket(rt)
            oid = self._id(rt, ns, name)
            old = bucket.get(oid)
            if old is None:
                raise ApiError.not_found(rt.plural, name, rt.group)
            old_meta = old["metadata"]
            sent_rv = meta.get("resourceVersion")
            if check_rv and sent_rv and sent_rv != old_meta["resourceVersion"]:
                raise ApiError.conflict(rt.plural, name, rt.group)
            if subresource == "status":
                new = clone(old)
                if "status" in obj:
                    new["status"] = clone(obj["status"])
                else:
                    new.pop("status", None)
            else:
                new = obj if adopt else clone(obj)
                if rt.status_subresource:
                    if "status" in old:
                        new["status"] = clone(old["status"])
                    else:
                        new.pop("status", None)
                new_meta = new.setdefault("metadata", {})
                for key in (
                    "uid",
                    "creationTimestamp",
                    "deletionTimestamp",
                    "deletionGracePeriodSeconds",
                    "generation",
                ):
                    if key in old_meta:
                        new_meta[key] = old_meta[key]
                    else:
                        new_meta.pop(key, None)
                if not rt.namespaced:
                    new_meta.pop("namespace", None)
                if _body(new) != _body(old):
                    new_meta["generation"] = int(old_meta.get("generation", 1)) + 1
            new["metadata"]["resourceVersion"] = old_meta["resourceVersion"]
            if new == old or _untimed(new) == _untimed(old):
                return clone(old)
            if old_meta.get("deletionTimestamp") and not new["metadata"].get("finalizers"):
                self._remove(rt, oid, new)
                return clone(new)
            self._rv += 1
            new["metadata"]["resourceVersion"] = str(self._rv)
            bucket[oid] = new
            self._emit(rt, "MODIFIED", new)
            return clone(new)

    def delete(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        *,
        uid: str | None = None,
        resource_version: str | None = None,
    ) -> Obj:
        """Delete now, or mark for deletion when finalizers remain. Returns the object."""
        with self._lock:
            bucket = self._bucket(rt)
            oid = self._id(rt, namespace, name)
            old = bucket.get(oid)
            if old is None:
                raise ApiError.not_found(rt.plural, name, rt.group)
            meta = old["metadata"]
            if uid and uid != meta.get("uid"):
                raise ApiError.conflict(
                    rt.plural,
                    name,
                    rt.group,
                    "Precondition failed: UID in precondition does not match the UID in record",
                )
            if resource_version and resource_version != meta.get("resourceVersion"):
                raise ApiError.conflict(
                    rt.plural, name, rt.group, "Precondition failed: ResourceVersion in precondition does not match"
                )
            if meta.get("finalizers"):
                if meta.get("deletionTimestamp"):
                    return clone(old)
                new = clone(old)
                self._rv += 1
                new["metadata"].update(
                    deletionTimestamp=now_ts(), deletionGracePeriodSeconds=0, resourceVersion=str(self._rv)
                )
                bucket[oid] = new
                self._emit(rt, "MODIFIED", new)
                return clone(new)
            self._remove(rt, oid, old)
            return clone(old)

    def _remove(self, rt: ResourceType, oid: tuple[str, str], last: Obj) -> None:
        bucket = self._bucket(rt)
        bucket.pop(oid, None)
        self._rv += 1
        gone = clone(last)
        gone["metadata"]["resourceVersion"] = str(self._rv)
        self._emit(rt, "DELETED", gone)
        if rt.key == ("", "namespaces"):
            self._purge_namespace(oid[1])
        self._collect_dependents(last["metadata"].get("uid"))

    def _purge_namespace(self, namespace: str) -> None:
        for key, bucket in list(self._buckets.items()):
            rt = self._types[key]
            if not rt.namespaced:
                continue
            for oid in [o for o in bucket if o[0] == namespace]:
                if oid in bucket:
                    self._remove(rt, oid, bucket[oid])

    def _collect_dependents(self, uid: str | None) -> None:
        if not uid:
            return
        for key, bucket in list(self._buckets.items()):
            rt = self._types[key]
            for oid, obj in list(bucket.items()):
                owners = obj["metadata"].get("ownerReferences") or []
                if any(o.get("uid") == uid for o in owners) and oid in bucket:
                    self.delete(rt, oid[0] or None, oid[1])

    def drop_resource(self, rt: ResourceType) -> None:
        """Remove every object of a resource (its CRD was deleted)."""
        with self._lock:
            for oid, obj in list(self._bucket(rt).items()):
                self._remove(rt, oid, obj)

    # -- watch ------------------------------------------------------------------------------

    def watch(
        self,
        rt: ResourceType,
        namespace: str | None,
        since: int | None,
        match: Matcher | None,
        timeout: float,
        stop: threading.Event | None = None,
        initial: bool = False,
        caught_up: Callable[[], None] | None = None,
    ) -> Iterator[tuple[str, Obj]]:
        """Yield ``(type, object)`` from ``since`` (exclusive) until timeout/stop/close.

        ``since=None`` means "current state, then changes": the existing objects are sent as
        ADDED first. A ``since`` older than the history yields one ``("ERROR", Status 410)``.
        With ``initial`` the current state is sent first whatever ``since`` is. ``caught_up`` is
        called (outside the store's lock) whenever the watcher has been given every event so
        far: after each batch it consumed, and about every half second while nothing happens.
        """
        deadline = time.monotonic() + max(timeout, 0.0)

        def wanted(ev: WatchEvent) -> bool:
            if ev.key != rt.key or (namespace and ev.namespace != namespace):
                return False
            return match is None or match(ev.obj)

        with self._lock:
            if since is None or initial:
                cursor = self._rv
                items, _ = self.list(rt, namespace, match)
                first = [("ADDED", o) for o in items]
            else:
                cursor = since
                first = []
                if self._expired(cursor):
                    oldest = self._events[0].rv if self._events else self._rv
                    err = ApiError.gone(f"too old resource version: {since} ({oldest - 1})")
                    first = [("ERROR", err.status())]
                    cursor = -1
        yield from first
        if cursor < 0:
            return
        if initial:
            yield (
                "BOOKMARK",
                {"metadata": {"resourceVersion": str(cursor), "annotations": {"k8s.io/initial-events-end": "true"}}},
            )
        while True:
            with self._lock:
                if (
                    not self._closed
                    and not (stop and stop.is_set())
                    and self._rv <= cursor
                    and time.monotonic() < deadline
                ):
                    self._changed.wait(min(0.5, max(deadline - time.monotonic(), 0.01)))
                if self._closed or (stop and stop.is_set()) or (self._rv <= cursor and time.monotonic() >= deadline):
                    return
                if self._rv <= cursor:
                    batch = []
                elif self._expired(cursor):
                    err = ApiError.gone(f"too old resource version: {cursor}")
                    batch = [("ERROR", err.status())]
                    cursor = -1
                else:
                    batch = [(ev.type, ev.obj) for ev in self._events if ev.rv > cursor and wanted(ev)]
                    cursor = self._rv
            yield from batch
            if cursor < 0:
                return
            if caught_up is not None:
                caught_up()

    def _expired(self, cursor: int) -> bool:
        return bool(self._events) and cursor < self._events[0].rv - 1
