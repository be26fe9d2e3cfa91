"""Holds: the controllers keep an object where a test wants it, until released or observed."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from acp_install_sandbox import Hold, Sandbox

from sandbox_helpers import api_client, wait_for
from sandbox_manifests import NS, apprelease

RELEASE = "cluster-api-provider-kubeadm"
AR = ("operator.alauda.io", "v1alpha1", NS, "appreleases")


def phase(sb: Sandbox) -> Any:
    obj = client.CustomObjectsApi(api_client(sb)).get_namespaced_custom_object(*AR, RELEASE)
    return (obj.get("status") or {}).get("phase")


def test_a_hold_lasts_until_released(sandbox: Sandbox) -> None:
    hold = sandbox.hold("AppRelease", RELEASE, NS)
    sandbox.api.apply_object(apprelease(RELEASE), manager="t")
    # the hold binds every controller pass after hold() returned: not even Pending is written
    wait_for(lambda: sandbox.api.holds.engaged())
    assert phase(sandbox) is None and sandbox.api.holds.active == (hold,)
    sandbox.release(hold)
    assert wait_for(lambda: phase(sandbox) == "Ready")


def test_observed_counts_only_reads_after_the_hold_held_something(sandbox_factory: Any) -> None:
    hold = Hold("AppRelease", RELEASE, NS, until="observed")
    sb = sandbox_factory(holds=[hold])
    custom = client.CustomObjectsApi(api_client(sb))
    custom.list_namespaced_custom_object(*AR)  # nothing held back yet: not an observation
    assert sb.api.holds.active == (hold,)
    sb.api.apply_object(apprelease(RELEASE), manager="t")
    wait_for(lambda: sb.api.holds.engaged())
    listed = custom.list_namespaced_custom_object(*AR)["items"]
    assert [o.get("status") for o in listed] == [None]  # the read saw the held state...
    assert sb.api.holds.active == ()  # ...and ended the hold
    assert wait_for(lambda: phase(sb) == "Ready")


def test_a_hold_at_a_state_lets_the_object_get_there(sandbox: Sandbox) -> None:
    hold = sandbox.hold("AppRelease", RELEASE, NS, at=("status.phase", "Pending"))
    sandbox.api.apply_object(apprelease(RELEASE), manager="t")
    wait_for(lambda: phase(sandbox) == "Pending")
    wait_for(lambda: sandbox.api.holds.engaged())
    assert phase(sandbox) == "Pending"
    sandbox.release(hold)
    assert wait_for(lambda: phase(sandbox) == "Ready")


def test_bad_holds_are_refused() -> None:
    with pytest.raises(ValueError, match="until"):
        Hold("AppRelease", until="later")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at"):
        Hold("AppRelease", at=(1, 2))  # type: ignore[arg-type]


def test_a_list_narrowed_to_another_name_observes_nothing_held(sandbox_factory: Any) -> None:
    hold = Hold("AppRelease", RELEASE, NS, until="observed")
    sb = sandbox_factory(holds=[hold])
    custom = client.CustomObjectsApi(api_client(sb))
    sb.api.apply_object(apprelease(RELEASE), manager="t")
    wait_for(lambda: sb.api.holds.engaged())
    custom.list_namespaced_custom_object(*AR, field_selector="metadata.name=something-else")
    assert sb.api.holds.active == (hold,)  # that read could not show the held object
    custom.list_namespaced_custom_object(*AR, field_selector=f"metadata.name={RELEASE}")
    assert sb.api.holds.active == ()
