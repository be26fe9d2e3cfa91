"""An informer-style cache: each kind listed once, then kept current by a watch.

Why: readiness gates judge a snapshot of many kinds at once. Re-listing every kind on a timer
costs a request per kind per poll, so the request count grew with wall time (a slow IaaS cost
hundreds). Here each (kind, namespace) is listed once and watched from then on in a
background thread; a gate is judged again only when something it reads changed, and the number
of requests no longer depends on how long anything takes.

A watch that ends (its server-side timeout) is re-opened from the last resourceVersion seen, with
no new list; only a watch the server no longer serves (410 Gone) lists again. The cache is
shared by everything the engine waits on through one :class:`~acp_install.clients.kube.KubeClient`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import urllib3
from kubernetes import watch
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import DynamicApiError

from ..errors import ClusterError
from .retry import Cancel, Deadline

if TYPE_CHECKING:
    from .kube import KubeClient

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Key = tuple[str, str, str | None]  # api_version, kind, namespace (None: every namespace)

#: Server-side timeout of one watch request: long, so re-opening it is rare (a real API
#: server caps it at its own limit and the watch is simply re-opened from where it was).
WATCH_SECONDS = 600


class _Informer:
    """One (kind, namespace): the objects by name, kept current by a watch thread."""

    def __init__(self, cache: ClusterCache, key: Key, res: Any, items: list[Obj], rv: str) -> None:
        self.cache = cache
        self.key = key
        self.res = res
        self.objects: dict[tuple[str, str], Obj] = {self._name(o): o for o in items}
        self.rv = rv
        self.error: str | None = None
        self._response: Any = None
        self.thread = threading.Thread(target=self._run, name=f"acp-install-watch-{key[1]}",
                                       daemon=True)

    @staticmethod
    def _name(obj: Obj) -> tuple[str, str]:
        meta = obj.get("metadata") or {}
        return str(meta.get("namespace") or ""), str(meta.get("name") or "")

    def _open(self, *args: Any, **kwargs: Any) -> Any:
        self._response = self.res.get(*args, **kwargs)
        if self.cache.stopped.is_set():
            self.shutdown()
        return self._response

    def shutdown(self) -> None:
        response = self._response
        if response is not None:
            try:
                response.shutdown()
            except Exception:  # already closed: nothing to wake
                log.debug("watch shutdown failed", exc_info=True)

    def _run(self) -> None:
        kube, stopped = self.cache.kube, self.cache.stopped
        backoff = 0.2
        while not stopped.is_set():
            try:
                if not self.rv:  # a watch the server no longer serves: list again
                    items, self.rv = kube._list(self.res, self.key[2], None, None,
                                                Deadline(60, cancel=self.cache.cancel))
                    self.cache.replace(self, items)
                for event in watch.Watch().stream(
                        self._open, namespace=self.key[2], resource_version=self.rv,
                        timeout_seconds=WATCH_SECONDS, serialize=False, allow_watch_bookmarks=True,
                        _request_timeout=(kube.request_timeout, WATCH_SECONDS + 30)):
                    if stopped.is_set():
                        return
                    etype = event.get("type")
                    raw = event.get("raw_object") or event.get("object") or {}
                    rv = (raw.get("metadata") or {}).get("resourceVersion")
                    if etype == "ERROR":
                        if raw.get("code") == 410:
                            self.rv = ""
                            break
                        raise ClusterError(f"watch {self.key[1]}: {raw.get('message', raw)}")
                    if rv:
                        self.rv = str(rv)
                    if etype != "BOOKMARK":
                        self.cache.apply(self, str(etype), raw)
                backoff = 0.2
            except (DynamicApiError, ApiException, urllib3.exceptions.HTTPError, OSError,
                    ValueError, ClusterError) as err:
                if stopped.is_set():
                    return
                if getattr(err, "status", None) == 410:
                    self.rv = ""
                    continue
                log.debug("watch %s failed, re-opening: %s", self.key[1], err)
                stopped.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:  # a surprise must not leave the kind silently unwatched
                if stopped.is_set():
                    return
                log.debug("watch %s: unexpected error, listing again", self.key[1], exc_info=True)
                self.rv = ""
                stopped.wait(backoff)
                backoff = min(backoff * 2, 5.0)


class ClusterCache:
    """Objects of the kinds asked for, listed once and then watched (see the module docstring).

    :meth:`snapshot` lists a kind the first time it is asked for — in the caller's thread, so the
    first snapshot is exactly what those lists returned — and watches it from then on.
    :meth:`wait_changed` blocks until any watched kind changes, the deadline passes or the run
    is cancelled.
    """

    def __init__(self, kube: KubeClient) -> None:
        self.kube = kube
        self.stopped = threading.Event()
        self.cancel = Cancel()
        self._lock = threading.Condition()
        self._informers: dict[Key, _Informer] = {}
        self.version = 0
        #: (api_version, kind) not served, with the cache version when that was last checked
        self._misses: dict[tuple[str, str], int] = {}
        #: CRD name -> (kind, api version): a CRD keeps its kind and group while an install runs
        self.crd_kinds: dict[str, tuple[str, str]] = {}

    def served(self, kinds: dict[str, str], deadline: Deadline, *, recheck: bool = False
               ) -> list[tuple[str, str, Any]]:
        """``(api_version, kind, resource)`` of the kinds the server serves.

        A kind found once stays found. A kind not served is asked about again only when
        something in the cache changed since (its CRD comes with the objects that install it)
        or with ``recheck``, so waiting on a closed gate asks discovery nothing.
        """
        by_version: dict[str, list[str]] = {}
        for kind, api_version in kinds.items():
            if self._misses.get((api_version, kind)) == self.version and not recheck:
                continue
            by_version.setdefault(api_version, []).append(kind)
        out = []
        for api_version, names in by_version.items():
            for kind, res in self.kube.lookup_kinds(api_version, names, deadline).items():
                if res is None:
                    self._misses[(api_version, kind)] = self.version
                    continue
                self._misses.pop((api_version, kind), None)
                out.append((api_version, kind, res))
        return out

    # -- called by the watch threads -------------------------------------------------------------

    def replace(self, informer: _Informer, items: list[Obj]) -> None:
        with self._lock:
            informer.objects = {informer._name(o): o for o in items}
            self.version += 1
            self._lock.notify_all()

    def apply(self, informer: _Informer, etype: str, obj: Obj) -> None:
        with self._lock:
            if etype == "DELETED":
                informer.objects.pop(informer._name(obj), None)
            else:
                informer.objects[informer._name(obj)] = obj
            self.version += 1
            self._lock.notify_all()

    # -- called by the engine ----------------------------------------------------------------------

    def snapshot(self, kinds: Iterable[tuple[str, str, Any]], namespaces: Iterable[str | None],
                 deadline: Deadline) -> tuple[dict[str, list[Obj]], int]:
        """Kind -> objects in ``namespaces`` for every ``(api_version, kind, resource)``, and
        the cache version they reflect (for :meth:`wait_changed`)."""
        scopes = list(namespaces) or [None]
        started: list[_Informer] = []
        for api_version, kind, res in kinds:
            for ns in scopes:
                key = (api_version, kind, ns)
                if key in self._informers:
                    continue
                items, rv = self.kube._list(res, ns, None, None, deadline.within(10))
                informer = _Informer(self, key, res, items, rv)
                with self._lock:
                    self._informers[key] = informer
                    self.version += 1
                started.append(informer)
        with self._lock:
            out: dict[str, list[Obj]] = {}
            for api_version, kind, _res in kinds:
                objs: list[Obj] = []
                for ns in scopes:
                    objs.extend((self._informers[(api_version, kind, ns)]).objects.values())
                out[kind] = objs
            version = self.version
        for informer in started:  # after the copy: the first snapshot is what the lists said
            informer.thread.start()
        return out, version

    def wait_changed(self, version: int, deadline: Deadline) -> bool:
        """Until the cache moves past ``version`` (True), or the deadline or a cancel (False)."""
        with deadline.cancel.on_cancel(self._wake), self._lock:
            while self.version == version and not deadline.expired and not deadline.cancelled \
                        and not self.stopped.is_set():
                self._lock.wait(min(deadline.remaining(), 60.0))
            return self.version != version

    def _wake(self) -> None:
        with self._lock:
            self._lock.notify_all()

    def close(self) -> None:
        """Stop every watch (their sockets are shut down, so no thread is left blocked)."""
        self.stopped.set()
        self.cancel.set()
        for informer in list(self._informers.values()):
            informer.shutdown()
        for informer in list(self._informers.values()):
            if informer.thread.is_alive():
                informer.thread.join(timeout=2)
        self._wake()

    @property
    def watched(self) -> int:
        return len(self._informers)
