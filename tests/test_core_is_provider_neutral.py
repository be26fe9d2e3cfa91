"""The core and the sandbox name no provider: everything provider-specific lives in a plugin
distribution (the sandbox learns providers from their declarations)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "core" / "acp_install"
SANDBOX = ROOT / "sandbox" / "acp_install_sandbox"
#: ``dcs``/``hcs`` must not follow a letter: Cluster API's own short name ``mhcs``
#: (MachineHealthChecks) is not a provider.
PROVIDER_WORDS = re.compile(
    r"(?<![a-z])(dcs|hcs)|vsphere|vmware|huawei|cloud.?stack|baremetal|bare.metal|elemental|"
    r"DCSCluster|VSphereCluster|HCSCluster|MachineInventory|SeedImage|MachineRegistration", re.I)



def core_files() -> list[Path]:
    """Every source, template and schema file of the core and the sandbox distributions."""
    return [p for root in (CORE, SANDBOX) for p in root.rglob("*")
            if p.is_file() and p.suffix in {".py", ".j2", ".md", ".json", ".toml"}]


def test_core_has_files() -> None:
    files = core_files()
    assert len([p for p in files if p.is_relative_to(CORE)]) > 20
    assert len([p for p in files if p.is_relative_to(SANDBOX)]) > 20


def test_no_provider_name_in_core() -> None:
    offenders = []
    for path in core_files():
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if PROVIDER_WORDS.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:120]}")
    assert not offenders, "provider names in core:\n" + "\n".join(offenders)


PLUGINS = CORE.parent.parent / "plugins"


def test_plugins_use_only_the_public_api() -> None:
    """Providers import ``acp_install.provider`` (and the sandbox's author API in their sandbox
    declarations), never the private modules (which may move) nor the embedders' API."""
    allowed = re.compile(r"^\s*(from|import) acp_install(\.provider\b|_sandbox\.provider\b|_(?!sandbox)\w+)")
    offenders = []
    for path in PLUGINS.rglob("acp_install_*/**/*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.match(r"^\s*(from|import) acp_install", line) and not allowed.match(line):
                offenders.append(f"{path.relative_to(PLUGINS)}:{n}: {line.strip()}")
    assert len(list(PLUGINS.rglob("acp_install_*/plugin.py"))) == 4
    assert not offenders, "non-public imports:\n" + "\n".join(offenders)


def test_public_api_names_all_resolve() -> None:
    import acp_install
    import acp_install.provider

    assert set(acp_install.__all__) == set(acp_install._EXPORTS)
    for name in acp_install.__all__:
        assert getattr(acp_install, name) is not None, name
    for name in acp_install.provider.__all__:
        assert getattr(acp_install.provider, name) is not None, name
    # each audience's API is small and says each name once
    assert len(acp_install.__all__) == len(set(acp_install.__all__)) <= 25
    assert len(acp_install.provider.__all__) == len(set(acp_install.provider.__all__))
