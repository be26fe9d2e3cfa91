"""The conformance suite itself: a registered pytest plugin whose golden and determinism checks
can fail. (Each bundled provider runs the suite from its own test module, on its full example:
``TestDcsConformance`` in tests/test_dcs.py and so on.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from acp_install.testing.conformance import HASH_SEEDS, UPDATE_GOLDEN, check_golden, rendered_files

FILES = {"global.yaml": b"kind: Cluster\n", "dr/encryption-provider.conf": b"keys: []\n"}


def test_golden_check_passes_on_equal_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UPDATE_GOLDEN, raising=False)
    (tmp_path / "dr").mkdir()
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    check_golden(FILES, tmp_path)


@pytest.mark.parametrize(("change", "says"), [
    ({"global.yaml": b"kind: Cluster\nextra: 1\n"}, "global.yaml differs"),
    ({"new.yaml": b"x\n"}, "differ from the golden ones"),
])
def test_golden_check_fails_on_a_change(change: dict[str, bytes], says: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UPDATE_GOLDEN, raising=False)
    (tmp_path / "dr").mkdir()
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    with pytest.raises(AssertionError, match=says):
        check_golden({**FILES, **change}, tmp_path)


def test_golden_check_fails_without_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UPDATE_GOLDEN, raising=False)
    with pytest.raises(AssertionError, match="UPDATE_GOLDEN=1"):
        check_golden(FILES, tmp_path / "missing")


def test_update_golden_rewrites_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "stale.yaml").write_text("gone\n")
    monkeypatch.setenv(UPDATE_GOLDEN, "1")
    check_golden(FILES, tmp_path)
    assert rendered_files(tmp_path) == dict(sorted(FILES.items()))
    monkeypatch.setenv(UPDATE_GOLDEN, "0")  # "0" compares
    with pytest.raises(AssertionError):
        check_golden({"global.yaml": b"other\n"}, tmp_path)


def test_the_two_hash_seeds_reorder_sets() -> None:
    """The premise of the cross-process check: output that iterates a set of strings differs
    between the two seeds, so a provider doing that fails it."""
    code = "print(list({'global-cp', 'global-worker', 'global-secret', 'global', 'cpaas-system', 'kcp'}))"
    outputs = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                              capture_output=True, text=True, check=True).stdout for seed in HASH_SEEDS}
    assert len(outputs) == 2


def test_registered_plugin_rewrites_asserts(tmp_path: Path) -> None:
    """A suite outside this repository (no conftest, no pytest_plugins line) gets the suite's
    asserts rewritten: a golden mismatch shows the differing line. UPDATE_GOLDEN=1 writes and
    repairs the folder."""
    (tmp_path / "test_author.py").write_text(
        "from pathlib import Path\n"
        "from acp_install.testing.conformance import ProviderConformance\n\n"
        "class TestDcs(ProviderConformance):\n"
        "    provider_id = 'dcs'\n"
        "    golden_dir = Path(__file__).parent / 'golden'\n")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "golden", "test_author.py"]
    env = {k: v for k, v in os.environ.items() if k != UPDATE_GOLDEN}

    def pytest_run(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=tmp_path, env={**env, **extra}, capture_output=True, text=True,
                              check=False)

    missing = pytest_run()
    assert missing.returncode == 1 and "UPDATE_GOLDEN=1" in missing.stdout
    assert pytest_run(**{UPDATE_GOLDEN: "1"}).returncode == 0
    assert pytest_run().returncode == 0
    global_yaml = tmp_path / "golden" / "global.yaml"
    global_yaml.write_text(global_yaml.read_text().replace("namespace: cpaas-system", "namespace: elsewhere", 1))
    changed = pytest_run()
    assert changed.returncode == 1, changed.stdout
    assert "global.yaml differs" in changed.stdout
    assert "assert '" in changed.stdout and "elsewhere" in changed.stdout  # rewritten: values and diff shown
    assert pytest_run(**{UPDATE_GOLDEN: "1"}).returncode == 0
    assert "elsewhere" not in global_yaml.read_text()
