"""Secrets as a type, all the way: what the core refuses and what the conformance scan catches.

Each rule is proven with a deliberately broken variant of the fake provider (leakyprovider.py):
a credential typed ``str`` is refused when the provider is loaded, a secret in a label or an
annotation is refused while planning, and a provider leaking a file-referenced secret into a
rendered file fails the conformance suite.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import leakyprovider
import pytest
from test_hooks import FOO_SPEC, make_dist

from acp_install import Provider, load_provider, parse
from acp_install.cli.main import main
from acp_install.errors import PluginError
from acp_install.plan import build_plan
from acp_install.plugins import installed
from acp_install.provider import SecretRef, doc
from acp_install.secret_fields import is_credential, untyped_credentials
from acp_install.secrets import Base64Of, metadata_secrets
from acp_install.spec.model import InstallSpec
from acp_install.testing.canaries import Canaries, encodings, new_canary
from acp_install.yamlio import dump

pytest_plugins = ["pytester"]


# --- credential fields must be secret references (refused at load) ------------------------------


def _field(name: str, tp: Any = str, **meta: Any) -> attrs.Attribute[Any]:
    cls = attrs.make_class("Probe", {name: attrs.field(type=tp, metadata=meta)})
    return attrs.fields(cls)[0]


@pytest.mark.parametrize("name", ["password", "adminPassword", "passwd", "api_key", "authKey",
                                  "secretKey", "privateKey", "token", "bearerToken", "secret",
                                  "clientSecret", "credential", "encryptionKey", "apiKeys",
                                  # a credential noun before another word, or after a qualifier
                                  "hostPassword", "accessToken", "secretAccessKey", "accessSecret",
                                  "privateKeyPEM", "passwordValue", "tokenValue"])
def test_credential_names(name: str) -> None:
    assert is_credential(_field(name))


@pytest.mark.parametrize("name", ["keyFile", "passwordFile", "tokenPath", "passwordEnv",
                                  "providerSecretName", "secretType", "tokenTTL", "publicKey",
                                  "serviceAccountPublicKey", "accessKey", "sshAuthorizedKeys",
                                  "imagePullSecrets", "hostKey", "monkey", "keyboardLayout",
                                  "authUser", "username"])
def test_names_that_are_not_credentials(name: str) -> None:
    assert not is_credential(_field(name))


def test_doc_text_and_explicit_metadata() -> None:
    assert is_credential(_field("login", **doc("Password of the Foo API user.")))
    assert is_credential(_field("vaultItem", **doc("Bearer token for the API.")))
    # a name that says what the value is wins over prose mentioning a credential
    assert not is_credential(_field("tokenSecretName", **doc("Name of the API token Secret.")))
    assert not is_credential(_field("region", **doc("Region of the Foo API.")))
    assert is_credential(_field("opaque", **doc("Anything.", secret=True)))
    assert not is_credential(_field("accessToken", **doc("A public id.", secret=False)))


@attrs.frozen
class _Inner:
    password: str


@attrs.frozen
class _Typed:
    token: SecretRef
    optional: SecretRef | None = attrs.field(default=None, metadata=doc("A password.", secret=True))
    many: dict[str, SecretRef] = attrs.field(factory=dict, metadata=doc("Tokens.", secret=True))
    importSecrets: bool = False  # a flag cannot hold a secret
    inner: list[_Inner] = attrs.field(factory=list)


def test_untyped_credentials_walks_sections_and_accepts_secret_types() -> None:
    assert [(f.path, f.type_name) for f in untyped_credentials(_Typed, "platform")] == [
        ("platform.inner.password", "str")]


def test_core_spec_and_bundled_providers_type_every_credential() -> None:
    assert list(untyped_credentials(InstallSpec)) == []
    for pid in ("dcs", "vsphere", "hcs", "baremetal"):
        assert pid in installed()
        provider = load_provider(pid)  # the load runs the rule
        assert list(untyped_credentials(provider.info.platform_type, "platform")) == []


def test_str_password_refused_at_load() -> None:
    with pytest.raises(PluginError) as err:
        Provider(leakyprovider.StrPassword(), distribution="acp-install-leaky")
    text = str(err.value)
    assert err.value.distribution == "acp-install-leaky" and err.value.exit_code == 5
    assert "platform.login.password (leakyprovider.Login.password) is a credential but typed str" in text
    assert "platform.vaultItem (leakyprovider.StrPasswordPlatform.vaultItem)" in text
    assert "keyFile" not in text and "publicKey" not in text
    assert "type it as SecretRef" in text


@pytest.fixture
def leaky_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    for name, attr in [("strpw", "str_password"), ("annotating", "annotates_token")]:
        make_dist(site, name, f"leakyprovider:{attr}")
    monkeypatch.syspath_prepend(str(site))
    return site


def test_str_password_refused_by_the_cli_and_listed_as_broken(
        leaky_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(dump({**FOO_SPEC, "provider": "strpw"}))
    assert main(["validate", "-f", str(spec)]) == 5
    err = capsys.readouterr().err
    assert "acp-install-strpw" in err and "Login.password" in err and "Traceback" not in err
    assert main(["providers"]) == 0  # one broken provider does not break the listing
    captured = capsys.readouterr()
    assert "dcs" in captured.out and "acp-install-strpw" in captured.out + captured.err


# --- secrets refused in labels and annotations (refused at plan) --------------------------------


def test_secret_ref_in_annotation_refused_at_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_PW", "canary-admin")
    monkeypatch.setenv("FOO_TOKEN", "canary-token")
    provider = Provider(leakyprovider.AnnotatesToken(), distribution="acp-install-leaky")
    loaded = parse(FOO_SPEC, provider=provider)
    with pytest.raises(PluginError) as err:
        build_plan(loaded)
    text = str(err.value)
    assert "'foo' (acp-install-leaky)" in text and "FooCluster/global" in text
    assert "metadata.annotations['foo.example/token']" in text
    assert "canary" not in text and err.value.distribution == "acp-install-leaky"


def test_secret_in_annotation_refused_by_render_nothing_written(
        leaky_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ADMIN_PW", "canary-admin")
    monkeypatch.setenv("FOO_TOKEN", "canary-token")
    spec = tmp_path / "spec.yaml"
    spec.write_text(dump({**FOO_SPEC, "provider": "annotating"}))
    out = tmp_path / "out"
    assert main(["render", "-f", str(spec), "-o", str(out)]) == 5
    err = capsys.readouterr().err
    assert "FooCluster/global" in err and "Traceback" not in err and "canary" not in err
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(("obj", "path"), [
    ({"metadata": {"name": "a", "labels": {"k": Base64Of(SecretRef(env="X"))}}},
     "metadata.labels['k']"),
    ({"metadata": {"name": "a"},
      "spec": {"template": {"metadata": {"annotations": {"k": [SecretRef(file="/s")]}}}}},
     "spec.template.metadata.annotations['k']"),
])
def test_metadata_secrets_finds_nested_metadata(obj: Mapping[str, Any], path: str) -> None:
    assert list(metadata_secrets(obj)) == [path]


def test_metadata_secrets_ignores_secrets_in_data() -> None:
    assert list(metadata_secrets({"metadata": {"name": "s", "labels": {"a": "b"}},
                                  "stringData": {"token": SecretRef(env="X")}})) == []


# --- the conformance suite's canary scan ----------------------------------------------------------


def test_canary_scan_finds_base64_at_every_alignment() -> None:
    value = new_canary()
    canaries = Canaries(Path("spec.yaml"), {"file /root/x": value})
    for prefix in ("", "a", "ab", "abc"):
        text = base64.b64encode(f"{prefix}token = {value}\n".encode()).decode()
        assert canaries.leaks(text) == ["file /root/x"]
    assert canaries.leaks(base64.b64encode(new_canary().encode())) == []
    assert len(encodings(value)) > 1


CONFORMANCE = """
from acp_install.testing.conformance import ProviderConformance


