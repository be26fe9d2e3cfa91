"""Typed events the engine emits while it works.

Subscribers are plain callables taking one event. The CLI renders them as progress lines or JSON
lines; an embedding application can route them to its own UI. Events never carry secret values:
they are built from phase names, object names and installer status text only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import attrs

Outcome = Literal["done", "already-done", "skipped"]


def _now() -> float:
    return time.time()


@attrs.frozen
class PhaseStarted:
    """A phase begins (it was not finished by an earlier run)."""

    phase: str
    index: int
    total: int
    time: float = attrs.field(factory=_now)


@attrs.frozen
class PhaseProgress:
    """Something visible happened inside a phase (an object applied, a status changed)."""

    phase: str
    message: str
    elapsed: float = 0.0
    time: float = attrs.field(factory=_now)


@attrs.frozen
class PhaseFinished:
    """A phase is finished.

    ``outcome``: ``done`` (it ran now), ``already-done`` (its check found the world already in
    the goal state, nothing was changed) or ``skipped`` (finished in an earlier run).
    """

    phase: str
    outcome: Outcome
    elapsed: float = 0.0
    time: float = attrs.field(factory=_now)


@attrs.frozen
class EngineWarning:
    """Worth showing, not fatal (a transient error being retried, a resumed POST...)."""

    message: str
    phase: str = ""
    time: float = attrs.field(factory=_now)


#: The former name of :class:`EngineWarning` (it shadows the builtin; kept for compatibility).
Warning = EngineWarning

Event = PhaseStarted | PhaseProgress | PhaseFinished | EngineWarning
Subscriber = Callable[[Event], None]

_NAMES: dict[type, str] = {PhaseStarted: "phase-started", PhaseProgress: "phase-progress",
                           PhaseFinished: "phase-finished", EngineWarning: "warning"}


def event_name(event: Event) -> str:
    """The stable ``event`` field of the JSON form (``phase-started``...)."""
    return _NAMES[type(event)]


def to_dict(event: Event) -> dict[str, Any]:
    """JSON-ready form: ``{"event": "phase-started", "phase": ..., ...}``."""
    return {"event": event_name(event), **attrs.asdict(event)}
