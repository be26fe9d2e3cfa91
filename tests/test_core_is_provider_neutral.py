"""The core names no provider: everything provider-specific lives in a plugin distribution."""

from __future__ import annotations

import re
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "core" / "acp_install"
PROVIDER_WORDS = re.compile(
    r"dcs|vsphere|vmware|hcs|huawei|cloud.?stack|baremetal|bare.metal|elemental|"
    r"DCSCluster|VSphereCluster|HCSCluster|MachineInventory|SeedImage|MachineRegistration", re.I)

#: Installer protocol literals that contain a provider word but are identical for every
#: provider (the procedure says so): they are wire values, not provider knowledge.
PROTOCOL_LITERALS = (
    "dcs-import-extra-resources",  # Step 7 ConfigMap name, "kept for historical compatibility"
    "/cpaas-installer/api/config/dcs",  # Step 8 endpoint, the same path for every provider
    '"type": "Baremetal"',  # AppRelease global.cluster.type: chart-internal classifier
    "Baremetal on every provider",
    "HCS_SECRET_NAME",  # the Step 1 variable's old name, accepted as an alias
    "hcsSecretName",
)
#: The sandbox emulates what provider charts install; its one chart -> CRD table may name them.
EXEMPT = {"sandbox/charts.py"}


def core_files() -> list[Path]:
    return [p for p in CORE.rglob("*") if p.is_file() and p.suffix in {".py", ".j2", ".md"}
            and str(p.relative_to(CORE)) not in EXEMPT]


def test_core_has_files() -> None:
    assert len(core_files()) > 20


def test_no_provider_name_in_core() -> None:
    offenders = []
    for path in core_files():
        for n, line in enumerate(path.read_text().splitlines(), 1):
            cleaned = line
            for literal in PROTOCOL_LITERALS:
                cleaned = cleaned.replace(literal, "")
            if PROVIDER_WORDS.search(cleaned):
                offenders.append(f"{path.relative_to(CORE)}:{n}: {line.strip()}")
    assert not offenders, "provider names in core:\n" + "\n".join(offenders)


PLUGINS = CORE.parent.parent / "plugins"


def test_plugins_use_only_the_public_api() -> None:
    """Providers import ``acp_install`` itself, never its private modules (which may move)."""
    private = re.compile(r"^\s*(from|import) acp_install\.(?!testing\b)", re.M)
    offenders = [str(p.relative_to(PLUGINS)) for p in PLUGINS.rglob("acp_install_*/*.py")
                 if private.search(p.read_text())]
    assert len(list(PLUGINS.rglob("acp_install_*/plugin.py"))) == 4
    assert not offenders, f"private imports in: {offenders}"


def test_public_api_names_all_resolve() -> None:
    import acp_install

    assert set(acp_install.__all__) == set(acp_install._EXPORTS)
    for name in acp_install.__all__:
        assert getattr(acp_install, name) is not None, name