class TestLeaky(ProviderConformance):
    provider_id = "leaky"
"""


@pytest.mark.parametrize("attr", ["renders_token", "encodes_token"])
def test_conformance_catches_a_file_secret_leaked_into_a_rendered_file(
        pytester: pytest.Pytester, attr: str) -> None:
    site = pytester.path / "site"
    make_dist(site, "leaky", f"leakyprovider:{attr}")
    pytester.syspathinsert(site)
    pytester.makepyfile(test_leaky_conformance=CONFORMANCE)
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-k", "secrets_stay_out")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines([
        "*FAILED*test_secrets_stay_out_of_the_plan*",
        "*FAILED*test_secrets_stay_out_of_rendered_files*",
    ])
    result.stdout.fnmatch_lines(["*secret from file /root/foo.token leaked into*global.yaml*"])


def test_conformance_passes_a_clean_file_secret_provider(pytester: pytest.Pytester) -> None:
    """The same checks pass when the file-referenced secret is only used where it belongs (so
    the failures above are the leak, not the file reference)."""
    site = pytester.path / "site"
    make_dist(site, "leaky", "leakyprovider:file_token_example")
    pytester.syspathinsert(site)
    pytester.makepyfile(test_leaky_conformance=CONFORMANCE)
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-k", "secrets_stay_out")
    result.assert_outcomes(passed=3)

