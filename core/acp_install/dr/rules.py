"""The rules only a pair can break: what the two sides of a DR pair must share, and where they
must differ (the seed's "Optional Disaster Recovery Deployment").

Each side is first a valid spec on its own (:func:`~acp_install.dr.pair.load_pair` validated
it); these rules compare the two, and the two *plans* (what would be sent), because a provider
may place the side's VIP in fields the spec never names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from ..errors import SecretError
from ..plan import InstallPlan, build_plan
from ..records import Finding
from ..secrets import SecretRef
from ..wiring import etcd_sans
from .pair import SIDE_FIELDS, SIDES, Pair

__all__ = ["SideFinding", "check_pair", "key_digest"]


@attrs.frozen
class SideFinding:
    """A finding and the side whose value it is about (``pair`` for both)."""

    side: str
    finding: Finding


def key_digest(ref: SecretRef) -> str | None:
    """A short SHA-256 of the key (safe to print and compare across hosts); None if unreadable."""
    try:
        value = ref.reveal().get()
    except SecretError:
        return None
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def _err(side: str, path: str, message: str, fix: str, rule: str) -> SideFinding:
    return SideFinding(side, Finding("error", path, message, fix=fix, rule=rule))


def _warn(side: str, path: str, message: str, fix: str, rule: str) -> SideFinding:
    return SideFinding(side, Finding("warning", path, message, fix=fix, rule=rule))


def _plain(value: Any) -> Any:
    if attrs.has(type(value)) and not isinstance(value, SecretRef):
        return {f.name: _plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, SecretRef):  # where a secret is read is each host's business; the key
        return "<secret reference>"    # itself is compared by digest
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _diff(a: Any, b: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            yield from _diff(a.get(key), b.get(key), f"{path}.{key}" if path else key)
    elif a != b:
        yield path, a, b


def _shared_differences(pair: Pair) -> Iterator[SideFinding]:
    sides = [_plain(pair.side(s).spec) for s in SIDES]
    for data in sides:
        for key in SIDE_FIELDS:
            data.pop(key, None)
        if isinstance(data.get("dr"), dict):
            data["dr"].pop("role", None)
    for path, a, b in list(_diff(sides[0], sides[1]))[:20]:
        yield _err("standby", path, f"differs between the sides (primary: {a!r}, standby: {b!r})",
                   "both sides of a pair install the same release with the same settings; only "
                   f"{', '.join(SIDE_FIELDS)} differ (a DRPair file's base: keeps them together)",
                   "dr-shared")


def _address_pattern(address: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.-]){re.escape(address)}(?![\w-]|\.\w)")


def _mentions(data: Any, pattern: re.Pattern[str], path: str = "") -> Iterator[str]:
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from _mentions(value, pattern, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            yield from _mentions(value, pattern, f"{path}[{i}]")
    elif isinstance(data, str) and pattern.search(data):
        yield path


def _object_name(obj: Mapping[str, Any]) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def _other_side_in_plan(side: str, plan: InstallPlan, other: str, addresses: Mapping[str, str]
                        ) -> Iterator[SideFinding]:
    """The other side's VIP or bootstrap host anywhere but a SAN list of this side's plan."""
    parts: list[tuple[str, Any]] = [(_object_name(o), o) for o in plan.manifest]
    if plan.extra_resources is not None:
        parts.append((_object_name(plan.extra_resources), plan.extra_resources))
    parts.append(("installer request", plan.installer_payload))
    for what, address in addresses.items():
        pattern = _address_pattern(address)
        for name, data in parts:
            for where in _mentions(data, pattern):
                if "SANs" in where:
                    continue  # both VIPs belong in the shared SAN lists
                yield _err(side, f"{name} {where}",
                           f"holds the {other} side's {what} {address}",
                           f"each side's objects and installer request name its own {what}; "
                           f"set {side}.{'controlPlaneVIP' if what == 'VIP' else 'hostIP'} (and "
                           f"{side}.platform) to the {side} side's values", "dr-side-values")


def _plan_sans(plan: InstallPlan) -> list[str] | None:
    for obj in plan.manifest:
        if obj.get("kind") == "KubeadmControlPlane":
            cc = ((obj.get("spec") or {}).get("kubeadmConfigSpec") or {}).get("clusterConfiguration") or {}
            sans = ((cc.get("etcd") or {}).get("local") or {}).get("serverCertSANs")
            return list(sans) if sans is not None else None
    return None


def check_pair(pair: Pair, *, plans: Mapping[str, InstallPlan] | None = None) -> list[SideFinding]:
    """Every cross-side rule, in one pass (the sides are valid specs already)."""
    p, s = pair.primary.spec, pair.standby.spec
    out: list[SideFinding] = []
    assert p.dr is not None and s.dr is not None  # a Pair's sides always have dr:
    if p.controlPlaneVIP == s.controlPlaneVIP:
        out.append(_err("standby", "controlPlaneVIP", f"both sides use the VIP {p.controlPlaneVIP}",
                        "each side has its own HA VIP", "dr-distinct"))
    if p.hostIP == s.hostIP:
        out.append(_err("standby", "hostIP", f"both sides use the bootstrap host {p.hostIP}",
                        "the two KIND bootstrap hosts are different machines (one per side)",
                        "dr-distinct"))
    for side, spec in (("primary", p), ("standby", s)):
        assert spec.dr is not None
        for field, want in (("primaryVIP", p.controlPlaneVIP), ("standbyVIP", s.controlPlaneVIP)):
            if getattr(spec.dr, field) != want:
                role = field.removesuffix("VIP")
                extra = (" (the standby's etcd-sync would follow the wrong cluster)"
                         if side == "standby" and role == "primary" else "")
                out.append(_err(side, f"dr.{field}", f"is {getattr(spec.dr, field)}, but the {role} "
                                f"side's controlPlaneVIP is {want}{extra}",
                                f"set dr.{field}: {want} on this side", "dr-vips"))
    keys = {side: key_digest(spec.dr.encryptionKey) for side, spec in (("primary", p), ("standby", s))
            if spec.dr is not None}
    if None not in keys.values() and keys["primary"] != keys["standby"]:
        out.append(_err("standby", "dr.encryptionKey",
                        f"the sides' encryption keys differ (sha256 {keys['primary']}... on the "
                        f"primary, {keys['standby']}... on the standby; the keys are not shown)",
                        "both sides need the same aescbc key: copy the primary's key file to the "
                        "standby's bootstrap host", "dr-key"))
    elif None in keys.values():
        unread = [side for side, digest in keys.items() if digest is None]
        out.append(_warn("pair", "dr.encryptionKey", f"cannot compare the keys here: the {' and '.join(unread)} "
                         "side's key is not readable on this host",
                         "compare `sha256sum` of the key on both bootstrap hosts (dr validate "
                         "prints each readable key's digest)", "dr-key"))
    out.extend(_shared_differences(pair))
    if any(f.finding.severity == "error" for f in out):
        return out
    plans = plans or {side: build_plan(pair.side(side)) for side in SIDES}
    sans = {side: _plan_sans(plans[side]) for side in SIDES}
    if sans["primary"] != sans["standby"]:
        out.append(_err("standby", "KubeadmControlPlane/global-kcp etcd.local.serverCertSANs",
                        f"differ between the sides (primary {sans['primary']}, standby {sans['standby']})",
                        "use the same SAN list on both sides (the seed's 'Add DR Certificate SANs')",
                        "dr-sans"))
    needed = {p.controlPlaneVIP, s.controlPlaneVIP, p.platformHost}
    for side in SIDES:
        missing = sorted(needed - set(sans[side] or etcd_sans(pair.side(side).spec)))
        if missing:
            out.append(_err(side, "KubeadmControlPlane/global-kcp etcd.local.serverCertSANs",
                            f"misses {', '.join(missing)}",
                            "the SANs list both VIPs and the platform host", "dr-sans"))
    for side, other in (("primary", "standby"), ("standby", "primary")):
        o = pair.side(other).spec
        out.extend(_other_side_in_plan(side, plans[side], other,
                                       {"VIP": o.controlPlaneVIP, "bootstrap host": o.hostIP}))
    return out
