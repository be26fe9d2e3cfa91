"""Named scenarios: how the simulated controllers and installer behave in one run.

Each fault scenario reproduces one row of the seed's "Common Stalls and Where to Look" table,
observable through the API the way a user would see it with kubectl:

================  ==================================================================
happy             everything provisions; installer reaches Success/Complete
machines-pending  Machines stay Pending; InfrastructureReady=False with a provider
                  reason (quota) on each Machine, plus a Warning Event
kcp-not-ready     Machines run, KubeadmControlPlane never Ready (etcd unhealthy)
image-pull        kube-system Pod in ImagePullBackOff + Warning Event; installer
                  stalls in "network and add-ons" with the pull error as message
image-pull-quiet  the same Pods, but the installer's message says nothing about them
                  (it only stops advancing): the cause is visible on the new cluster only
installer-stall   installer progress stops advancing in "platform installation"
installer-5xx     progress API answers 503 a few times, then recovers (transient)
installer-fail    installer ends with status Failed in "platform installation"
node-not-ready    the installer completes, one Node of the new cluster stays NotReady
module-blocked    the installer completes, ClusterModule/global stays blocked on the
                  base module (new cluster)
================  ==================================================================

Timings are in sandbox seconds; ``Sandbox(speed=...)`` divides them. Provider distributions add
scenarios of their own (:mod:`.provider`); ``Scenario.options`` carries the knobs their simulated
controllers read; ``Scenario.holds`` keeps objects in a state until released or observed
(:mod:`.holds`), for tests that assert an intermediate state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .holds import Hold

__all__ = ["SCENARIOS", "Scenario", "Timing", "all_scenarios", "get_scenario"]


@attrs.frozen
class Timing:
    apprelease: float = 2.0  # AppRelease applied -> CRDs served, Ready
    machine_step: float = 3.0  # each Machine phase transition
    machine_stagger: float = 1.0  # delay between consecutive control-plane machines
    installer_phase: float = 5.0  # each installer phase
    certificate: float = 1.0  # Certificate whose issuer is Ready -> Secret issued, Ready


@attrs.frozen
class Scenario:
    name: str
    description: str
    timing: Timing = Timing()
    machines_stuck: bool = False
    kcp_never_ready: bool = False
    image_pull_failure: bool = False
    installer_stall_at: str | None = None
    #: a stalled installer keeps its "in progress" message (says nothing about the cause)
    installer_quiet: bool = False
    installer_fail_at: str | None = None
    installer_5xx: int = 0  # number of progress requests answered 503 after the POST
    node_not_ready: bool = False  # the new cluster's last Node stays NotReady
    module_blocked: bool = False  # the new cluster's ClusterModule/global stays blocked on a module
    #: knobs for controllers that provider distributions declare (documented by each provider)
    options: Mapping[str, Any] = attrs.field(factory=dict)
    #: objects held from the start (see :mod:`.holds`), e.g. until the engine has observed them
    holds: tuple[Hold, ...] = ()


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("happy", "everything provisions; the installer completes"),
        Scenario("machines-pending", "Machines stay Pending with a provider reason", machines_stuck=True),
        Scenario("kcp-not-ready", "KubeadmControlPlane never becomes Ready", kcp_never_ready=True),
        Scenario(
            "image-pull",
            "kube-system image pulls fail; installer stalls in add-ons",
            image_pull_failure=True,
            installer_stall_at="network",
        ),
        Scenario(
            "image-pull-quiet",
            "kube-system image pulls fail on the new cluster; the installer only stops advancing",
            image_pull_failure=True,
            installer_stall_at="network",
            installer_quiet=True,
        ),
        Scenario(
            "installer-stall", "installer stops advancing in platform installation", installer_stall_at="platform"
        ),
        Scenario("installer-5xx", "progress API fails transiently with 503, then recovers", installer_5xx=3),
        Scenario("installer-fail", "installer fails in platform installation", installer_fail_at="platform"),
        Scenario("node-not-ready", "installer completes; a Node of the new cluster stays NotReady",
                 node_not_ready=True),
        Scenario("module-blocked", "installer completes; ClusterModule/global stays blocked on a module",
                 module_blocked=True),
    )
}


def all_scenarios() -> dict[str, Scenario]:
    """The built-in scenarios and those every installed provider distribution declares."""
    from .declarations import installed

    return {**SCENARIOS, **{s.name: s for s in installed().scenarios}}


def get_scenario(name: str) -> Scenario:
    known = all_scenarios()
    try:
        return known[name]
    except KeyError:
        raise ValueError(f"unknown sandbox scenario {name!r}; known: {', '.join(known)}") from None
