"""What an embedder installs and imports, counted: the core alone vs the core with the sandbox.

    .venv/bin/python bench/footprint.py

Counts (not times, so the figures are the same on a loaded machine): source lines of each
distribution's package, the third-party requirements each declares (extras excluded), and the
modules an embedder's process imports to load a spec, build a plan and construct an Engine —
none of which may be the sandbox's.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"acp-install": ROOT / "core" / "acp_install",
            "acp-install-sandbox": ROOT / "sandbox" / "acp_install_sandbox"}

EMBEDDER = """
import sys, tempfile, pathlib
import acp_install
from acp_install.provider import SecretRef  # what a provider imports too
provider = acp_install.load_provider("dcs")
from acp_install.spec.example import example_spec
spec = pathlib.Path(tempfile.mkdtemp()) / "spec.yaml"
spec.write_text(example_spec(provider))
import os
os.environ.setdefault("ACP_ADMIN_PASSWORD", "x"); os.environ.setdefault("DCS_AUTH_KEY", "x")
plan = acp_install.build_plan(acp_install.load_spec(spec))
acp_install.Engine
mods = sorted(m for m in sys.modules if m.split(".")[0] in ("acp_install_sandbox", "cryptography"))
print(len(sys.modules), len(mods))
"""


def lines(package: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in package.rglob("*.py"))


def requirements(dist: str) -> list[str]:
    reqs = [r for r in metadata.requires(dist) or [] if "extra ==" not in r]
    return sorted(r.split(";")[0].split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip() for r in reqs)


def main() -> int:
    for dist, package in PACKAGES.items():
        reqs = requirements(dist)
        print(f"{dist:<22} {lines(package):>6} lines of Python   requires {len(reqs)}: {', '.join(reqs)}")
    core, sandbox = (lines(p) for p in PACKAGES.values())
    print(f"sandbox / core lines: {sandbox / core:.2f} (what embedders no longer install)")
    out = subprocess.run([sys.executable, "-c", EMBEDDER], capture_output=True, text=True, check=True).stdout.split()
    print(f"embedder process (load, plan, Engine): {out[0]} modules imported, {out[1]} of them sandbox or cryptography")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
