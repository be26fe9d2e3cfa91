"""``acp-install install`` / ``status`` as a user runs them, and the installer progress parser."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from acp_install.cli.main import main
from acp_install.clients.installer import parse_progress
from acp_install.errors import InstallerError


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_sandbox_one_liner(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                           canaries: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from acp_install.clients.installer import InstallerClient, InstallerUnavailable

    rc, out, err = run(capsys, "install", "--sandbox",
                       "--workdir", str(tmp_path))
    assert rc == 0, err
    for phase in ("packages", "manifest", "control-plane", "installer", "monitor", "verify"):
        assert f"ok  {phase}:" in out
    assert "installer: Success 100%: Completion" in out
    assert "install complete" in out
    assert re.search(r"sandbox served \d+ API requests and \d+ installer requests "
                     r"\(\d+ objects applied by acp-install, 1 install request\(s\) sent\)", out)
    for value in canaries.values():
        assert value not in out + err

    # status is a snapshot: the gone installer's refusal is said at once, never retried
    judged: list[bool] = []
    transient = InstallerClient._transient

    def spy(self: InstallerClient, error: BaseException) -> bool:
        verdict = transient(self, error)
        if isinstance(error, InstallerUnavailable) and error.refused:
            judged.append(verdict)
        return verdict

    monkeypatch.setattr(InstallerClient, "_transient", spy)
    rc, out, _ = run(capsys, "status", "--workdir", str(tmp_path))
    assert judged and not any(judged)
    assert rc == 0
    assert "install complete" in out
    assert "installer request: sent" in out
    # the sandbox (and its installer) is gone: said in words, not httpx's class name and errno
    assert "installer stage: not read (" in out and "connection refused" in out
    assert "ConnectError" not in out and "Errno" not in out
    rc, out, _ = run(capsys, "status", "--workdir", str(tmp_path), "-o", "json")
    data = json.loads(out)
    assert {p["status"] for p in data["phases"].values()} == {"finished"}


def test_sandbox_json_lines(capsys: pytest.CaptureFixture[str], canaries: dict[str, str]) -> None:
    rc, out, _ = run(capsys, "install", "--sandbox", "-o", "json")
    assert rc == 0
    lines = json_lines(out)
    # spec warnings come first, then the preflight checks (not a phase of the state file)
    phases = [ln for ln in lines if ln["event"] != "finding" and ln.get("phase") != "preflight"]
    assert phases[0]["event"] == "phase-started" and phases[0]["phase"] == "bootstrap"
    result = lines[-1]
    assert result["event"] == "result" and result["complete"] is True
    assert result["sandbox"]["installer_requests"] == 1
    assert {ln["event"] for ln in lines} >= {"phase-started", "phase-progress", "phase-finished"}


def test_demo_secrets_are_supplied_and_never_printed(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACP_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("DCS_AUTH_KEY", raising=False)
    rc, out, _ = run(capsys, "install", "--sandbox", "--until", "manifest")
    assert rc == 0
    assert "demo secrets for this run" in out
    # the demo values themselves (a temporary directory may be named acp-install-demo-...)
    assert "demo-acp-admin-password" not in out and "demo-dcs-auth-key" not in out
    # handed to the engine in memory: the process environment is left alone
    assert "ACP_ADMIN_PASSWORD" not in os.environ and "DCS_AUTH_KEY" not in os.environ
    assert "install stopped" in out


def test_stall_exit_code_and_guidance(capsys: pytest.CaptureFixture[str],
                                      canaries: dict[str, str]) -> None:
    # the Machines never leave Pending: however short the deadline, it ends with their row
    rc, _out, err = run(capsys, "install", "--sandbox",
                       "--scenario", "machines-pending", "--timeout-scale", "1",
                       "--timeout", "control-plane=0.5")
    assert rc == 12
    assert "Machines stay in Pending" in err
    assert "kubectl describe machine -n cpaas-system" in err


def test_installer_failure_exit_code_json(capsys: pytest.CaptureFixture[str],
                                          canaries: dict[str, str]) -> None:
    rc, out, _err = run(capsys, "install", "--sandbox",
                       "--scenario", "installer-fail", "-o", "json")
    assert rc == 11
    last = json_lines(out)[-1]
    assert last["event"] == "error" and last["exit_code"] == 11
    assert "installer.log" in last["message"]


def test_a_sandbox_failure_says_what_applies_to_a_sandbox(capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path, canaries: dict[str, str]) -> None:
    """The sandbox (its installer log, its cluster) ends with the command: no hint to read the
    real installer's log path or to --resubmit to an installer that is gone."""
    rc, _out, err = run(capsys, "install", "--sandbox", "--scenario", "installer-fail", "-q")
    assert rc == 11, err
    fix = err[err.index("  fix: ", err.index("error: the installer reports failure")):]
    assert "--resubmit to send it again" not in fix and "/var/cpaas/data/installer.log" not in fix, fix
    assert "removed with the sandbox" in fix and "--workdir DIR" in fix and "acp-install sandbox up" in fix
    workdir = tmp_path / "w"
    rc, _out, err = run(capsys, "install", "--sandbox", "--scenario", "installer-fail", "-q",
                        "--workdir", str(workdir))
    assert rc == 11, err
    kept = workdir / "sandbox-installer.log"
    assert f"read the sandbox's installer log, kept as {kept}" in err
    assert "install timeout" in kept.read_text()  # the installer's own lines, kept after the sandbox
    assert "--restart" in err[err.index("  fix: ", err.index("error: the installer reports failure")):]


