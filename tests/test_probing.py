"""Regressions found by probing as a hostile new user would (issue: "Found by probing").

Each test failed before its fix: a traceback (exit 1), a hang, unbounded memory, or a file
written where it must not be. Each now ends with its documented exit code
(docs/exit-codes.md), a message naming what to fix, and nothing written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from acp_install.cli.main import main
from acp_install.errors import UsageError

from specs import example, setpath, write

# --- render: the output directory ---------------------------------------------------------------


def test_render_empty_output_is_refused_and_cwd_untouched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    spec = write(tmp_path / "global.yaml", example("dcs"))
    before = spec.read_bytes()
    for args in (["-o", ""], ["--output-dir", ""]):  # the old spelling and the new one
        assert main(["render", "-f", "global.yaml", *args]) == 2
        err = capsys.readouterr().err
        assert "output directory is empty" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["global.yaml"]
    assert spec.read_bytes() == before


@pytest.mark.parametrize("force", [False, True])
def test_render_never_overwrites_the_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str], force: bool) -> None:
    monkeypatch.chdir(tmp_path)
    spec = write(tmp_path / "global.yaml", example("dcs"))
    before = spec.read_bytes()
    assert main(["render", "-f", "global.yaml", "--output-dir", ".", *(["--force"] if force else [])]) == 2
    assert "is the spec being rendered" in capsys.readouterr().err
    assert spec.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["global.yaml"]  # nothing else either


def test_render_replaces_existing_files_only_with_force(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path / "s.yaml", example("dcs"))
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "RUNBOOK.md"
    mine.write_text("my notes\n")
    assert main(["render", "-f", str(spec), "--output-dir", str(out)]) == 2
    assert "RUNBOOK.md exists" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["RUNBOOK.md"] and mine.read_text() == "my notes\n"
    assert main(["render", "-f", str(spec), "--output-dir", str(out), "--force"]) == 0
    assert mine.read_text() != "my notes\n"


def _dr_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = example("dcs")
    data["dr"] = {"role": "primary", "primaryVIP": "192.168.1.100", "standbyVIP": "192.168.2.100",
                  "encryptionKey": {"env": "DR_KEY"}}
    monkeypatch.setenv("DR_KEY", "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=")
    return write(tmp_path / "s.yaml", data)


@pytest.mark.parametrize("force", [False, True])
def test_render_never_writes_through_a_symlinked_subdirectory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, canaries: dict[str, str],
        capsys: pytest.CaptureFixture[str], force: bool) -> None:
    spec = _dr_spec(tmp_path, monkeypatch)
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "dr").symlink_to(elsewhere, target_is_directory=True)
    args = ["render", "-f", str(spec), "--output-dir", str(out), "--include-secrets", *(["--force"] if force else [])]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "dr is a symlink" in err and "Traceback" not in err
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in out.iterdir()) == ["dr"]  # nothing written at all


def test_render_to_a_real_dr_directory_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            canaries: dict[str, str]) -> None:
    spec = _dr_spec(tmp_path, monkeypatch)
    out = tmp_path / "out"
    assert main(["render", "-f", str(spec), "--output-dir", str(out), "--include-secrets"]) == 0
    key = out / "dr" / "encryption-provider.conf"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in out.rglob(".*")] == []  # no temporary file left


def test_write_plan_refuses_before_writing(tmp_path: Path, canaries: dict[str, str]) -> None:
    """The SDK call: ``protect`` and ``overwrite=False`` as the CLI uses them."""
    from acp_install import build_plan, load_spec, write_plan

    spec = write(tmp_path / "global.yaml", example("dcs"))
    plan = build_plan(load_spec(spec))
    with pytest.raises(UsageError, match="is the spec"):
        write_plan(plan, tmp_path, protect=[("spec", spec)])
    with pytest.raises(UsageError, match="output directory is empty"):
        write_plan(plan, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["global.yaml"]
    assert len(write_plan(plan, tmp_path / "o")) >= 4
    with pytest.raises(UsageError, match="exists"):
        write_plan(plan, tmp_path / "o", overwrite=False)


def test_render_into_proc_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path / "s.yaml", example("dcs"))
    assert main(["render", "-f", str(spec), "--output-dir", "/proc/acp-install-probe/out"]) == 2
    err = capsys.readouterr().err
    assert "cannot create the output directory" in err and "Traceback" not in err


# --- unbounded or odd input files -----------------------------------------------------------------


@pytest.mark.parametrize(("text", "needle"), [
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 100 levels"),
    ("a:\n" + "".join("  " * (i + 1) + "k:\n" for i in range(400)), "nested more than 100 levels"),
    ("a: " + "[" * 150 + "]" * 150 + "\n", "nested more than 100 levels deep"),
], ids=["flow-5000", "block-400", "flow-150"])
def test_deep_nesting(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, needle: str) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(text)
    assert main(["validate", "-f", str(spec)]) == 3
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert main(["lint", str(spec)]) == 4
    assert needle in capsys.readouterr().err


def test_dev_zero_is_refused_without_reading_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-f", "/dev/zero"]) == 3
    assert "spec is a device, not a regular file" in capsys.readouterr().err
    assert main(["lint", "/dev/zero"]) == 4
    assert "manifest is a device" in capsys.readouterr().err


def test_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    assert main(["validate", "-f", str(fifo)]) == 3  # before the fix: blocked in open() forever
    assert "FIFO" in capsys.readouterr().err
    assert main(["lint", str(fifo)]) == 4


def test_oversized_spec_is_refused_by_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("a: 1\n" + "#" * (2 << 20) + "\n")
    assert main(["validate", "-f", str(spec)]) == 3
    assert "more than the 1048576 accepted" in capsys.readouterr().err


def test_proc_spec_is_read_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    """A /proc file reports size 0: read up to the bound, then it is YAML or not."""
    assert main(["validate", "-f", "/proc/self/status"]) == 3
    assert "Traceback" not in capsys.readouterr().err


def test_lint_on_a_binary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00\xff\xfe\x00")
    assert main(["lint", str(path)]) == 4
    err = capsys.readouterr().err
    assert "not a UTF-8 text file" in err and "Traceback" not in err


def test_many_values_refused_with_a_line_and_without_alias_blame(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from acp_install import yamlio

    monkeypatch.setattr(yamlio, "MAX_NODES", 1000)
    spec = tmp_path / "s.yaml"
    spec.write_text("provider: dcs\nitems:\n" + "- 1\n" * 2000)
    assert main(["validate", "-f", str(spec)]) == 3
    err = capsys.readouterr().err
    assert "holds more than 1000 values" in err and "alias" not in err
    assert f"{spec}:" in err  # a line, not only a message


def test_complex_key_is_shown_as_yaml_not_a_repr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(write(tmp_path / "b.yaml", example("dcs")).read_text() + "? [a, b]\n: 1\n")
    assert main(["validate", "-f", str(spec)]) == 3
    err = capsys.readouterr().err
    assert '["a","b"]: unknown field' in err and "CommentedSeq" not in err


def test_huge_value_is_not_echoed_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path / "s.yaml", setpath(example("dcs"), "k8sVersion", "x" * 900_000))
    assert main(["validate", "-f", str(spec)]) == 3
    err = capsys.readouterr().err
    assert "k8sVersion" in err and "characters not shown" in err and len(err) < 5000


@pytest.mark.parametrize(("content", "needle"), [
    ("root:x:0:0:root:/root:/bin/bash\n", "is not an audit Policy"),
    ("apiVersion: v1\nkind: ConfigMap\n", "is not an audit Policy"),
    ("\x00\x01", "not a text file"),
], ids=["passwd", "configmap", "binary"])
def test_audit_policy_file_must_be_an_audit_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   content: str, needle: str) -> None:
    policy = tmp_path / "audit.yaml"
    policy.write_text(content)
    spec = write(tmp_path / "s.yaml", setpath(example("dcs"), "controlPlane.auditPolicyFile", str(policy)))
    assert main(["render", "-f", str(spec), "--output-dir", str(tmp_path / "o")]) == 3
    err = capsys.readouterr().err
    assert "controlPlane.auditPolicyFile" in err and needle in err
    assert not (tmp_path / "o").exists()


def test_a_real_audit_policy_is_accepted(tmp_path: Path, canaries: dict[str, str]) -> None:
    policy = tmp_path / "audit.yaml"
    policy.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n")
    spec = write(tmp_path / "s.yaml", setpath(example("dcs"), "controlPlane.auditPolicyFile", str(policy)))
    assert main(["render", "-f", str(spec), "--output-dir", str(tmp_path / "o")]) == 0
    assert "level: Metadata" in (tmp_path / "o" / "global.yaml").read_text()


def test_secret_file_that_is_a_fifo(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "pw"
    os.mkfifo(fifo)
    monkeypatch.setenv("DCS_AUTH_KEY", "canary-dcs")
    spec = write(tmp_path / "s.yaml", setpath(example("dcs"), "credentials.admin.password", {"file": str(fifo)}))
    assert main(["render", "-f", str(spec), "--output-dir", str(tmp_path / "o"), "--include-secrets"]) == 6
    err = capsys.readouterr().err
    assert "FIFO" in err and "Traceback" not in err


# --- sandbox options --------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "needle"), [
    (["--speed", "0"], "--speed 0: must be a finite number > 0"),
    (["--speed", "nan"], "--speed nan"),
    (["--speed", "-3"], "--speed -3"),
    (["--port", "99999"], "99999 is not in the range"),
    (["--installer-port", "-1"], "is not in the range"),
    (["--address", "not_an_ip"], "--address 'not_an_ip' is not an IP address"),
    (["--address", "10.1.2.3"], "not a loopback address"),
], ids=["speed-0", "speed-nan", "speed-negative", "port-99999", "installer-port", "address-garbage",
        "address-not-loopback"])
def test_sandbox_up_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                needle: str) -> None:
    state = tmp_path / "sd"
    assert main(["sandbox", "up", "--state-dir", str(state), *args]) == 2
    captured = capsys.readouterr()
    assert needle in captured.err and "Traceback" not in captured.err
    assert not state.exists()  # nothing started, nothing written


# --- the work directory ----------------------------------------------------------------------------


def _install(tmp_path: Path, workdir: Path, kubeconfig: Path | None = None) -> list[str]:
    spec = write(tmp_path / "s.yaml", example("dcs"))
    kc = kubeconfig or tmp_path / "missing.kubeconfig"
    return ["install", "-f", str(spec), "--kubeconfig", str(kc), "--workdir", str(workdir)]


@pytest.mark.parametrize(("state", "needle"), [
    ({"version": 1, "phases": [1, 2]}, "phases is a list, expected a mapping"),
    ({"version": 1, "phases": {"packages": "done"}}, "phases.packages is a str"),
    ({"version": 1, "phases": {}, "installer": "sent"}, "installer is a str"),
    ({"version": 1, "phases": {"packages": {"status": 3}}}, "phases.packages.status is not a string"),
    ({"version": 1, "phases": {}, "plan": ["x"]}, "plan is not a string"),
], ids=["phases-list", "phase-str", "installer-str", "status-int", "plan-list"])
def test_damaged_state_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], canaries: dict[str, str],
                            state: dict[str, object], needle: str) -> None:
    work = tmp_path / "w"
    (work / ".acp-install").mkdir(parents=True)
    (work / ".acp-install" / "state.json").write_text(json.dumps(state))
    assert main(["status", "--workdir", str(work)]) == 7
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert main(_install(tmp_path, work)) == 7
    assert needle in capsys.readouterr().err


def test_state_file_not_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "w"
    (work / ".acp-install").mkdir(parents=True)
    (work / ".acp-install" / "state.json").write_bytes(b"\xff\xfe{")
    assert main(["status", "--workdir", str(work)]) == 7
    assert "Traceback" not in capsys.readouterr().err


def test_lock_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str], canaries: dict[str, str]) -> None:
    work = tmp_path / "w"
    (work / ".acp-install" / "lock").mkdir(parents=True)
    assert main(_install(tmp_path, work)) == 7
    err = capsys.readouterr().err
    assert "cannot lock" in err and "lock" in err and "Traceback" not in err


def test_state_dir_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], canaries: dict[str, str]) -> None:
    work = tmp_path / "w"
    work.mkdir()
    (work / ".acp-install").write_text("")
    assert main(_install(tmp_path, work)) == 7
    assert ".acp-install is not a directory" in capsys.readouterr().err
    assert main(["status", "--workdir", str(work)]) == 7
    assert ".acp-install is not a directory" in capsys.readouterr().err


def test_workdir_under_proc(tmp_path: Path, capsys: pytest.CaptureFixture[str], canaries: dict[str, str]) -> None:
    assert main(_install(tmp_path, Path("/proc/acp-install-probe"))) == 7
    err = capsys.readouterr().err
    assert "cannot create the state directory" in err and "Traceback" not in err


KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: "{server}"}}
contexts:
- name: c
  context: {{cluster: c, user: u}}
current-context: c
users:
- name: u
  user: {{token: t}}
"""


