"""The sandbox declarations of every installed distribution (entry-point group below).

Loaded once per process. A declaration that fails to load, or is not a
:class:`~.provider.SandboxProvider`, is reported (naming its distribution and entry point) and
skipped: one broken provider never stops the sandbox serving the others.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Mapping
from importlib.metadata import EntryPoint, entry_points

import attrs

from .provider import Chart, ControllerFactory, ProvisioningGate, SandboxProvider
from .scenarios import Scenario

__all__ = ["GROUP", "Declarations", "installed"]

GROUP = "acp_install_sandbox.providers"
log = logging.getLogger(__name__)


@attrs.frozen
class Declarations:
    """What every installed distribution declared, by entry-point name, plus the load errors."""

    providers: Mapping[str, SandboxProvider] = attrs.field(factory=dict)
    errors: tuple[str, ...] = ()

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(c for p in self.providers.values() for c in p.charts)

    @property
    def controllers(self) -> tuple[ControllerFactory, ...]:
        return tuple(c for p in self.providers.values() for c in p.controllers)

    @property
    def provisioning_gates(self) -> dict[str, ProvisioningGate]:
        return {kind: gate for p in self.providers.values() for kind, gate in p.provisioning_gates.items()}

    @property
    def scenarios(self) -> tuple[Scenario, ...]:
        return tuple(s for p in self.providers.values() for s in p.scenarios)

    def chart_for(self, release: str) -> Chart | None:
        return next((c for c in self.charts if c.matches(release)), None)


def _distribution(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else ep.value


def _load(ep: EntryPoint) -> SandboxProvider:
    obj = ep.load()
    if callable(obj) and not isinstance(obj, SandboxProvider):
        obj = obj()
    if not isinstance(obj, SandboxProvider):
        raise TypeError(f"gave {type(obj).__name__}, expected acp_install_sandbox.provider.SandboxProvider")
    return obj


def _entry_points() -> Iterator[EntryPoint]:
    seen: set[str] = set()
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if ep.name not in seen:  # an editable install may list a distribution twice
            seen.add(ep.name)
            yield ep


@functools.cache
def installed() -> Declarations:
    providers: dict[str, SandboxProvider] = {}
    errors: list[str] = []
    for ep in _entry_points():
        try:
            providers[ep.name] = _load(ep)
        except Exception as err:  # a broken plugin is bad input, reported, never fatal here
            message = (f"sandbox declaration {ep.name!r} of {_distribution(ep)} ({ep.value}) "
                       f"is broken and was skipped: {type(err).__name__}: {err}")
            log.warning("%s", message)
            errors.append(message)
    return Declarations(providers, tuple(errors))
