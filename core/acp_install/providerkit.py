"""Helpers every provider wrote again: its spec section, its findings, its worker groups.

Each provider used to carry its own copy of these (a ``_platform`` cast, ``_e``/``_w`` finding
builders with its rule id, the worker-group loop and its checks); one implementation here keeps
the four bundled providers and any third-party one behaving alike. Exported from
:mod:`acp_install.provider`; this module is private and may move.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, Protocol, TypeVar

import attrs

from . import netcheck, templating
from .naming import PREFIX, WHY_PREFIX
from .records import Finding, KubeadmContribution, ObjectRef, SpecExample, WorkerGroup
from .spec.model import InstallSpec

P = TypeVar("P")

#: An OpenSSH public key line (``authorized_keys`` form, options not allowed).
SSH_PUBLIC_KEY = re.compile(
    r"^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)"
    r" [A-Za-z0-9+/]+={0,3}( .*)?$"
)


def platform_of(spec: InstallSpec, platform_type: type[P]) -> P:
    """The spec's ``platform:`` section as the provider's own class.

    The core types ``InstallSpec.platform`` loosely (it knows no provider); reading it through
    this gives the provider's builders its fields under mypy, and a spec structured for another
    provider fails here, naming both classes, instead of as an ``AttributeError`` deep inside a
    builder.
    """
    platform = spec.platform
    if not isinstance(platform, platform_type):
        raise TypeError(f"spec.platform is a {type(platform).__name__}, not a "
                        f"{platform_type.__name__}: the spec was loaded for another provider")
    return platform


@attrs.frozen
class Findings:
    """Builds the provider's :class:`Finding` records with its rule id filled in.

    A rule id lets users look a finding up and suppress it; most rules of a provider share its
    default id, a few have their own (``rule=`` on a call overrides it)::

        findings = Findings(rule="foo")
        yield findings.error("platform.region", "empty", "give the region name")
    """

    rule: str

    def error(self, path: str, message: str, fix: str, rule: str | None = None) -> Finding:
        """An error: the run stops before anything is applied."""
        return Finding("error", path, message, fix=fix, rule=self.rule if rule is None else rule)

    def warning(self, path: str, message: str, fix: str, rule: str | None = None) -> Finding:
        """A warning: printed, and the run goes on."""
        return Finding("warning", path, message, fix=fix, rule=self.rule if rule is None else rule)

    def global_name(self, path: str, name: str, what: str, rule: str | None = None) -> Iterator[Finding]:
        """``name`` must be an object name starting ``global-``, reported at the spec field.

        The core's naming check finds the same on the rendered manifest; this one points at the
        field the user wrote. ``rule`` is the id of an invalid name; a missing prefix is always
        ``global-prefix``, as in the core.
        """
        if not netcheck.DNS1123_SUBDOMAIN.match(name):
            yield self.error(path, f"{name!r} is not a valid object name",
                             "use lowercase letters, digits, '-' and '.'", rule)
        elif not name.startswith(PREFIX):
            yield self.error(path, f"{what} {name!r} lacks the 'global-' prefix ({WHY_PREFIX})",
                             f"rename it to global-{name}", "global-prefix")


class WorkerSection(Protocol):
    """What the core reads of a provider's worker section: the MachineDeployment it becomes."""

    @property
    def name(self) -> str: ...

    @property
    def replicas(self) -> int: ...


def worker_group(worker: WorkerSection, template: ObjectRef,
                 kubeadm: KubeadmContribution, **options: Any) -> WorkerGroup:
    """The MachineDeployment wiring of one worker section, drawing machines from ``template``.

    ``options`` are the other :class:`WorkerGroup` fields (``labels``, ``max_surge``...).
    """
    return WorkerGroup(name=worker.name, replicas=worker.replicas, infrastructure=template,
                       kubeadm=kubeadm, **options)


def worker_findings(workers: Iterable[WorkerSection], findings: Findings,
                    path: str = "platform.workers", rule: str | None = None) -> Iterator[Finding]:
    """What every provider checks on its worker list: distinct names, no negative replicas.

    Two groups with one name would render one MachineDeployment twice; the provider's own
    checks of each group's machines come after these.
    """
    seen: dict[str, int] = {}
    for i, w in enumerate(workers):
        wp = f"{path}[{i}]"
        if w.name in seen:
            yield findings.error(f"{wp}.name", f"worker group {w.name!r} repeats {path}[{seen[w.name]}]",
                                 "give each worker group its own name", rule)
        seen.setdefault(w.name, i)
        if w.replicas < 0:
            yield findings.error(f"{wp}.replicas", "must be >= 0", "the number of worker nodes", rule)


def spec_example(package: str, template: str = "platform-example.yaml.j2") -> SpecExample:
    """The commented ``platform:`` example ``acp-install init`` writes, from the package's
    ``templates/`` (jinja2, so it can show derived defaults)."""
    return SpecExample(templating.render(template, package=package))