@pytest.mark.parametrize(("server", "needle"), [
    ("not a url", "not an https:// URL"),
    ("ftp://127.0.0.1:1", "not an https:// URL"),
    ("http://127.0.0.1:1", "not an https:// URL"),
    ("127.0.0.1:6443", "not an https:// URL"),
    ("https://", "names no host"),
    ("https://127.0.0.1:99999", "port is not a number"),
    ("https://127.0.0.1:abc", "port is not a number"),
], ids=["garbage", "ftp", "http", "no-scheme", "no-host", "port-range", "port-text"])
def test_kubeconfig_server_must_be_https(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         canaries: dict[str, str], server: str, needle: str) -> None:
    kc = tmp_path / "kc"
    kc.write_text(KUBECONFIG.format(server=server))
    assert main(_install(tmp_path, tmp_path / "w", kc)) == 10
    err = capsys.readouterr().err
    assert needle in err and str(kc) in err and "Traceback" not in err


# --- redaction: whole values, names intact, short secrets refused ----------------------------------


@pytest.mark.parametrize(("secret", "text", "expected"), [
    ("global", "created DCSCluster/global", "created DCSCluster/global"),
    ("global", "login 'global' refused", "login '<redacted>' refused"),
    ("x", "MaxRetryError: x", "MaxRetryError: <redacted>"),
    ("x", "urllib3.exceptions.MaxRetryError", "urllib3.exceptions.MaxRetryError"),
    ("x", '{"password": "x"}', '{"password": "<redacted>"}'),
    ("canary-long-secret", "tokencanary-long-secretend", "token<redacted>end"),
], ids=["name-kept", "quoted", "alone", "inside-word", "json", "long-substring"])
def test_redaction_keeps_names_and_removes_values(secret: str, text: str, expected: str) -> None:
    from acp_install.clients.redact import Redactor

    assert Redactor([secret])(text) == expected


