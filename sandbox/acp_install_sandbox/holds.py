"""Holds: keep one object in a state until a test releases it, or until a client has read it.

Why: the simulated controllers move objects on with the sandbox clock, so a state that lasts
a few sandbox seconds may never be seen by a client on a loaded machine. A test that asserts an
intermediate state (a gate observed closed, a Machine observed ``Provisioned``) holds it instead
of racing the clock::

    hold = sb.hold("Machine", None, "cpaas-system", at=("status.phase", "Provisioned"))
    ...                      # every Machine reaches Provisioned and stays there
    sb.release(hold)

A hold matches objects by kind (and optionally name and namespace). Without ``at`` it holds
from the start: the controllers neither create a matching object nor change it. With ``at``
(a dotted field path and a value) the controllers progress the object until that field has
that value, then leave it alone. ``until="observed"`` ends the hold by itself once a client has
read a matching object (a GET, or a LIST of its kind) *after* a controller was first held back
by it, so the read saw the held state: "the engine observed the gate closed" becomes a fact,
not a timing accident. Holds bind the simulated controllers only; clients still write freely.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal

import attrs

__all__ = ["Hold", "Holds", "Until"]

Until = Literal["released", "observed"]


def _field(obj: Mapping[str, Any], path: str) -> Any:
    value: Any = obj
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


@attrs.frozen
class Hold:
    """Keep matching objects where they are (or at ``at``) until released or observed."""

    kind: str
    name: str | None = None  # None: every object of the kind
    namespace: str | None = None  # None: every namespace
    at: tuple[str, Any] | None = None  # (dotted field path, value) where holding starts
    until: Until = "released"

    def __attrs_post_init__(self) -> None:
        if self.until not in ("released", "observed"):
            raise ValueError(f"Hold.until must be 'released' or 'observed', not {self.until!r}")
        if self.at is not None and (len(self.at) != 2 or not isinstance(self.at[0], str)):
            raise ValueError("Hold.at must be a (dotted field path, value) pair")

    def matches(self, kind: str, namespace: str | None, name: str | None) -> bool:
        return (
            kind == self.kind
            and (self.namespace is None or namespace is None or namespace == self.namespace)
            and (self.name is None or name is None or name == self.name)
        )

    def holds(self, obj: Mapping[str, Any] | None) -> bool:
        """Whether the object (``None``: not created yet) is in the held state."""
        if self.at is None:
            return True
        return obj is not None and _field(obj, self.at[0]) == self.at[1]


class Holds:
    """The active holds of one sandbox, shared by the controllers and the API.

    The controller loop runs each pass inside :meth:`pass_` (one lock), so a hold added by a
    test binds every pass that starts after :meth:`add` returns.
    """

    def __init__(self, holds: Iterable[Hold] = ()) -> None:
        self._lock = threading.RLock()
        self._active: list[Hold] = []
        self._engaged: set[int] = set()  # ids of holds that have held a controller back
        for h in holds:
            self.add(h)

    @contextmanager
    def pass_(self) -> Iterator[None]:
        with self._lock:
            yield

    def add(self, hold: Hold) -> Hold:
        with self._lock:
            self._active.append(hold)
            return hold

    def release(self, hold: Hold) -> None:
        """End a hold (a no-op when it already ended); the next controller pass moves on."""
        with self._lock:
            self._active = [h for h in self._active if h is not hold]
            self._engaged.discard(id(hold))

    @property
    def active(self) -> tuple[Hold, ...]:
        with self._lock:
            return tuple(self._active)

    def held(self, obj: Mapping[str, Any] | None, *, kind: str, namespace: str | None, name: str) -> bool:
        """Asked by a controller before it creates or changes an object: must it leave it?"""
        with self._lock:
            found = False
            for h in self._active:
                if h.matches(kind, namespace, name) and h.holds(obj):
                    self._engaged.add(id(h))
                    found = True
            return found

    def engaged(self) -> frozenset[int]:
        """Taken by the API before a read: the holds already holding something back."""
        with self._lock:
            return frozenset(self._engaged)

    def observed(
        self, kind: str, namespace: str | None, names: Iterable[str] | None, before: frozenset[int]
    ) -> None:
        """A client read objects of ``kind`` (``names=None``: a LIST): end the holds waiting
        for that which were engaged when the read began (``before``, from :meth:`engaged`), so
        the response, built in between, showed the held state."""
        with self._lock:
            wanted = None if names is None else set(names)
            for h in list(self._active):
                if h.until != "observed" or id(h) not in before:
                    continue
                if h.kind != kind or (h.namespace is not None and namespace not in (None, h.namespace)):
                    continue
                if wanted is not None and h.name is not None and h.name not in wanted:
                    continue
                self.release(h)
