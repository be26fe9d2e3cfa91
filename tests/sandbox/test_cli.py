"""``acp-install sandbox up/down`` as a user runs them (a real subprocess, real signals)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from acp_install.cli.main import cli, main

from sandbox_helpers import KUBECTL


def test_up_prints_addresses_and_down_stops_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    address = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "acp_install.cli.main",
            "sandbox",
            "up",
            "--state-dir",
            str(state),
            "--address",
            address,
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]  # type: ignore[union-attr]
        assert lines[0].startswith("kubeconfig: ") and lines[0].strip().endswith("kubeconfig")
        assert lines[2].strip() == f"installer:  http://{address}:8080"
        kubeconfig = lines[0].split(": ", 1)[1].strip()
        out = subprocess.run(
            [
                KUBECTL,
                "--kubeconfig",
                kubeconfig,
                "--cache-dir",
                str(tmp_path / "c"),
                "get",
                "ns",
                "cpaas-system",
                "-o",
                "name",
            ],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert out.stdout.strip() == "namespace/cpaas-system", out.stderr
        # a second `up` on the same state dir is refused
        assert main(["sandbox", "up", "--state-dir", str(state)]) == 7
        assert main(["sandbox", "down", "--state-dir", str(state)]) == 0
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not (state / "sandbox.pid").exists()


def test_down_without_sandbox_and_bad_scenario(tmp_path: Path) -> None:
    assert main(["sandbox", "down", "--state-dir", str(tmp_path)]) == 7
    assert main(["sandbox", "up", "--scenario", "nope", "--state-dir", str(tmp_path)]) == 2
    help_text = CliRunner().invoke(cli, ["sandbox", "up", "--help"]).output
    assert "--crds" in help_text and "--scenario" in help_text