def test_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rc, _, err = run(capsys, "install", "--kubeconfig", str(tmp_path / "k"))
    assert rc == 2 and "missing -f" in err
    rc, out, err = run(capsys, "status", "--workdir", str(tmp_path))
    assert rc == 20 and "no install state" in out  # status: not started (docs/exit-codes.md)
    rc, _, err = run(capsys, "install", "--sandbox", "--timeout", "nonsense")
    assert rc == 2 and "PHASE=SECONDS" in err


@pytest.mark.parametrize("args, says", [
    (["--timeout-scale", "nan"], "--timeout-scale"),
    (["--timeout-scale", "inf"], "--timeout-scale"),
    (["--timeout-scale", "0"], "--timeout-scale"),
    (["--poll-interval", "-1"], "--poll-interval"),
    (["--timeout", "manifest=-5"], "manifest=-5"),
    (["--timeout", "manifest=nan"], "manifest=nan"),
    (["--until", "nope"], "--until 'nope': unknown phase"),
    (["--installer-address", "notanaddr"], "expected HOST:PORT"),
    (["--installer-address", "10.0.0.5:99999"], "expected HOST:PORT"),
])
def test_bad_options_are_usage_errors_before_anything_is_loaded(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], says: str) -> None:
    # the spec and kubeconfig do not exist: the option must be reported, not them
    rc, _, err = run(capsys, "install", "-f", str(tmp_path / "missing.yaml"),
                     "--kubeconfig", str(tmp_path / "missing"), *args)
    assert rc == 2, err
    assert says in err
    assert "kubeconfig" not in err and "missing.yaml" not in err


def test_bad_options_with_sandbox_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "install", "--sandbox", "--timeout-scale", "nan", "-o", "json")
    assert rc == 2
    assert json_lines(out)[-1]["exit_code"] == 2


def test_bad_kubeconfig_is_a_cluster_error(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           canaries: dict[str, str]) -> None:
    from specs import example, write

    spec = write(tmp_path / "spec.yaml", example("dcs"))
    (tmp_path / "kubeconfig").write_text("not: a kubeconfig\n")
    rc, _, err = run(capsys, "install", "-f", str(spec), "--kubeconfig",
                     str(tmp_path / "kubeconfig"), "--workdir", str(tmp_path))
    assert rc == 10, err
    assert "kubeconfig" in err


