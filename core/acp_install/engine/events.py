"""Typed events the engine emits while it works.

Subscribers are plain callables taking one event. The CLI renders them as progress lines or JSON
lines; an embedding application can route them to its own UI. Events never carry secret values:
they are built from phase names, object names and installer status text only.

Every run ends with exactly one :class:`RunFinished`, whatever happened (success, ``--until``,
an error, a cancel), so a UI waiting for "the end" never hangs. The JSON form of every event is
described by :func:`acp_install.engine.event_schema` (``acp-install schema --events``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import attrs

Outcome = Literal["done", "already-done", "skipped"]
#: How a run ended: ``complete`` (every phase finished), ``stopped`` (``until`` reached),
#: ``failed`` (an error; ``exit_code`` says which), ``interrupted`` (cancel, SIGINT, SIGTERM).
RunOutcome = Literal["complete", "stopped", "failed", "interrupted"]


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
    """Something visible happened inside a phase (an object applied, a status changed).

    ``message`` is for people; the numbers are for progress bars, when the phase can count:
    ``ready`` of ``total`` ``unit`` (``objects`` applied, ``crds`` established, control-plane
    ``replicas`` ready) and ``percent`` (derived from them, or the installer's own figure).
    """

    phase: str
    message: str
    elapsed: float = 0.0
    ready: int | None = None
    total: int | None = None
    percent: float | None = None
    unit: str = ""
    time: float = attrs.field(factory=_now)

    def __attrs_post_init__(self) -> None:
        if self.percent is None and self.ready is not None and self.total:
            object.__setattr__(self, "percent", round(100.0 * self.ready / self.total, 1))


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


@attrs.frozen
class RunFinished:
    """The last event of every :meth:`Engine.run <acp_install.engine.Engine.run>`.

    ``phases``: the outcome of each phase this run reached, in order (a failed or interrupted
    phase is ``phase``, not in it). ``exit_code`` is the CLI's (0, or the error's,
    ``docs/exit-codes.md``); ``error`` the error class name and ``message`` its text, secrets
    redacted ("" on success). ``complete``: the whole install is done.
    """

    outcome: RunOutcome
    complete: bool = False
    phase: str = ""
    exit_code: int = 0
    error: str = ""
    message: str = ""
    phases: dict[str, str] = attrs.field(factory=dict)
    installer: str = ""
    elapsed: float = 0.0
    time: float = attrs.field(factory=_now)


#: The former name of :class:`EngineWarning` (it shadows the builtin; kept for compatibility).
Warning = EngineWarning

Event = PhaseStarted | PhaseProgress | PhaseFinished | EngineWarning | RunFinished
Subscriber = Callable[[Event], None]

#: Event class -> the stable ``event`` field of its JSON form, in the order a run emits them.
EVENT_NAMES: dict[type, str] = {PhaseStarted: "phase-started", PhaseProgress: "phase-progress",
                                PhaseFinished: "phase-finished", EngineWarning: "warning",
                                RunFinished: "run-finished"}


def event_name(event: Event) -> str:
    """The stable ``event`` field of the JSON form (``phase-started``...)."""
    return EVENT_NAMES[type(event)]


def to_dict(event: Event) -> dict[str, Any]:
    """JSON-ready form: ``{"event": "phase-started", "phase": ..., ...}``."""
    return {"event": event_name(event), **attrs.asdict(event)}
