"""Validation on a partially structured spec: a broken field breaks only itself, and every core
rule that reads it is skipped (never run on a placeholder)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from acp_install.secrets import SecretRef
from acp_install.spec import checks
from acp_install.spec.converter import BROKEN, BrokenFieldUsed, structure_partial
from acp_install.spec.explain import fields
from acp_install.spec.model import InstallSpec

from specs import example

NO_PLATFORM = frozenset({"platform"})


def full_data() -> dict[str, Any]:
    """The dcs example with every optional core field set, so every rule has work to do."""
    data = example("dcs")
    data.pop("platform")
    data.update(kubeOvnJoinCIDR="100.64.0.0/16", nodeRegistryAddress="192.168.1.10:11443",
                dr={"role": "standby", "primaryVIP": "192.168.2.100",
                    "standbyVIP": "192.168.1.100", "encryptionKey": {"env": "UNSET_DR_KEY"}})
    data["controlPlane"] = {"replicas": 3, "format": "ignition"}
    data["credentials"]["registry"] = {"username": "admin", "password": {"env": "UNSET_REG"}}
    data["credentials"]["bootstrapRegistryAuth"] = True
    data["console"] = {"cert": {"thirdParty": {
        "certificate": {"env": "UNSET_CERT"}, "privateKey": {"env": "UNSET_KEY"},
        "pkcs12": {"env": "UNSET_P12"}, "keys": {"pkcs12": "pkcs12"}}}}
    data["kindNetworkCIDR"] = "172.18.0.0/16"
    data["corePackage"] = {"path": "/root/core.tgz", "directory": "/root/cpaas-install",
                           "setupScript": "installer/setup.sh",
                           "kubeconfig": "/var/cpaas/data/alauda.kubeconfig", "arch": "arm64"}
    return data


def full_spec() -> InstallSpec:
    spec, errors, broken = structure_partial(full_data(), InstallSpec, skip=NO_PLATFORM)
    assert (errors, broken) == ([], set())
    return spec  # type: ignore[no-any-return]


def with_broken(obj: Any, path: str) -> Any:
    head, _, rest = path.partition(".")
    return attrs.evolve(obj, **{head: with_broken(getattr(obj, head), rest) if rest else BROKEN})


def core_paths() -> list[str]:
    """Every core field down to the records structured whole (a secret reference is one value)."""
    entries = list(fields(InstallSpec))
    whole = {p for p, tp, _a in entries if tp is SecretRef or tp == SecretRef | None}
    return [p for p, _tp, _a in entries if p != "platform" and "[]" not in p
            and not any(p.startswith(w + ".") for w in whole)]


CORE_PATHS = core_paths()


def test_core_paths_cover_nested_fields() -> None:
    assert {"hostIP", "controlPlane.replicas", "dr.role", "credentials.admin.password"} <= \
        set(CORE_PATHS)


@pytest.mark.parametrize("path", CORE_PATHS)
def test_no_rule_reads_a_broken_field(path: str) -> None:
    spec = with_broken(full_spec(), path)
    findings = list(checks.check(spec, {path}))  # BrokenFieldUsed here is a missing guard
    assert all(f.path != path for f in findings)


@pytest.mark.parametrize("path", ["hostIP", "controlPlane.replicas", "dr.primaryVIP", "dr"])
def test_an_unguarded_read_of_a_broken_field_fails_loudly(path: str) -> None:
    with pytest.raises(BrokenFieldUsed):
        list(checks.check(with_broken(full_spec(), path)))


def test_the_other_rules_still_run() -> None:
    spec = attrs.evolve(with_broken(full_spec(), "hostIP"), serviceCIDR="100.3.0.0/16")
    rules = {f.rule for f in checks.check(spec, {"hostIP"})}
    assert "cidr-overlap" in rules and "dr-vips" not in rules


@pytest.mark.parametrize(("broken", "path", "ok"), [
    ({"dr"}, "dr.role", False),            # ancestor broken
    ({"dr.role"}, "dr", False),            # a rule reading the whole record
    ({"dr.role"}, "dr.primaryVIP", True),  # a sibling
    ({"controlPlane"}, "controlPlaneVIP", True),  # a prefix of the name, not of the path
    (set(), "hostIP", True),
])
def test_fields_ok(broken: set[str], path: str, ok: bool) -> None:
    assert checks.Fields(broken).ok(path) is ok


def test_one_wrong_scalar_breaks_only_itself() -> None:
    data = full_data()
    data["controlPlane"] = {"replicas": "3", "format": "ignition", "replica": 3}
    data["hostIp"] = "x"
    del data["hostIP"]
    spec, errors, broken = structure_partial(data, InstallSpec, skip=NO_PLATFORM)
    assert broken == {"controlPlane.replicas", "hostIP"}
    assert sorted(errors) == [("controlPlane.replica", "unknown field"),
                              ("controlPlane.replicas", "expected an integer, got a string '3'"),
                              ("hostIP", "required field missing"),
                              ("hostIp", "unknown field")]
    assert spec.controlPlane.format == "ignition" and spec.dr.role == "standby"
    assert spec.controlPlane.replicas is BROKEN and spec.hostIP is BROKEN


def test_a_section_that_is_not_a_mapping_is_broken_whole() -> None:
    data = {**full_data(), "dr": ["primary"]}
    spec, errors, broken = structure_partial(data, InstallSpec, skip=NO_PLATFORM)
    assert errors == [("dr", "expected a mapping, got a list")] and broken == {"dr"}
    assert spec.dr is BROKEN
