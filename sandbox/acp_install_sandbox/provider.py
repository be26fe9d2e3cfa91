"""What a provider distribution teaches the sandbox — the public API for provider authors.

The sandbox names no provider. Like a Cluster API infrastructure provider shipping its own
test double (CAPD), each provider distribution declares, under the entry-point group
``acp_install_sandbox.providers``, what its chart installs and any simulated behaviour of its
own::

    # pyproject.toml of acp-install-foo
    [project.entry-points."acp_install_sandbox.providers"]
    foo = "acp_install_foo.sandbox:declaration"

    # acp_install_foo/sandbox.py (imported only by the sandbox)
    from pathlib import Path
    from acp_install_sandbox.provider import Chart, SandboxProvider

    def declaration() -> SandboxProvider:
        return SandboxProvider(charts=(Chart("cluster-api-provider-foo", Path(__file__).parent / "crds",
                                             versions=("v1.0.0",)),))

``crds/`` holds the structural schemas of the chart's CRDs, generated from the published CRD
YAML with ``python -m acp_install_sandbox.schemagen``. When an AppRelease names the chart, the
sandbox serves those kinds and validates every object of them. ``versions`` are the chart
versions the package delivers: the sandbox's registry (:mod:`.registry`) holds them, under
``ait/chart-<release>``, from the start.

Simulated behaviour: ``controllers`` are constructed like :class:`Controller` (``api, clock,
scenario``) and reconciled level-triggered with the others; ``provisioning_gates`` hold the
Machines of a cluster whose infrastructure kind is the key until the gate opens (it returns a
message while closed, ``None`` once open); ``scenarios`` add named scenarios whose
``Scenario.options`` the provider's controllers read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import attrs

from .api import Api
from .controllers.base import Clock, Controller, condition, set_condition
from .errors import ApiError
from .kinds import BUILTIN, ResourceType
from .scenarios import Scenario, Timing

__all__ = [
    "BUILTIN",
    "Api",
    "ApiError",
    "Chart",
    "Clock",
    "Controller",
    "ControllerFactory",
    "ProvisioningGate",
    "ResourceType",
    "SandboxProvider",
    "Scenario",
    "Timing",
    "condition",
    "set_condition",
]

#: Builds one controller; a :class:`Controller` subclass is one.
ControllerFactory = Callable[[Api, Clock, Scenario], Controller]
#: ``gate(api, namespace, machines_wanted)``: a message naming what is awaited, or ``None``.
ProvisioningGate = Callable[[Api, str, int], "str | None"]


@attrs.frozen
class Chart:
    """One chart a provider package installs: its release name and its CRD schema folder.

    ``release`` is the chart's release name as AppReleases name it (``spec.source.charts[]
    .releaseName``, or the AppRelease name); chart names such as ``repo/chart-<release>``
    match too. ``schemas`` is a folder of CRD JSON files (``schemagen`` output). ``versions``
    (and ``repository``) say what the package puts into minialauda's registry.
    """

    release: str
    schemas: Path = attrs.field(converter=Path)
    #: chart versions the package delivers: the sandbox's registry holds them from the start
    #: (as if the package had been pushed), under :attr:`repo`
    versions: tuple[str, ...] = attrs.field(default=(), converter=lambda v: tuple(str(x) for x in v))
    #: registry repository of the chart (an AppRelease's ``charts[].name``); default
    #: ``ait/chart-<release>``, the seed's naming
    repository: str | None = None

    @property
    def repo(self) -> str:
        return self.repository or f"ait/chart-{self.release}"

    def matches(self, name: str) -> bool:
        return name.rsplit("/", 1)[-1].removeprefix("chart-") == self.release


@attrs.frozen
class SandboxProvider:
    """Everything one distribution teaches the sandbox."""

    charts: tuple[Chart, ...] = ()
    controllers: tuple[ControllerFactory, ...] = ()
    provisioning_gates: Mapping[str, ProvisioningGate] = attrs.field(factory=dict)
    scenarios: tuple[Scenario, ...] = ()