def test_cli_start_up_imports_no_client_library() -> None:
    code = ("import sys; import acp_install.cli.main, acp_install.cli.install_cmds, "
            "acp_install.engine; "
            "bad = [m for m in ('kubernetes', 'httpx') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# -- the one place that knows the progress response -----------------------------------------


def test_parse_progress_sandbox_shape() -> None:
    p = parse_progress({"status": "Running", "type": "NetworkAddons",
                        "phase": "Network and core add-ons", "message": "pulling", "percent": 50,
                        "steps": []})
    assert (p.status, p.type, p.phase, p.percent) == ("Running", "NetworkAddons",
                                                      "Network and core add-ons", 50.0)
    assert not p.idle and not p.succeeded and not p.failed
    assert parse_progress({"status": "Success", "type": "Complete"}).succeeded
    assert parse_progress({"status": "Failed", "type": "PlatformInstallation"}).failed
    assert parse_progress({"status": "Pending", "type": "NotStarted"}).idle


def test_parse_progress_variants() -> None:
    nested = parse_progress({"code": 0, "data": {"status": "Running", "type": "Deploy",
                                                 "stage": {"name": "base"}}})
    assert (nested.status, nested.phase) == ("Running", "base")
    listed = parse_progress({"status": "Running", "stages": [
        {"name": "infra", "status": "Success"}, {"name": "cp", "status": "Running"},
        {"name": "net", "status": "Pending"}]})
    assert listed.phase == "cp"
    with pytest.raises(InstallerError):
        parse_progress(["not", "an", "object"])


def test_demo_command_is_install_sandbox(capsys: pytest.CaptureFixture[str],
                                         canaries: dict[str, str]) -> None:
    from acp_install.cli.install_cmds import demo

    rc = demo.main(["-o", "json"], standalone_mode=False)
    out, _ = capsys.readouterr()
    assert rc == 0
    result = json_lines(out)[-1]
    assert result["complete"] is True and result["sandbox"]["installer_requests"] == 1


def test_an_unreachable_api_server_is_said_in_a_few_words(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                           canaries: dict[str, str]) -> None:
    """A closed loopback port: "connection refused" (not urllib3's nested reprs), exit 10,
    within the scaled deadline (the run returns; the state records nothing applied)."""
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: c, cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n")
    spec = tmp_path / "spec.yaml"
    assert main(["init", "--provider", "dcs", "-o", str(spec)]) == 0
    capsys.readouterr()
    rc, out, err = run(capsys, "install", "-f", str(spec), "--kubeconfig", str(kubeconfig),
                       "--workdir", str(tmp_path / "w"), "--timeout-scale", "0.01")
    assert rc == 10, err
    assert f"API discovery at https://127.0.0.1:{port} failed: connection refused" in err
    assert "MaxRetryError" not in out + err and "HTTPSConnectionPool" not in out + err


def test_flags_that_would_be_ignored_are_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                      canaries: dict[str, str]) -> None:
    """--kubeconfig with --sandbox (the embedded sandbox is its own cluster) and a sandbox
    scenario without --sandbox would both be silently ignored: exit 2, nothing run."""
    (tmp_path / "kc").write_text("apiVersion: v1\nkind: Config\n")
    rc, _out, err = run(capsys, "install", "--sandbox", "--provider", "dcs", "--kubeconfig", str(tmp_path / "kc"))
    assert rc == 2 and "--kubeconfig with --sandbox" in err
    from specs import example, write

    spec = write(tmp_path / "spec.yaml", example("dcs"))
    rc, _out, err = run(capsys, "install", "-f", str(spec), "--scenario", "machines-pending",
                        "--workdir", str(tmp_path / "w"))
    assert rc == 2 and "--scenario machines-pending without --sandbox" in err
    assert not (tmp_path / "w").exists()
