"""Disaster recovery as one operation: a DRPair validated together, installed on two sandboxes,
joined by global-etcd-sync (issue #14).

Every install runs the real engine against a sandbox of its own (two loopback addresses);
what the join did is read from each new cluster's own recorder and store.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from drpairs import ETCD_SYNC_VERSION, STANDBY_HOST, STANDBY_VIP, fill_env, pair_data, write_pair

from acp_install.cli.main import main
from acp_install.clients.kubeconfigs import GlobalKubeconfig
from acp_install.clients.redact import Redactor
from acp_install.dr import Join, check_dns, load_pair
from acp_install.errors import DRJoinError, GateClosed, Interrupted, SpecError
from acp_install_sandbox import Sandbox

from specs import write
from support import audit_events

PROVIDERS = ["dcs", "vsphere", "hcs", "baremetal"]
PRIMARY_VIP = "192.168.1.100"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- one description, validated as a pair ---------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_pair_file_renders_both_sides_sharing_everything_but_the_side_values(
        provider: str, tmp_path: Path, canaries: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    pair = load_pair(write_pair(provider, tmp_path))
    p, s = pair.primary.spec, pair.standby.spec
    assert (p.dr.role, s.dr.role) == ("primary", "standby")  # type: ignore[union-attr]
    assert (p.controlPlaneVIP, s.controlPlaneVIP) == (PRIMARY_VIP, STANDBY_VIP)
    for side in (p, s):  # the VIPs of dr: are derived from the sides, the key is the base's
        assert (side.dr.primaryVIP, side.dr.standbyVIP) == (PRIMARY_VIP, STANDBY_VIP)  # type: ignore[union-attr]
        assert side.dr.encryptionKey == p.dr.encryptionKey  # type: ignore[union-attr]
    code, out, err = run_cli(capsys, "dr", "validate", "-f", str(tmp_path / "pair.yaml"))
    assert code == 0, err
    assert "valid DR pair" in out and f"standby {STANDBY_VIP} (bootstrap {STANDBY_HOST})" in out
    assert canaries["ENCRYPTION_KEY"] not in out + err
    # a base field's warning is shown once, not once per side
    lines = [line for line in err.splitlines() if "warning:" in line]
    assert len(lines) == len(set(lines))


def error_paths(err: SpecError) -> dict[str, str]:
    return {f.path: f.message for f in err.findings if f.severity == "error"}


def test_a_side_may_set_only_per_side_values_and_never_the_derived_dr_fields(
        tmp_path: Path, canaries: dict[str, str]) -> None:
    data = pair_data("dcs", tmp_path)
    data["standby"]["packages"] = data["base"]["packages"]
    data["base"]["dr"]["role"] = "primary"
    path = write(tmp_path / "pair.yaml", data)
    with pytest.raises(SpecError) as caught:
        load_pair(path)
    found = {f.path: f for f in caught.value.findings}
    assert "both sides must agree" in found["standby.packages"].message
    assert found["standby.packages"].line == path.read_text().splitlines().index("  packages:") + 1 \
        or found["standby.packages"].line is not None
    assert "derived from the sides" in found["base.dr.role"].message


def test_a_side_finding_names_the_pair_file_path_and_line(tmp_path: Path, canaries: dict[str, str]) -> None:
    path = write_pair("dcs", tmp_path, standby={"controlPlaneVIP": "not-an-ip"})
    with pytest.raises(SpecError) as caught:
        load_pair(path)
    bad = [f for f in caught.value.findings if f.path == "standby.controlPlaneVIP"]
    assert bad and bad[0].line == next(i for i, line in enumerate(path.read_text().splitlines(), 1)
                                        if "not-an-ip" in line)


@pytest.mark.parametrize("change, path, words", [
    ({"standby": {"controlPlaneVIP": PRIMARY_VIP}}, "standby.controlPlaneVIP",
     "primary and standby VIPs are the same"),
    ({"standby": {"hostIP": "192.168.1.10"}}, "standby.hostIP", "both sides use the bootstrap host"),
], ids=["same-vip", "same-bootstrap-host"])
def test_distinct_vips_and_bootstrap_hosts(change: dict[str, Any], path: str, words: str, tmp_path: Path,
                                           canaries: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    pair = write_pair("dcs", tmp_path, **change)
    code, _out, err = run_cli(capsys, "dr", "validate", "-f", str(pair))
    assert code == 3
    lines = pair.read_text().splitlines()
    start = lines.index("standby:")
    line = next(i for i, text in enumerate(lines, 1)
                if i > start and text.startswith("  " + path.split(".")[1] + ":"))
    assert f"{pair}:{line}: {path}: {words}" in err and "Traceback" not in err


def test_the_other_sides_address_in_a_provider_field_is_refused(tmp_path: Path, canaries: dict[str, str],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Bare Metal serves the seed ISO from each side's bootstrap host: a standby that inherits
    the primary's image URL is caught on the rendered objects, not only on the spec."""
    data = pair_data("baremetal", tmp_path)
    del data["standby"]["platform"]
    code, _out, err = run_cli(capsys, "dr", "validate", "-f", str(write(tmp_path / "pair.yaml", data)))
    assert code == 3
    assert "standby: SeedImage/global-seed-image spec.baseImage: holds the primary side's bootstrap " \
           "host 192.168.1.10" in err


