"""DR pairs for tests: a ``kind: DRPair`` built from a provider's ``init`` example.

The primary keeps the example's VIP and bootstrap host; the standby gets its own (data only:
nothing ever connects to these addresses, the sandboxes serve on loopback).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from specs import example, write
from testcerts import write_cert

STANDBY_VIP = "192.168.2.100"
STANDBY_HOST = "192.168.2.10"
ETCD_SYNC_VERSION = "v4.3.2"


def pair_data(provider: str, tmp_path: Path) -> dict[str, Any]:
    base = example(provider)
    primary = {"controlPlaneVIP": base.pop("controlPlaneVIP"), "hostIP": base.pop("hostIP")}
    base["dr"] = {"encryptionKey": {"env": "ENCRYPTION_KEY"}, "etcdSyncVersion": ETCD_SYNC_VERSION}
    if provider == "baremetal":
        from test_baremetal import SA_KEY, SA_PUB

        (tmp_path / "sa.key").write_text(SA_KEY + "\n")
        (tmp_path / "sa.pub").write_text(SA_PUB + "\n")
        base["platform"]["dr"] = {"serviceAccountKey": {"file": str(tmp_path / "sa.key")},
                                  "serviceAccountPublicKey": {"file": str(tmp_path / "sa.pub")}}
        base["platform"]["documentedFields"] = {"encryptionProviderConfigRef": True}
        cert, key = write_cert(tmp_path / "certs", dns=[base["platformHost"]],
                               ips=[primary["controlPlaneVIP"], STANDBY_VIP])
        base["console"] = {"cert": {"thirdParty": {"certificate": {"file": str(cert)},
                                                   "privateKey": {"file": str(key)}}}}
    standby: dict[str, Any] = {"controlPlaneVIP": STANDBY_VIP, "hostIP": STANDBY_HOST}
    if provider == "baremetal":  # images served by each side's own bootstrap host
        own = {k: v.replace(primary["hostIP"], STANDBY_HOST) for k, v in base["platform"]["imageCatalog"].items()}
        standby["platform"] = {"seedImage": {"baseImage": base["platform"]["seedImage"]["baseImage"]
                                             .replace(primary["hostIP"], STANDBY_HOST)},
                               "imageCatalog": own}
    return {"apiVersion": "acp-install/v1alpha1", "kind": "DRPair", "base": base,
            "primary": primary, "standby": standby}


def write_pair(provider: str, tmp_path: Path, **changes: Any) -> Path:
    data = pair_data(provider, tmp_path)
    for side, values in changes.items():
        data[side].update(values)
    return write(tmp_path / "pair.yaml", data)


def fill_env(pair: Path, monkeypatch: Any) -> dict[str, str]:
    """Set every environment secret the pair reads that the canaries do not (canary values)."""
    import os

    from acp_install.dr import load_pair
    from acp_install.secrets import spec_refs

    loaded = load_pair(pair)
    unset = {r.env: f"canary-{r.env.lower().replace('_', '-')}-pair"
             for side in (loaded.primary, loaded.standby) for r in spec_refs(side.spec)
             if r.env and not os.environ.get(r.env)}
    for name, value in unset.items():
        monkeypatch.setenv(name, value)
    return unset