def test_redaction_of_data_replaces_whole_values_and_encodings() -> None:
    import base64

    from acp_install.clients.redact import Redactor

    redact = Redactor(["pw"])
    b64 = base64.b64encode(b"pw").decode()
    assert redact.data({"name": "pwd-global", "password": "pw", "b": b64, "list": ["pw", "x pw y"]}) == {
        "name": "pwd-global", "password": "<redacted>", "b": "<redacted>",
        "list": ["<redacted>", "x <redacted> y"]}


def test_a_short_secret_is_refused_before_anything_is_applied(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], canaries: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACP_ADMIN_PASSWORD", "global")
    spec = write(tmp_path / "s.yaml", example("dcs"))
    assert main(["install", "--sandbox", "-f", str(spec), "--workdir", str(tmp_path / "w")]) == 6
    err = capsys.readouterr().err
    assert "$ACP_ADMIN_PASSWORD is shorter than 8 characters" in err and "--allow-short-secrets" in err
    state = json.loads((tmp_path / "w" / ".acp-install" / "state.json").read_text())
    assert not any(p.get("status") == "finished" for p in state["phases"].values())


def test_an_allowed_short_secret_never_mangles_names(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], canaries: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: with the password ``global`` the output read ``created DCSCluster/<redacted>``."""
    monkeypatch.setenv("DCS_AUTH_KEY", "global")
    spec = write(tmp_path / "s.yaml", example("dcs"))
    assert main(["install", "--sandbox", "-f", str(spec), "--workdir", str(tmp_path / "w"),
                 "--allow-short-secrets", "--until", "manifest", "-v"]) == 0
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "<redacted>" not in text
    assert "$DCS_AUTH_KEY is shorter than 8 characters" in text
    assert "created DCSCluster/global" in text  # the name, not <redacted>
