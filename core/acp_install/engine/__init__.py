"""The install engine: named, checkpointed phases over a plan, emitting typed events.

Public names: :class:`Engine`, :class:`Timeouts`, :class:`InstallResult`, the event records,
:func:`event_schema`, :data:`PHASE_NAMES` and :func:`read_state`. ``Warning`` is the old name of
:class:`EngineWarning`. See ``docs/engine.md``.
"""

from __future__ import annotations

from .core import (
    DEFAULT_TIMEOUTS,
    Engine,
    InstallResult,
    PhaseResult,
    ProviderMismatch,
    Timeouts,
    plan_digest,
)
from .events import (
    EngineWarning,
    Event,
    PhaseFinished,
    PhaseProgress,
    PhaseStarted,
    RunFinished,
    Subscriber,
    Warning,
    event_name,
    to_dict,
)
from .phases import PHASE_NAMES
from .schema import event_schema
from .state import read_state, state_path

__all__ = [
    "DEFAULT_TIMEOUTS",
    "PHASE_NAMES",
    "Engine",
    "EngineWarning",
    "Event",
    "InstallResult",
    "PhaseFinished",
    "PhaseProgress",
    "PhaseResult",
    "PhaseStarted",
    "ProviderMismatch",
    "RunFinished",
    "Subscriber",
    "Timeouts",
    "Warning",
    "event_name",
    "event_schema",
    "plan_digest",
    "read_state",
    "state_path",
    "to_dict",
]
