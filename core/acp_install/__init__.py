"""acp-install: install the Alauda Container Platform global cluster through Cluster API.

The public API for embedding applications (portals, operators, pipelines): load and validate a
spec, build and write its plan, run the engine and follow its events. Every error is an
:class:`AcpInstallError`; the subclasses, one per exit code, are in :mod:`acp_install.errors`.
Provider authors import :mod:`acp_install.provider` instead. Everything else is private and may
move.
"""

from __future__ import annotations

import importlib

# not ``from typing import``: importing typing is most of what ``import acp_install`` costs
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .engine import (
        Engine,
        EngineWarning,
        Event,
        InstallResult,
        PhaseFinished,
        PhaseProgress,
        PhaseResult,
        PhaseStarted,
        RunFinished,
        Timeouts,
        event_schema,
        read_state,
    )
    from .errors import AcpInstallError
    from .plan import InstallPlan, build_plan, write_plan
    from .plugins import Provider, installed, load_provider
    from .records import Finding
    from .spec.load import LoadedSpec, load_spec, parse
    from .spec.model import InstallSpec

#: public name -> (module, attribute). Imported on first use (PEP 562), so `import acp_install`
#: and the CLI's start-up stay cheap; the names are the same as above.
_EXPORTS: dict[str, tuple[str, str]] = {
    "AcpInstallError": (".errors", "AcpInstallError"),
    "Engine": (".engine", "Engine"),
    "EngineWarning": (".engine", "EngineWarning"),
    "Event": (".engine", "Event"),
    "Finding": (".records", "Finding"),
    "InstallPlan": (".plan", "InstallPlan"),
    "InstallResult": (".engine", "InstallResult"),
    "InstallSpec": (".spec.model", "InstallSpec"),
    "LoadedSpec": (".spec.load", "LoadedSpec"),
    "PhaseFinished": (".engine", "PhaseFinished"),
    "PhaseProgress": (".engine", "PhaseProgress"),
    "PhaseResult": (".engine", "PhaseResult"),
    "PhaseStarted": (".engine", "PhaseStarted"),
    "Provider": (".plugins", "Provider"),
    "RunFinished": (".engine", "RunFinished"),
    "Timeouts": (".engine", "Timeouts"),
    "build_plan": (".plan", "build_plan"),
    "event_schema": (".engine", "event_schema"),
    "installed": (".plugins", "installed"),
    "load_provider": (".plugins", "load_provider"),
    "load_spec": (".spec.load", "load_spec"),
    "parse": (".spec.load", "parse"),
    "read_state": (".engine", "read_state"),
    "write_plan": (".plan", "write_plan"),
}

__all__ = [
    "AcpInstallError",
    "Engine",
    "EngineWarning",
    "Event",
    "Finding",
    "InstallPlan",
    "InstallResult",
    "InstallSpec",
    "LoadedSpec",
    "PhaseFinished",
    "PhaseProgress",
    "PhaseResult",
    "PhaseStarted",
    "Provider",
    "RunFinished",
    "Timeouts",
    "build_plan",
    "event_schema",
    "installed",
    "load_provider",
    "load_spec",
    "parse",
    "read_state",
    "write_plan",
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'acp_install' has no attribute {name!r}") from None
    value = importlib.import_module(module, __name__)
    if attr != module.lstrip("."):
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
