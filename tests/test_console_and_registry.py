"""Step 8 console certificate and the two independent registry credentials (issue 9, part 2)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from acp_install.cli.main import main

from specs import example, render, write
from support import objects_of
from testcerts import write_cert


def _payload(out: Path) -> dict[str, Any]:
    return json.loads((out / "installer-config.json").read_text())


def _apps(out: Path) -> list[dict[str, Any]]:
    return [o for o in objects_of((out / "appreleases.yaml").read_text()) if o["kind"] == "AppRelease"]


def _third_party(tmp_path: Path, **sans: list[str]) -> dict[str, Any]:
    cert, key = write_cert(tmp_path / "certs", **sans)
    return {"certificate": {"file": str(cert)}, "privateKey": {"file": str(key)}}


def test_third_party_certificate_replaces_self_signed(tmp_path: Path, canaries: dict[str, str]) -> None:
    data = example("dcs")
    tp = _third_party(tmp_path, dns=["platform.example.com"])
    data["console"] = {"cert": {"thirdParty": tp}}
    out = render(tmp_path / "plain", data)
    cert = _payload(out)["console"]["cert"]
    assert list(cert) == ["thirdParty"]
    assert set(cert["thirdParty"]) == {"certificate", "privateKey"}
    assert "BEGIN" not in (out / "installer-config.json").read_text()  # placeholders only

    full = render(tmp_path / "full", data, "--include-secrets")
    sent = _payload(full)["console"]["cert"]["thirdParty"]
    # a secret file's one trailing newline is not part of the value (as for every secret)
    for key in ("certificate", "privateKey"):
        assert base64.b64decode(sent[key]) == \
            Path(tp[key]["file"]).read_bytes().removesuffix(b"\n")
    assert (full / "installer-config.json").stat().st_mode & 0o777 == 0o600


def test_pkcs12_is_sent_under_the_key_you_name(tmp_path: Path, canaries: dict[str, str]) -> None:
    data = example("dcs")
    tp = _third_party(tmp_path, dns=["platform.example.com"])
    p12 = tmp_path / "platform.p12.b64"
    p12.write_text(base64.b64encode(b"\x30\x82not-really-pkcs12").decode() + "\n")
    tp.update(pkcs12={"file": str(p12)}, keys={"pkcs12": "pfx", "certificate": "crt"})
    data["console"] = {"cert": {"thirdParty": tp}}
    sent = _payload(render(tmp_path, data, "--include-secrets"))["console"]["cert"]["thirdParty"]
    assert set(sent) == {"crt", "privateKey", "pfx"}
    assert base64.b64decode(sent["pfx"]) == b"\x30\x82not-really-pkcs12"


def test_certificate_must_cover_the_platform_host(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    data = example("dcs")
    data["console"] = {"cert": {"thirdParty": _third_party(tmp_path, dns=["other.example.org"])}}
    spec = write(tmp_path / "spec.yaml", data)
    assert main(["validate", "-f", str(spec)]) == 3
    err = capsys.readouterr().err
    assert "console.cert.thirdParty.certificate: the certificate's SANs do not cover " \
           "platform.example.com" in err


def test_a_file_that_is_not_a_certificate_is_refused_without_quoting_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("canary-not-a-certificate-5521\n")
    data = example("dcs")
    data["console"] = {"cert": {"thirdParty": {"certificate": {"file": str(junk)},
                                               "privateKey": {"file": str(junk)}}}}
    assert main(["validate", "-f", str(write(tmp_path / "spec.yaml", data))]) == 3
    err = capsys.readouterr().err
    assert "is not a PEM certificate chain" in err and "canary-not-a-certificate" not in err


def test_bootstrap_pull_secret_without_a_step8_account(tmp_path: Path) -> None:
    data = example("dcs")
    data["credentials"]["bootstrapRegistryAuth"] = True
    out = render(tmp_path, data)
    for app in _apps(out):
        assert app["spec"]["source"]["chartPullSecret"] == "global-registry-auth"
        assert app["spec"]["values"]["global"]["registry"]["imagePullSecrets"] == ["global-registry-auth"]
    assert set(_payload(out)["registry"]) == {"domain"}


def test_step8_account_with_an_anonymous_bootstrap_registry(tmp_path: Path) -> None:
    data = example("dcs")
    data["credentials"]["registry"] = {"username": "reg", "password": {"env": "REG_PW"}}
    data["credentials"]["bootstrapRegistryAuth"] = False
    out = render(tmp_path, data)
    for app in _apps(out):
        assert "chartPullSecret" not in app["spec"]["source"]
        assert "imagePullSecrets" not in app["spec"]["values"]["global"]["registry"]
    assert set(_payload(out)["registry"]) == {"domain", "username", "password"}


def test_account_alone_keeps_the_earlier_coupling(tmp_path: Path) -> None:
    data = example("dcs")
    data["credentials"]["registry"] = {"username": "reg", "password": {"env": "REG_PW"}}
    out = render(tmp_path, data)
    assert all(a["spec"]["source"]["chartPullSecret"] == "global-registry-auth" for a in _apps(out))


def test_node_registry_on_another_host_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = example("dcs")
    data["nodeRegistryAddress"] = "192.168.10.5:11443"
    assert main(["validate", "-f", str(write(tmp_path / "spec.yaml", data))]) == 0
    err = capsys.readouterr().err
    assert "nodeRegistryAddress: 192.168.10.5 is not hostIP 192.168.1.10" in err


def test_bare_metal_dr_pair_without_third_party_certificate(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = example("baremetal")
    data["dr"] = {"role": "primary", "primaryVIP": "192.168.1.100", "standbyVIP": "192.168.2.100",
                  "encryptionKey": {"env": "K"}}
    data["registryDomain"] = "platform.example.com:11443"
    data["platform"]["documentedFields"] = {"encryptionProviderConfigRef": True}
    data["platform"]["dr"] = {"serviceAccountKey": {"env": "SA"}, "serviceAccountPublicKey": {"env": "SP"}}
    spec = write(tmp_path / "spec.yaml", data)
    out = tmp_path / "out"
    assert main(["render", "-f", str(spec), "-o", str(out)]) == 3
    err = capsys.readouterr().err
    assert "console.cert.thirdParty: a Bare Metal DR pair needs one thirdParty" in err
    assert "Traceback" not in err and not out.exists()


def test_private_key_never_leaves_its_file_without_include_secrets(
        tmp_path: Path, canaries: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """Canary scan of everything render and validate write or print (issue 9: new bytes)."""
    from acp_install.testing.canaries import encodings

    data = example("baremetal")
    tp = _third_party(tmp_path, dns=["platform.example.com"])
    data["console"] = {"cert": {"thirdParty": tp}}
    key_text = Path(tp["privateKey"]["file"]).read_text().removesuffix("\n")
    spec = write(tmp_path / "spec.yaml", data)
    out = render(tmp_path, data)
    assert main(["validate", "-f", str(spec)]) == 0
    blobs = [p.read_bytes() for p in out.rglob("*") if p.is_file()]
    blobs.append("".join(capsys.readouterr()).encode())
    body = key_text.splitlines()[1].encode()  # a line of the key's own base64
    for blob in blobs:
        assert body not in blob
        assert not any(form in blob for form in encodings(key_text))