def test_bare_metal_pair_certificate_must_cover_both_vips(tmp_path: Path, canaries: dict[str, str],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from testcerts import write_cert

    data = pair_data("baremetal", tmp_path)
    cert, key = write_cert(tmp_path / "narrow", dns=["platform.example.com"], ips=[PRIMARY_VIP])
    data["base"]["console"]["cert"]["thirdParty"] = {"certificate": {"file": str(cert)},
                                                     "privateKey": {"file": str(key)}}
    code, _out, err = run_cli(capsys, "dr", "validate", "-f", str(write(tmp_path / "pair.yaml", data)))
    assert code == 3 and STANDBY_VIP in err and "console.cert.thirdParty" in err


def two_specs(tmp_path: Path, provider: str = "dcs") -> tuple[dict[str, Any], dict[str, Any]]:
    """The two single-side specs a pair file stands for (as a user with two files has them)."""
    data = pair_data(provider, tmp_path)
    sides = []
    for role in ("primary", "standby"):
        spec = json.loads(json.dumps(data["base"]))
        spec.update(data[role])
        spec["dr"] = {**spec["dr"], "role": role, "primaryVIP": PRIMARY_VIP, "standbyVIP": STANDBY_VIP}
        sides.append(spec)
    return sides[0], sides[1]


def test_two_single_side_specs_are_checked_together(tmp_path: Path, canaries: dict[str, str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    primary, standby = two_specs(tmp_path)
    a, b = write(tmp_path / "primary.yaml", primary), write(tmp_path / "standby.yaml", standby)
    code, out, err = run_cli(capsys, "dr", "validate", "-f", str(b), "-f", str(a))  # either order
    assert code == 0, err
    assert "valid DR pair" in out


def test_a_key_mismatch_is_reported_by_digest_never_by_value(tmp_path: Path, canaries: dict[str, str],
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    other = base64.b64encode(b"another-32-byte-key-for-the-pair").decode()
    monkeypatch.setenv("STANDBY_KEY", other)
    primary, standby = two_specs(tmp_path)
    standby["dr"]["encryptionKey"] = {"env": "STANDBY_KEY"}
    a, b = write(tmp_path / "primary.yaml", primary), write(tmp_path / "standby.yaml", standby)
    code, out, err = run_cli(capsys, "dr", "validate", "-f", str(a), "-f", str(b))
    assert code == 3
    assert "the sides' encryption keys differ (sha256 " in err
    for value in (canaries["ENCRYPTION_KEY"], other):
        assert value not in out + err
    code, out, _err = run_cli(capsys, "dr", "validate", "-f", str(a), "-f", str(b), "-o", "json")
    doc = json.loads(out)
    assert code == 3 and not doc["valid"]
    assert canaries["ENCRYPTION_KEY"] not in out and other not in out


@pytest.mark.parametrize("path, value, words", [
    ("dr.primaryVIP", "192.168.3.100", "the standby's etcd-sync would follow the wrong cluster"),
    ("k8sVersion", "v1.33.1-1", "differs between the sides"),
], ids=["etcd-sync-target", "shared-field"])
def test_cross_side_rules_of_two_specs(path: str, value: str, words: str, tmp_path: Path,
                                       canaries: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    from specs import setpath

    primary, standby = two_specs(tmp_path)
    setpath(standby, path, value)
    a, b = write(tmp_path / "primary.yaml", primary), write(tmp_path / "standby.yaml", standby)
    code, _out, err = run_cli(capsys, "dr", "validate", "-f", str(a), "-f", str(b))
    assert code == 3 and words in err, err


def test_validate_with_several_files_validates_every_file(tmp_path: Path, canaries: dict[str, str],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from specs import example

    good = write(tmp_path / "good.yaml", example("dcs"))
    bad_data = example("dcs")
    bad_data["controlPlaneVIP"] = "not-an-ip"
    bad = write(tmp_path / "bad.yaml", bad_data)
    code, out, err = run_cli(capsys, "validate", "-f", str(bad), "-f", str(good))
    assert code == 3
    assert f"{good}: valid" in out and f"{bad}" in err and "controlPlaneVIP" in err
    code, out, err = run_cli(capsys, "validate", "-f", str(good), "-f", str(bad))  # the last one too
    assert code == 3 and f"{good}: valid" in out and "controlPlaneVIP" in err


def test_validate_of_a_pair_file_checks_the_pair(tmp_path: Path, canaries: dict[str, str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "validate", "-f", str(write_pair("hcs", tmp_path)))
    assert code == 0, err
    assert "valid DR pair" in out


# --- the key ------------------------------------------------------------------------------


def test_keygen_writes_a_fresh_aescbc_key_0600_never_printed(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "dr.key"
    code, out, err = run_cli(capsys, "dr", "keygen", "--out", str(path))
    assert code == 0, err
    key = path.read_text().strip()
    assert len(base64.b64decode(key, validate=True)) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key not in out + err and "sha256" in out
    code, _out, err = run_cli(capsys, "dr", "keygen", "--out", str(path))
    assert code == 2 and "exists" in err and path.read_text().strip() == key
    code, _out, _err = run_cli(capsys, "dr", "keygen", "--out", str(path), "--force")
    assert code == 0 and path.read_text().strip() != key
    code, _out, err = run_cli(capsys, "dr", "keygen", "--out", "-")
    assert code == 2 and "never printed" in err


# --- the DNS gate -------------------------------------------------------------------------


def test_dns_gate_shows_the_current_answer_and_what_to_do() -> None:
    with pytest.raises(GateClosed) as caught:
        check_dns("platform.example.com", STANDBY_VIP, "standby", resolver=lambda _h: [PRIMARY_VIP])
    text = str(caught.value)
    assert f"resolves to {PRIMARY_VIP} on this host, not the standby VIP {STANDBY_VIP}" in text
    assert "switch the platform domain" in text and "--dns-switched" in text
    assert check_dns("platform.example.com", STANDBY_VIP, "standby",
                     resolver=lambda _h: [STANDBY_VIP]).ok
    with pytest.raises(GateClosed, match="does not resolve here"):
        check_dns("platform.example.com", STANDBY_VIP, "standby", resolver=lambda _h: [])


# --- installed and joined -----------------------------------------------------------------


def kubeconfig_of(sb: Sandbox) -> GlobalKubeconfig:
    gc = sb.global_cluster
    assert gc is not None
    return GlobalKubeconfig(gc.kubeconfig(), f"sandbox {gc.server_url}")


def module_infos(sb: Sandbox) -> list[dict[str, Any]]:
    gc = sb.global_cluster
    assert gc is not None
    rt = gc.kinds.by_kind("cluster.alauda.io/v1alpha1", "ModuleInfo")
    assert rt is not None
    return [o for o in gc.store.list(rt)[0] if o["metadata"]["name"] == "global-etcd-sync"]


def posts(sb: Sandbox) -> int:
    gc = sb.global_cluster
    assert gc is not None
    return sum(1 for r in gc.recorder.requests if r.method == "POST" and r.path.endswith("/moduleinfoes"))


def pod_deletes(sb: Sandbox) -> set[str]:
    gc = sb.global_cluster
    assert gc is not None
    return {w.name for w in gc.recorder.writes if w.verb == "delete" and w.kind == "Pod"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_full_pair_on_two_sandboxes_installed_gated_and_joined(
        provider: str, tmp_path: Path, canaries: dict[str, str],
        sandbox_factory: Callable[..., Sandbox], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    pair = write_pair(provider, tmp_path)
    extra = fill_env(pair, monkeypatch)
    primary, standby = sandbox_factory(speed=50), sandbox_factory(speed=50)
    assert primary.address != standby.address
    argv = ["dr", "install", "-f", str(pair), "--workdir", str(tmp_path / "w"),
            "--primary-kubeconfig", str(primary.kubeconfig_path),
            "--standby-kubeconfig", str(standby.kubeconfig_path), "--poll-interval", "0.02"]
    # the DNS gate stops the standby until the platform host answers with the standby VIP
    code, out, err = run_cli(capsys, *argv, "--resolve", f"platform.example.com={PRIMARY_VIP}")
    assert code == 13, err
    assert f"resolves to {PRIMARY_VIP} on this host, not the standby VIP {STANDBY_VIP}" in err
    assert len(primary.recorder.installer_payloads) == 1 and not standby.recorder.installer_payloads
    code, out, err = run_cli(capsys, *argv, "--resolve", f"platform.example.com={STANDBY_VIP}")
    assert code == 0, err
    assert "DR pair active" in out
    # exactly one installer request per side (the re-run resumed the primary)
    assert len(primary.recorder.installer_payloads) == 1 == len(standby.recorder.installer_payloads)
    # the ModuleInfo: on the standby only, the primary VIP and the primary's base64 token
    assert module_infos(primary) == []
    (info,) = module_infos(standby)
    assert info["metadata"]["labels"] == {"cpaas.io/cluster-name": "global",
                                          "cpaas.io/module-name": "etcd-sync",
                                          "cpaas.io/module-type": "plugin"}
    pgc = primary.global_cluster
    assert pgc is not None
    assert info["spec"] == {"version": ETCD_SYNC_VERSION, "config": {
        "monitor_check_interval": 1, "detail": False, "active_cluster_vip": PRIMARY_VIP,
        "active_cluster_token": base64.b64encode(pgc.k8sadmin_token.encode()).decode()}}
    # the seed's restarts on both sides
    for sb in (primary, standby):
        deleted = pod_deletes(sb)
        for prefix in ("alertmanager", "vmselect", "vminsert", "cpaas-elasticsearch", "cluster-transformer"):
            assert any(name.startswith(prefix) for name in deleted), (prefix, deleted)
    # no token and no key anywhere it wrote
    sgc = standby.global_cluster
    assert sgc is not None
    secrets = [*canaries.values(), *extra.values(), pgc.k8sadmin_token, sgc.k8sadmin_token,
               base64.b64encode(pgc.k8sadmin_token.encode()).decode(),
               base64.b64encode(sgc.k8sadmin_token.encode()).decode()]
    written = [p.read_bytes() for p in (tmp_path / "w").rglob("*") if p.is_file()]
    for value in secrets:
        assert value not in out + err
        assert not [b for b in written if value.encode() in b]
    # nor in a support bundle of either side
    if provider == "dcs":
        import tarfile

        for side, sb in (("primary", primary), ("standby", standby)):
            bundle = tmp_path / f"{side}.tar.gz"
            code, out, err = run_cli(capsys, "gather", "--kubeconfig", str(sb.kubeconfig_path),
                                     "--workdir", str(tmp_path / "w" / side), "--out", str(bundle))
            assert code == 0, err
            with tarfile.open(bundle) as tar:
                members = [tar.extractfile(m) for m in tar.getmembers() if m.isfile()]
                data = [m.read() for m in members if m is not None]
            assert len(data) > 3
            for value in secrets:
                assert not [b for b in data if value.encode() in b], (side, value[:6])
    # a re-run finds everything done: no second installer request, no second ModuleInfo
    code, out, err = run_cli(capsys, *argv, "--dns-switched")
    assert code == 0, err
    assert "etcd-sync: done earlier" in out
    assert posts(standby) == 1
    assert len(standby.recorder.installer_payloads) == 1
    # dr join with the same --workdir finds the join dr install recorded: no second restart
    restarted = {side: len(pod_deletes(sb)) for side, sb in (("p", primary), ("s", standby))}
    code, out, err = run_cli(capsys, "dr", "join", "-f", str(pair), "--workdir", str(tmp_path / "w"),
                             "--primary-kubeconfig", str(primary.kubeconfig_path),
                             "--standby-kubeconfig", str(standby.kubeconfig_path))
    assert code == 0, err
    assert "restart-primary: done earlier" in out
    assert {side: len(pod_deletes(sb)) for side, sb in (("p", primary), ("s", standby))} == restarted


@pytest.fixture
def installed_pair(tmp_path: Path, canaries: dict[str, str], sandbox_factory: Callable[..., Sandbox],
                   capsys: pytest.CaptureFixture[str]) -> tuple[Path, Sandbox, Sandbox]:
    """A DCS pair installed side by side (``--side``), not joined yet."""
    pair = write_pair("dcs", tmp_path)
    primary, standby = sandbox_factory(speed=50), sandbox_factory(speed=50)
    for side, sb in (("primary", primary), ("standby", standby)):
        code, out, err = run_cli(capsys, "dr", "install", "-f", str(pair), "--side", side,
                                 "--kubeconfig", str(sb.kubeconfig_path), "--workdir", str(tmp_path / "w"),
                                 "--poll-interval", "0.02", "--dns-switched")
        assert code == 0, err
    assert "DR is NOT active yet" in out and "acp-install dr join" in out
    return pair, primary, standby


def join_argv(pair: Path, primary: Sandbox, standby: Sandbox, workdir: Path) -> list[str]:
    return ["dr", "join", "-f", str(pair), "--workdir", str(workdir),
            "--primary-kubeconfig", str(primary.kubeconfig_path),
            "--standby-kubeconfig", str(standby.kubeconfig_path)]


def test_a_wrong_standby_token_is_a_clear_error_not_retried(
        installed_pair: tuple[Path, Sandbox, Sandbox], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    pair, primary, standby = installed_pair
    gc = standby.global_cluster
    assert gc is not None
    gc.api.apply_object({"apiVersion": "v1", "kind": "Secret",
                         "metadata": {"name": "k8sadmin", "namespace": "cpaas-system"},
                         "data": {"token": base64.b64encode(b"not-the-token").decode()}},
                        manager="test")
    code, _out, err = run_cli(capsys, *join_argv(pair, primary, standby, tmp_path / "j"))
    assert code == DRJoinError.exit_code
    assert "refused the ModuleInfo (401)" in err and "not retried" in err
    assert posts(standby) == 1 and module_infos(standby) == []
    assert "not-the-token" not in err


def test_a_wrong_ca_is_refused(installed_pair: tuple[Path, Sandbox, Sandbox], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    pair, primary, standby = installed_pair
    pgc, sgc = primary.global_cluster, standby.global_cluster
    assert pgc is not None and sgc is not None
    wrong = sgc.kubeconfig().replace(base64.b64encode(sgc.ca_pem).decode(),
                                     base64.b64encode(pgc.ca_pem).decode())
    assert wrong != sgc.kubeconfig()
    (tmp_path / "standby.kubeconfig").write_text(wrong)
    code, _out, err = run_cli(capsys, "dr", "join", "-f", str(pair), "--workdir", str(tmp_path / "j"),
                              "--primary-kubeconfig", str(primary.kubeconfig_path),
                              "--standby-global-kubeconfig", str(tmp_path / "standby.kubeconfig"))
    assert code != 0 and "Traceback" not in err
    assert "certificate" in err.lower() or "tls" in err.lower()
    assert posts(standby) == 0 and module_infos(standby) == []


def test_an_interrupted_join_resumes_without_a_second_moduleinfo(
        installed_pair: tuple[Path, Sandbox, Sandbox], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    pair, primary, standby = installed_pair
    loaded = load_pair(pair)
    lines: list[str] = []

    def join() -> Join:
        return Join(loaded.primary.spec, loaded.standby.spec, kubeconfig_of(primary), kubeconfig_of(standby),
                    workdir=tmp_path / "j", redactor=Redactor(), say=lines.append)

    def interrupted(self: Join) -> None:
        raise Interrupted("interrupted between join steps")

    with monkeypatch.context() as m:
        m.setattr(Join, "_restart_primary", interrupted)
        with pytest.raises(Interrupted):
            join().run()
    assert posts(standby) == 1 and not pod_deletes(primary)
    state = json.loads((tmp_path / "j" / ".acp-install" / "dr-join.json").read_text())
    assert state["done"] == ["etcd-sync"]
    assert join().run() == ["restart-primary", "restart-standby"]
    assert posts(standby) == 1 and len(module_infos(standby)) == 1
    assert pod_deletes(primary) and pod_deletes(standby)
    assert "dr join: etcd-sync: done earlier" in lines
    # the record holds step names and VIPs only
    assert set(state) == {"done", "primaryVIP", "standbyVIP"}


def test_an_existing_moduleinfo_following_another_cluster_is_not_overwritten(
        installed_pair: tuple[Path, Sandbox, Sandbox], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    pair, primary, standby = installed_pair
    gc = standby.global_cluster
    assert gc is not None
    gc.api.apply_object({"apiVersion": "cluster.alauda.io/v1alpha1", "kind": "ModuleInfo",
                         "metadata": {"name": "global-etcd-sync"},
                         "spec": {"version": "x", "config": {"active_cluster_vip": "192.168.9.9"}}},
                        manager="test")
    code, _out, err = run_cli(capsys, *join_argv(pair, primary, standby, tmp_path / "j"))
    assert code == DRJoinError.exit_code and "follows 192.168.9.9" in err
    assert posts(standby) == 0


def test_join_needs_each_sides_cluster(tmp_path: Path, canaries: dict[str, str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_cli(capsys, "dr", "join", "-f", str(write_pair("dcs", tmp_path)))
    assert code == 2 and "--primary-kubeconfig" in err and "Traceback" not in err


def test_dr_install_refuses_a_file_that_is_not_a_pair(tmp_path: Path, canaries: dict[str, str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from specs import example

    spec = write(tmp_path / "one.yaml", example("dcs"))
    code, _out, err = run_cli(capsys, "dr", "install", "-f", str(spec), "--side", "primary")
    assert code == 2 and "not a kind: DRPair file" in err
    assert os.listdir(tmp_path) == ["one.yaml"]


def test_the_same_key_read_from_different_places_is_the_same_key(
        tmp_path: Path, canaries: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("STANDBY_KEY", canaries["ENCRYPTION_KEY"])
    primary, standby = two_specs(tmp_path)
    standby["dr"]["encryptionKey"] = {"env": "STANDBY_KEY"}
    a, b = write(tmp_path / "primary.yaml", primary), write(tmp_path / "standby.yaml", standby)
    code, out, err = run_cli(capsys, "dr", "validate", "-f", str(a), "-f", str(b))
    assert code == 0, err
    assert "valid DR pair" in out


def test_a_join_record_of_another_pair_counts_for_nothing(
        installed_pair: tuple[Path, Sandbox, Sandbox], tmp_path: Path) -> None:
    pair, primary, standby = installed_pair
    loaded = load_pair(pair)
    record = tmp_path / "j" / ".acp-install" / "dr-join.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"done": ["etcd-sync", "restart-primary", "restart-standby"],
                                  "primaryVIP": "192.168.7.1", "standbyVIP": "192.168.7.2"}))
    join = Join(loaded.primary.spec, loaded.standby.spec, kubeconfig_of(primary), kubeconfig_of(standby),
                workdir=tmp_path / "j", redactor=Redactor(), say=lambda _line: None)
    assert join.done() == []
    assert join.run() == ["etcd-sync", "restart-primary", "restart-standby"]
    assert posts(standby) == 1


def test_a_kubeconfig_that_skips_tls_verification_is_refused_before_any_token_is_read(
        installed_pair: tuple[Path, Sandbox, Sandbox], tmp_path: Path) -> None:
    import yaml

    pair, primary, standby = installed_pair
    loaded = load_pair(pair)
    pgc = primary.global_cluster
    assert pgc is not None
    config = yaml.safe_load(pgc.kubeconfig())
    for cluster in config["clusters"]:
        cluster["cluster"].pop("certificate-authority-data", None)
        cluster["cluster"]["insecure-skip-tls-verify"] = True
    insecure = GlobalKubeconfig(yaml.safe_dump(config), "primary.kubeconfig")
    join = Join(loaded.primary.spec, loaded.standby.spec, insecure, kubeconfig_of(standby),
                workdir=tmp_path / "j", redactor=Redactor(), say=lambda _line: None)
    with pytest.raises(DRJoinError, match="skips TLS verification"):
        join.run()
    for sb in (primary, standby):
        gc = sb.global_cluster
        assert gc is not None
        assert not [r for r in gc.recorder.requests if r.path.endswith("/secrets/k8sadmin")]


def test_against_a_sandbox_the_dns_gate_asks_no_resolver(
        tmp_path: Path, canaries: dict[str, str], sandbox_factory: Callable[..., Sandbox],
        capsys: pytest.CaptureFixture[str]) -> None:
    """A sandbox stands in for the site's DNS: the standby's gate looks nothing up off the host."""
    pair = write_pair("dcs", tmp_path)
    standby = sandbox_factory(speed=50)
    with audit_events("socket.getaddrinfo", 0) as looked_up:
        code, out, err = run_cli(capsys, "dr", "install", "-f", str(pair), "--side", "standby",
                                 "--kubeconfig", str(standby.kubeconfig_path), "--workdir", str(tmp_path / "w"),
                                 "--poll-interval", "0.02")
    assert code == 0, err
    assert "DNS gate: platform.example.com -> 192.168.2.100 taken as switched: the standby's minialauda " \
           "is a sandbox" in out
    assert "platform.example.com" not in looked_up
    assert all(not isinstance(h, str) or h.startswith("127.") or h == "localhost" for h in looked_up), looked_up
