"""The final canary scan: every byte a user-visible run produces, searched for the secrets.

One sequence of commands as an operator runs them — render (plain and --include-secrets),
install (JSON lines), a resumed install with --debug -v, a failing run with --debug, status
(text and JSON), gather — with fresh canary values in every secret reference. Then everything
they printed and every file they wrote (state, event log, rendered files, the extracted gather
bundle) is scanned for each canary, raw and base64 at every alignment. Only the rendered files
created 0600 by --include-secrets may hold one.
"""

from __future__ import annotations

import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from acp_install.cli.main import main
from acp_install.testing.canaries import Canaries, new_canary
from acp_install_sandbox import Sandbox

from specs import example, write


def test_no_canary_in_any_byte_produced(sandbox_factory: Callable[..., Sandbox], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    values = {"ACP_ADMIN_PASSWORD": new_canary(), "DCS_AUTH_KEY": new_canary()}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    spec = write(tmp_path / "spec.yaml", example("dcs"))
    scan = Canaries(spec, {f"env ${k}": v for k, v in values.items()})
    sb = sandbox_factory(scenario="happy", speed=50)
    kc, work, outputs = str(sb.kubeconfig_path), tmp_path / "work", tmp_path / "produced"
    fast = ["--poll-interval", "0.1", "--timeout-scale", "0.05", "--accept-example-values"]
    printed: list[str] = []

    def run(*argv: str) -> int:
        rc = main(list(argv))
        captured = capsys.readouterr()
        printed.append(captured.out + captured.err)
        return rc

    assert run("render", "-f", str(spec), "--output-dir", str(outputs / "plain")) == 0
    assert run("render", "-f", str(spec), "--output-dir", str(outputs / "revealed"), "--include-secrets") == 0
    assert run("install", "-f", str(spec), "--kubeconfig", kc, "--workdir", str(work), "-o", "json", *fast) == 0
    assert run("--debug", "install", "-f", str(spec), "--kubeconfig", kc, "--workdir", str(work), "-v", *fast) == 0
    bad_kc = tmp_path / "bad.kubeconfig"
    bad_kc.write_text("clusters: [unclosed\n")
    assert run("--debug", "install", "-f", str(spec), "--kubeconfig", str(bad_kc), "--workdir",
               str(tmp_path / "work2"), *fast) == 10
    assert run("status", "--workdir", str(work)) == 0
    assert run("status", "--workdir", str(work), "-o", "json") == 0
    bundle = outputs / "bundle.tar.gz"
    assert run("gather", "--workdir", str(work), "--kubeconfig", kc, "-f", str(spec), "--out", str(bundle),
               "--timeout", "5") == 0

    # the scan: every printed byte, every file written, every member of the bundle
    assert all(printed) and len(printed) == 8
    leaks = [f"output of command {i}: {scan.leaks(text)}" for i, text in enumerate(printed) if scan.leaks(text)]
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p != spec]
    assert any(p.name == "state.json" for p in files) and bundle in files
    assert work / "report.html" in files  # the install report is scanned too
    holders = []
    for path in files:
        found = scan.leaks(path.read_bytes())
        if not found:
            continue
        if path.is_relative_to(outputs / "revealed") and stat.S_IMODE(path.stat().st_mode) == 0o600:
            holders.append(path.name)  # --include-secrets wrote it, 0600: where the value belongs
        else:
            leaks.append(f"{path.relative_to(tmp_path)}: {found}")
    assert holders, "the --include-secrets render holds the secrets (or the scan finds nothing)"
    with tarfile.open(bundle) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        assert members
        for member in members:
            data = tar.extractfile(member)
            assert data is not None
            found = scan.leaks(data.read())
            if found:
                leaks.append(f"{bundle.name}:{member.name}: {found}")
    assert leaks == []
