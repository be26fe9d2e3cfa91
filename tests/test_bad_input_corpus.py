"""The bad-input corpus: hundreds of table-driven mistakes, each ending the documented way.

Spec files (every provider), the files a spec points at, the command line, kubeconfigs, plugin
mistakes and raw HTTP to the sandbox. Every case asserts the documented exit code (or HTTP
status), a message naming the field path, ``file:line`` or option, no traceback, nothing
written or applied — and, for the sandbox, that it still serves afterwards. Every run carries
the canary secrets and its output is scanned for them.

tests/test_bad_input.py holds the hand-written DCS cases with exact messages; this table is
generated where a rule is uniform (every required field, every typed field, every provider).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from acp_install.cli.main import main
from acp_install_sandbox import Sandbox
from acp_install_sandbox.pytest_plugin import start_sandbox

from specs import DELETE, example, setpath, write
from support import CANARIES

PROVIDERS = ("dcs", "vsphere", "hcs", "baremetal")
REQUIRED = ("provider", "hostIP", "controlPlaneVIP", "platformHost", "registryDomain", "k8sVersion",
            "packages", "credentials", "platform")
STRINGS = ("hostIP", "controlPlaneVIP", "platformHost", "registryDomain", "k8sVersion", "clusterCIDR",
           "serviceCIDR", "ingressClassName")
MAPPINGS = ("packages", "credentials", "controlPlane", "console", "platform")
PLATFORM_KEYS = {p: sorted(example(p)["platform"]) for p in PROVIDERS}

Case = tuple[str, Callable[[dict[str, Any]], Any], int, str]


def _spec_cases() -> Iterator[tuple[str, str, Callable[[dict[str, Any]], Any], int, str]]:
    for p in PROVIDERS:
        for field in REQUIRED:
            yield (p, f"missing-{field}", lambda d, f=field: setpath(d, f, DELETE), 3,
                   f"{field}: required field missing")
        for field in STRINGS:
            yield (p, f"list-for-{field}", lambda d, f=field: setpath(d, f, [1]), 3, f"{field}: expected a string")
        for field in MAPPINGS:
            yield (p, f"string-for-{field}", lambda d, f=field: setpath(d, f, "oops"), 3,
                   f"{field}: expected a mapping")
        yield (p, "unknown-top-key", lambda d: setpath(d, "zzzTop", 1), 3, "zzzTop: unknown field")
        yield (p, "unknown-platform-key", lambda d: setpath(d, "platform.zzzPlat", 1), 3,
               "platform.zzzPlat: unknown field")
        for key in PLATFORM_KEYS[p]:
            yield (p, f"platform-{key}-garbage", lambda d, k=key: setpath(d, f"platform.{k}", {"zzz": {"zzz": 1}}),
                   3, f"platform.{key}")


SPEC_CASES = list(_spec_cases())


def test_corpus_is_large_enough() -> None:
    total = (len(SPEC_CASES) + len(FILE_CASES) + len(CLI_CASES) + len(KUBECONFIG_CASES)
             + len(HTTP_CASES) + len(PLUGIN_CASES))
    assert total >= 200, total


def _no_canary(text: str) -> None:
    for name, value in CANARIES.items():
        assert value not in text and base64.b64encode(value.encode()).decode() not in text, name


@pytest.mark.parametrize(("provider", "mutate", "code", "needle"), [c[0:1] + c[2:] for c in SPEC_CASES],
                         ids=[f"{c[0]}-{c[1]}" for c in SPEC_CASES])
def test_bad_spec_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str], canaries: dict[str, str],
                         provider: str, mutate: Callable[[dict[str, Any]], Any], code: int, needle: str) -> None:
    data = example(provider)
    mutate(data)
    spec = write(tmp_path / "spec.yaml", data)
    out = tmp_path / "out"
    assert main(["render", "-f", str(spec), "--output-dir", str(out)]) == code
    err = capsys.readouterr().err
    assert needle in err, err
    assert "Traceback" not in err and "internal error" not in err
    assert f"{spec}:" in err or "required field missing" in needle  # located at file:line
    assert not out.exists()
    _no_canary(err)


# --- spec files that are not specs -------------------------------------------------------------------

def _text(content: str) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        path.write_text(content)
        return path
    return make


def _bytes(content: bytes) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        path.write_bytes(content)
        return path
    return make


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _dir(path: Path) -> Path:
    path.mkdir()
    return path


def _symlink_loop(path: Path) -> Path:
    path.symlink_to(path)
    return path


FILE_CASES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("empty", _text(""), "expected one YAML document, found 0"),
    ("comments-only", _text("# nothing\n"), "expected one YAML document, found 0"),
    ("scalar", _text("just text\n"), "the spec must be a YAML mapping"),
    ("list", _text("- provider: dcs\n"), "the spec must be a YAML mapping"),
    ("two-documents", _text("provider: dcs\n---\nprovider: dcs\n"), "expected one YAML document, found 2"),
    ("unclosed-flow", _text("provider: dcs\nhostIP: [x\n"), "not valid YAML"),
    ("unclosed-quote", _text('provider: "dcs\n'), "not valid YAML"),
    ("tab-indent", _text("provider: dcs\nplatform:\n\tx: 1\n"), "not valid YAML"),
    ("duplicate-key", _text("provider: dcs\nprovider: vsphere\n"), "not valid YAML"),
    ("undefined-alias", _text("provider: *nope\n"), "not valid YAML"),
    ("bad-indent", _text("provider: dcs\n  hostIP: 1\n"), "not valid YAML"),
    ("binary", _bytes(b"\x89PNG\r\n\x1a\n\x00\xff"), "not a UTF-8 text file"),
    ("latin1", _bytes("provider: dcs # caf\xe9\n".encode("latin-1")), "not a UTF-8 text file"),
    ("nul-bytes", _bytes(b"provider: dcs\x00\n"), "NUL bytes"),
    ("control-char", _text("provider: dcs\x01\n"), "not valid YAML"),  # found by the property tests
    ("fifo", _fifo, "FIFO"),
    ("symlink-loop", _symlink_loop, "cannot read spec"),
    ("missing", lambda p: p, "cannot read spec"),
    ("deep-flow", _text("a: " + "[" * 500 + "]" * 500 + "\n"), "nested more than 100 levels"),
    ("alias-bomb", _text("\n".join(
        ['a0: &a0 ["l", "l", "l", "l", "l", "l", "l", "l", "l", "l"]']
        + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]) + "\n"),
        "alias bomb"),
    ("oversized", _text("a: 1\n" + "#" * (1 << 20) + "\n"), "more than the 1048576 accepted"),
    ("provider-not-string", _text("provider: [dcs]\n"), "provider: expected a string"),
    ("custom-tag", _text("provider: !!python/object:os.system dcs\n"), "unsupported YAML tag"),
    ("custom-local-tag", _text("provider: dcs\nhostIP: !ip 10.0.0.1\n"), "unsupported YAML tag !ip at hostIP"),
]


@pytest.mark.parametrize(("make", "needle"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_unusable_spec_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Callable[[Path], Path],
                             needle: str) -> None:
    spec = make(tmp_path / "spec.yaml")
    out = tmp_path / "out"
    assert main(["render", "-f", str(spec), "--output-dir", str(out)]) == 3
    err = capsys.readouterr().err
    assert needle in err, err
    assert "Traceback" not in err and "internal error" not in err
    assert not out.exists()


# --- the command line ----------------------------------------------------------------------------------

def _spec(tmp_path: Path) -> str:
    return str(write(tmp_path / "s.yaml", example("dcs")))


CLI_CASES: list[tuple[str, Callable[[Path], list[str]], int, str]] = [
    ("unknown-command", lambda t: ["instal"], 2, "instal"),
    ("unknown-option", lambda t: ["validate", "--nope"], 2, "--nope"),
    ("validate-no-file", lambda t: ["validate"], 2, "-f"),
    ("render-no-output", lambda t: ["render", "-f", _spec(t)], 2, "--output-dir"),
    ("render-output-stdout", lambda t: ["render", "-f", _spec(t), "--output-dir", "-"], 2, "--output-dir -"),
    ("render-empty-output", lambda t: ["render", "-f", _spec(t), "--output-dir", ""], 2, "output directory is empty"),
    ("render-both-outputs", lambda t: ["render", "-f", _spec(t), "--output-dir", str(t / "a"), "-o", str(t / "b")],
     2, "both"),
    ("init-unknown-provider", lambda t: ["init", "--provider", "nosuch"], 5, "unknown provider 'nosuch'"),
    ("init-no-provider", lambda t: ["init"], 2, "--provider"),
    ("explain-unknown-field", lambda t: ["explain", "noSuchField"], 2, "no spec field 'noSuchField'"),
    ("schema-unknown-provider", lambda t: ["schema", "--provider", "nosuch"], 5, "nosuch"),
    ("lint-missing-file", lambda t: ["lint", str(t / "nope.yaml")], 4, "cannot read manifest"),
    ("lint-no-args", lambda t: ["lint"], 2, "FILES"),
    ("install-no-spec", lambda t: ["install", "--kubeconfig", str(t / "kc")], 2, "missing -f SPEC"),
    ("install-no-kubeconfig", lambda t: ["install", "-f", _spec(t)], 2, "--kubeconfig"),
    ("install-bad-timeout", lambda t: ["install", "--sandbox", "--timeout", "nonsense"], 2, "PHASE=SECONDS"),
    ("install-negative-timeout", lambda t: ["install", "--sandbox", "--timeout", "manifest=-1"], 2,
     "finite positive"),
    ("install-bad-until", lambda t: ["install", "--sandbox", "--until", "nope"], 2, "--until 'nope'"),
    ("install-nan-scale", lambda t: ["install", "--sandbox", "--timeout-scale", "nan"], 2, "--timeout-scale"),
    ("install-zero-poll", lambda t: ["install", "--sandbox", "--poll-interval", "0"], 2, "--poll-interval"),
    ("install-inf-speed", lambda t: ["install", "--sandbox", "--speed", "inf"], 2, "--speed"),
    ("install-bad-installer-address", lambda t: ["install", "-f", _spec(t), "--kubeconfig", str(t / "kc"),
                                                 "--installer-address", "nohostport"], 2, "--installer-address"),
    ("install-installer-port-range", lambda t: ["install", "-f", _spec(t), "--kubeconfig", str(t / "kc"),
                                                "--installer-address", "10.0.0.5:70000"], 2, "--installer-address"),
    ("install-unknown-scenario", lambda t: ["install", "--sandbox", "--scenario", "nope"], 2,
     "unknown sandbox scenario 'nope'"),
    ("status-no-state", lambda t: ["status", "--workdir", str(t)], 20, "no install state"),
    ("spec-is-a-directory", lambda t: ["validate", "-f", str(t)], 2, "is a directory"),
    ("kubeconfig-is-a-directory", lambda t: ["install", "-f", _spec(t), "--kubeconfig", str(t)], 2,
     "is a directory"),
    ("sandbox-down-nothing", lambda t: ["sandbox", "down", "--state-dir", str(t)], 7, "no running sandbox"),
    ("sandbox-up-speed-zero", lambda t: ["sandbox", "up", "--state-dir", str(t / "sd"), "--speed", "0"], 2,
     "--speed 0"),
    ("sandbox-up-port", lambda t: ["sandbox", "up", "--state-dir", str(t / "sd"), "--port", "65536"], 2,
     "65536"),
    ("sandbox-up-address", lambda t: ["sandbox", "up", "--state-dir", str(t / "sd"), "--address", "::g"], 2,
     "--address"),
    ("sandbox-up-scenario", lambda t: ["sandbox", "up", "--state-dir", str(t / "sd"), "--scenario", "x"], 2,
     "unknown sandbox scenario"),
    ("sandbox-up-crds-missing", lambda t: ["sandbox", "up", "--state-dir", str(t / "sd"), "--crds",
                                           str(t / "nope")], 2, "CRD directory not found"),
]


@pytest.mark.parametrize(("argv", "code", "needle"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_bad_command_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str], canaries: dict[str, str],
                           argv: Callable[[Path], list[str]], code: int, needle: str) -> None:
    assert main(argv(tmp_path)) == code
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert needle in text, text
    assert "Traceback" not in text and "internal error" not in text
    assert not (tmp_path / "sd").exists() and not (tmp_path / ".acp-install").exists()
    _no_canary(text)


# --- kubeconfigs -----------------------------------------------------------------------------------

GOOD_KC = {
    "apiVersion": "v1", "kind": "Config", "current-context": "c",
    "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
    "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    "users": [{"name": "u", "user": {"token": "t"}}],
}


def _kc(**changes: Any) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        data = json.loads(json.dumps(GOOD_KC))
        for key, value in changes.items():
            setpath(data, key.replace("__", "."), value)
        path.write_text(json.dumps(data))
        return path
    return make


KUBECONFIG_CASES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("missing", lambda p: p, "cannot load kubeconfig"),
    ("empty", _text(""), "cannot load kubeconfig"),
    ("not-yaml", _text("clusters: [unclosed\n"), "cannot load kubeconfig"),
    ("a-list", _text("- 1\n- 2\n"), "cannot load kubeconfig"),
    ("binary", _bytes(b"\x00\xff\xfe\x01"), "cannot load kubeconfig"),
    ("no-current-context", _kc(**{"current-context": DELETE}), "cannot load kubeconfig"),
    ("unknown-context", _kc(**{"current-context": "nope"}), "cannot load kubeconfig"),
    ("no-clusters", _kc(clusters=[]), "cannot load kubeconfig"),
    ("server-http", _kc(clusters=[{"name": "c", "cluster": {"server": "http://127.0.0.1:1"}}]),
     "not an https:// URL"),
    ("server-garbage", _kc(clusters=[{"name": "c", "cluster": {"server": "::::"}}]), "server"),
    ("server-port", _kc(clusters=[{"name": "c", "cluster": {"server": "https://127.0.0.1:0"}}]),
     "port is not a number"),
    ("ca-file-missing", _kc(clusters=[{"name": "c", "cluster": {"server": "https://127.0.0.1:1",
                                                                  "certificate-authority": "/nonexistent/ca"}}]),
     "cannot load kubeconfig"),
    ("ca-data-garbage", _kc(clusters=[{"name": "c", "cluster": {"server": "https://127.0.0.1:1",
                                                                  "certificate-authority-data": "!!notbase64"}}]),
     "kubeconfig"),
]


@pytest.mark.parametrize(("make", "needle"), [c[1:] for c in KUBECONFIG_CASES], ids=[c[0] for c in KUBECONFIG_CASES])
def test_bad_kubeconfigs(tmp_path: Path, capsys: pytest.CaptureFixture[str], canaries: dict[str, str],
                         make: Callable[[Path], Path], needle: str) -> None:
    kc = make(tmp_path / "kubeconfig")
    work = tmp_path / "w"
    assert main(["install", "-f", _spec(tmp_path), "--kubeconfig", str(kc), "--workdir", str(work)]) == 10
    err = capsys.readouterr().err
    assert needle in err, err
    assert "Traceback" not in err and "internal error" not in err
    state = json.loads((work / ".acp-install" / "state.json").read_text())
    assert not any(p.get("status") == "finished" for p in state.get("phases", {}).values())
    _no_canary(err)


# --- plugin mistakes ---------------------------------------------------------------------------------

PLUGIN_CASES: list[tuple[str, dict[str, str], str, int, str]] = [
    ("disabled-provider", {"ACP_INSTALL_DISABLE_PLUGINS": "dcs"}, "dcs", 5, "dcs"),
    ("unknown-provider", {}, "nosuchcloud", 5, "unknown provider 'nosuchcloud'"),
    ("misspelled-provider", {}, "vspher", 5, "did you mean 'vsphere'?"),
    ("provider-case", {}, "DCS", 5, "unknown provider 'DCS'"),
    ("provider-empty", {}, "", 5, "unknown provider ''"),
]


@pytest.mark.parametrize(("env", "provider", "code", "needle"), [c[1:] for c in PLUGIN_CASES],
                         ids=[c[0] for c in PLUGIN_CASES])
def test_plugin_mistakes(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                         canaries: dict[str, str], env: dict[str, str], provider: str, code: int,
                         needle: str) -> None:
    spec = write(tmp_path / "s.yaml", setpath(example("dcs"), "provider", provider))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["render", "-f", str(spec), "--output-dir", str(tmp_path / "o")]) == code
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


# --- raw HTTP to the sandbox -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[Sandbox]:
    sb = start_sandbox()
    yield sb
    sb.stop()


CM = "/api/v1/namespaces/default/configmaps"
NS = "/api/v1/namespaces"
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
JSONP = "application/json-patch+json"


HUGE = b"<17 MiB announced, not sent>"


def _cm(name: str = "c", **extra: Any) -> bytes:
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, **extra}).encode()


# (id, method, path, body, content type, token ("" = none, None = the right one), status)
HTTP_CASES: list[tuple[str, str, str, bytes | None, str, str | None, int]] = [
    ("malformed-json", "POST", CM, b"{not json", "application/json", None, 400),
    ("json-array", "POST", CM, b"[1,2]", "application/json", None, 400),
    ("json-string", "POST", CM, b'"x"', "application/json", None, 400),
    ("json-number", "POST", CM, b"7", "application/json", None, 400),
    ("empty-body", "POST", CM, b"", "application/json", None, 400),
    ("not-utf8", "POST", CM, b"\xff\xfe{}", "application/json", None, 400),
    ("deep-json", "POST", CM, b"[" * 3000 + b"]" * 3000, "application/json", None, 400),
    ("huge-body", "POST", CM, HUGE, "application/json", None, 413),
    ("no-token", "GET", NS, None, "application/json", "", 401),
    ("wrong-token", "GET", NS, None, "application/json", "wrong", 401),
    ("wrong-token-post", "POST", CM, _cm("tok"), "application/json", "wrong", 401),
    ("unknown-path", "GET", "/apis/nope.example/v1/things", None, "application/json", None, 404),
    ("unknown-resource", "GET", "/api/v1/namespaces/default/nothings", None, "application/json", None, 404),
    ("too-deep-path", "GET", CM + "/a/b/c", None, "application/json", None, 404),
    ("bad-subresource", "GET", CM + "/a/scale", None, "application/json", None, 404),
    ("missing-object", "GET", CM + "/does-not-exist", None, "application/json", None, 404),
    ("kind-mismatch", "POST", CM, json.dumps({"kind": "Secret", "metadata": {"name": "k"}}).encode(),
     "application/json", None, 400),
    ("namespace-mismatch", "POST", CM, json.dumps({"metadata": {"name": "n", "namespace": "kube-system"}}).encode(),
     "application/json", None, 400),
    ("metadata-not-object", "POST", CM, json.dumps({"metadata": "x"}).encode(), "application/json", None, 400),
    ("no-name", "POST", CM, json.dumps({"metadata": {}}).encode(), "application/json", None, 422),
    ("name-dotdot", "POST", CM, _cm("../../x"), "application/json", None, 422),
    ("name-10000", "POST", CM, _cm("a" * 10_000), "application/json", None, 422),
    ("name-upper", "POST", CM, _cm("Global"), "application/json", None, 422),
    ("name-not-string", "POST", CM, json.dumps({"metadata": {"name": 7}}).encode(), "application/json", None, 422),
    ("namespace-name-dot", "POST", NS, json.dumps({"metadata": {"name": "a.b"}}).encode(), "application/json",
     None, 422),
    ("patch-unknown-type", "PATCH", CM + "/c", b"{}", "text/plain", None, 415),
    ("merge-patch-missing", "PATCH", CM + "/nope", b"{}", MERGE, None, 404),
    ("merge-patch-garbage", "PATCH", CM + "/nope", b"{x", MERGE, None, 400),
    ("json-patch-garbage", "PATCH", CM + "/nope", b"[{", JSONP, None, 400),
    ("apply-no-manager", "PATCH", CM + "/a1", b"metadata: {name: a1}\n", APPLY, None, 400),
    ("apply-not-object", "PATCH", CM + "/a2?fieldManager=t", b"- 1\n", APPLY, None, 400),
    ("apply-name-mismatch", "PATCH", CM + "/a3?fieldManager=t", b"metadata: {name: other}\n", APPLY, None, 400),
    ("apply-bad-yaml", "PATCH", CM + "/a4?fieldManager=t", b"metadata: [\n", APPLY, None, 400),
    ("apply-alias-bomb", "PATCH", CM + "/a5?fieldManager=t", ("\n".join(
        ['a0: &a0 ["l", "l", "l", "l", "l", "l", "l", "l", "l", "l"]']
        + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]) + "\n").encode(),
     APPLY, None, 400),
    ("apply-deep", "PATCH", CM + "/a6?fieldManager=t", b"a: " + b"[" * 400 + b"]" * 400, APPLY, None, 400),
    ("apply-python-tag", "PATCH", CM + "/a7?fieldManager=t", b"a: !!python/object/apply:os.system [id]\n",
     APPLY, None, 400),
    ("put-name-mismatch", "PUT", CM + "/p1", _cm("p2"), "application/json", None, 400),
    ("bad-label-selector", "GET", CM + "?labelSelector=%3D%3D%3D", None, "application/json", None, 400),
    ("bad-watch-rv", "GET", CM + "?watch=1&resourceVersion=abc", None, "application/json", None, 400),
]


def _request(sb: Sandbox, method: str, path: str, body: bytes | None, content_type: str,
             token: str | None) -> tuple[int, Any]:
    ctx = ssl.create_default_context(cadata=sb.ca_pem.decode())
    host, port = sb.server_url.removeprefix("https://").rsplit(":", 1)
    conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30)
    try:
        conn.putrequest(method, path)
        if token != "":
            conn.putheader("Authorization", f"Bearer {sb.token if token is None else token}")
        conn.putheader("Content-Type", content_type)
        data = b"" if body is HUGE else (body or b"")
        conn.putheader("Content-Length", str(17 * 1024 * 1024 if body is HUGE else len(data)))
        conn.endheaders(data or None)
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw.startswith(b"{") else raw
    finally:
        conn.close()


@pytest.mark.parametrize(("method", "path", "body", "content_type", "token", "status"),
                         [c[1:] for c in HTTP_CASES], ids=[c[0] for c in HTTP_CASES])
def test_raw_http_to_the_sandbox(shared_sandbox: Sandbox, capfd: pytest.CaptureFixture[str], method: str,
                                 path: str, body: bytes | None, content_type: str, token: str | None,
                                 status: int) -> None:
    before = {(w.kind, w.namespace, w.name) for w in shared_sandbox.recorder.writes}
    code, reply = _request(shared_sandbox, method, path, body, content_type, token)
    assert code == status, reply
    if isinstance(reply, dict):
        assert reply.get("kind") == "Status" and len(json.dumps(reply)) < 4000
    after = {(w.kind, w.namespace, w.name) for w in shared_sandbox.recorder.writes}
    assert after == before  # nothing applied
    code, listed = _request(shared_sandbox, "GET", NS, None, "application/json", None)
    assert code == 200 and any(i["metadata"]["name"] == "cpaas-system" for i in listed["items"])
    assert "Traceback" not in capfd.readouterr().err
