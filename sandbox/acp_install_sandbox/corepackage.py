"""A fixture Core Package — a TEST DOUBLE of the one from the Customer Portal.

The real Core Package's ``installer/setup.sh`` brings minialauda up with KIND, which needs a
container engine and root. To exercise the engine's ``bootstrap`` phase (seed Step 2) against a
sandbox, :func:`make_core_package` writes a ``.tgz`` with the same layout::

    installer/setup.sh                  prints a few lines, then copies a sandbox's kubeconfig
                                        to where the real one writes minialauda's
    installer/res/<arch>/packtool       the stand-in packtool (:mod:`.packtool`), per arch

``setup.sh`` also appends a line to ``setup-runs.log`` next to ``installer/`` each time it
runs, so a test can count the runs. With ``fail=(code, message)`` it prints ``message`` on
stderr and exits ``code`` instead, before writing anything. Never a product path.
"""

from __future__ import annotations

import io
import os
import shlex
import sys
import tarfile
from collections.abc import Iterable
from pathlib import Path

__all__ = ["RUNS_LOG", "make_core_package"]

RUNS_LOG = "setup-runs.log"


def _setup_sh(kubeconfig_from: Path, kubeconfig_to: Path, fail: tuple[int, str] | None) -> str:
    src, dst = shlex.quote(str(kubeconfig_from)), shlex.quote(str(kubeconfig_to))
    lines = [
        "#!/bin/sh",
        "# test double of the Core Package's setup.sh (acp_install_sandbox.corepackage)",
        "set -e",
        f"echo run >> ../{RUNS_LOG}",
        'echo "setup: creating the KIND cluster minialauda (fixture)"',
        'echo "setup: starting the embedded registry and the installer (fixture)"',
    ]
    if fail is not None:
        code, message = fail
        lines += [f"echo {shlex.quote(message)} >&2", f"exit {int(code)}"]
    else:
        lines += [f"mkdir -p \"$(dirname {dst})\"", f"cp {src} {dst}", f"chmod 600 {dst}",
                  f"echo \"setup: kubeconfig written to {kubeconfig_to}\""]
    return "\n".join(lines) + "\n"


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def make_core_package(path: str | os.PathLike[str], *, kubeconfig_from: str | os.PathLike[str],
                      kubeconfig_to: str | os.PathLike[str], archs: Iterable[str] = ("amd64", "arm64"),
                      fail: tuple[int, str] | None = None) -> Path:
    """Write a fixture Core Package whose ``setup.sh`` copies ``kubeconfig_from`` (a sandbox's)
    to ``kubeconfig_to``; its path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    packtool = (f'#!/bin/sh\n# test double of packtool (acp_install_sandbox.packtool)\n'
                f'exec "{sys.executable}" -m acp_install_sandbox.packtool "$@"\n').encode()
    with tarfile.open(out, "w:gz") as tar:
        _add(tar, "installer/setup.sh",
             _setup_sh(Path(kubeconfig_from), Path(kubeconfig_to), fail).encode(), 0o755)
        for arch in archs:
            _add(tar, f"installer/res/{arch}/packtool", packtool, 0o755)
    return out
