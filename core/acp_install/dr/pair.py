"""A disaster-recovery pair described once: ``kind: DRPair`` with a shared base and two sides.

Why one file: the two sides of a pair must agree on the encryption key, the etcd SAN list, the
release (packages, versions) and the platform address, and differ exactly where the seed says
they differ (the side's VIP, its bootstrap host, what follows from those). Two hand-edited
specs drift; a base that both sides inherit cannot. So a side may set only the per-side fields
(:data:`SIDE_FIELDS`); the ``dr:`` role and both VIPs are derived from the sides, never typed.

.. code-block:: yaml

    apiVersion: acp-install/v1alpha1
    kind: DRPair
    base:                 # a GlobalClusterInstall without its per-side values
      provider: ...
      platformHost: platform.example.com
      dr: {encryptionKey: {file: /root/dr.key}, etcdSyncVersion: v4.3.2}
      ...
    primary: {controlPlaneVIP: 10.0.1.100, hostIP: 10.0.1.10, platform: {...}}
    standby: {controlPlaneVIP: 10.0.2.100, hostIP: 10.0.2.10, platform: {...}}

Each side's spec is ``base`` deep-merged with that side (mappings merge, lists are replaced),
then validated as any spec is; every finding names the pair file's line and the path as
written in the pair (``standby.platform...`` or ``base....``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ..errors import SpecError
from ..records import Finding
from ..spec.load import LoadedSpec, load_spec, parse, read_document
from ..wiring import deep_merge
from ..yamlio import LineIndex, line_of

__all__ = ["KIND", "SIDES", "SIDE_FIELDS", "Pair", "is_pair_file", "load_pair", "pair_of_specs"]

KIND = "DRPair"
SIDES = ("primary", "standby")
#: what may differ between the sides (the seed's per-side list: the side's HA VIP, its
#: bootstrap (KIND) host, the node-facing registry on that host; ``platform`` for the IaaS
#: placement of that side's machines). Everything else is shared through ``base``.
SIDE_FIELDS = ("controlPlaneVIP", "hostIP", "nodeRegistryAddress", "platform")
#: ``dr:`` keys the pair derives from the sides
DERIVED_DR = ("role", "primaryVIP", "standbyVIP")


@attrs.frozen
class Pair:
    """Both sides of a DR pair, each a validated spec, and where they came from."""

    primary: LoadedSpec
    standby: LoadedSpec
    #: the pair file, or the two spec files
    sources: tuple[str, ...]
    #: lines of the pair file's paths (empty for two specs)
    index: LineIndex = attrs.field(factory=dict, eq=False, repr=False)

    def side(self, name: str) -> LoadedSpec:
        if name not in SIDES:
            raise ValueError(f"side must be one of {SIDES}, not {name!r}")
        return self.primary if name == "primary" else self.standby

    @property
    def from_pair_file(self) -> bool:
        return len(self.sources) == 1


def _read(path: str | os.PathLike[str]) -> tuple[Any, LineIndex]:
    return read_document(path, what="DR pair", fix="give a kind: DRPair file (docs/user-guide.md §8)")


def is_pair_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` holds a ``kind: DRPair`` document (False for anything unreadable)."""
    try:
        data, _index = _read(path)
    except SpecError:
        return False
    return isinstance(data, Mapping) and data.get("kind") == KIND


def _side_index(index: LineIndex, side: str) -> LineIndex:
    """Lines of the merged side spec: where the side sets a path, else where the base does."""
    out: LineIndex = {}
    for path, line in index.items():
        if path.startswith("base."):
            out[path[5:]] = line
    for path, line in index.items():
        if path.startswith(f"{side}."):
            out[path[len(side) + 1:]] = line
    return out


def pair_path(path: str, side: str, side_data: Mapping[str, Any]) -> str:
    """The path of a side's finding as written in the pair file."""
    head = path.split(".")[0].split("[")[0]
    if head in side_data:
        return f"{side}.{path}" if path else side
    if head == "dr" and path.split(".")[-1] in DERIVED_DR:
        return f"{side}.controlPlaneVIP"
    return f"base.{path}" if path else "base"


def load_pair(path: str | os.PathLike[str]) -> Pair:
    """Read a ``kind: DRPair`` file into two validated sides.

    Raises one :class:`SpecError` with the findings of the pair's own shape and of both sides
    (each prefixed by where it is in the file), so one run reports everything.
    """
    source = str(path)
    data, index = _read(path)
    problems: list[Finding] = []

    def err(where: str, message: str, fix: str) -> None:
        problems.append(Finding("error", where, message, fix=fix, line=line_of(index, where)))

    if not isinstance(data, Mapping):
        raise SpecError([Finding("error", "", "the pair file must be a YAML mapping",
                                 fix="see docs/user-guide.md, 'A DR pair in one file'")], source=source)
    if data.get("kind") != KIND:
        err("kind", f"expected kind: {KIND}", f"set kind: {KIND} (a single install is kind: "
            "GlobalClusterInstall; validate it with acp-install validate)")
    for key in data:
        if key not in ("apiVersion", "kind", "base", *SIDES):
            err(str(key), "unknown key of a DR pair", "keep apiVersion, kind, base, primary, standby")
    base = data.get("base")
    if not isinstance(base, Mapping):
        err("base", "missing or not a mapping", "put everything the sides share under base:")
        base = {}
    base_dr = base.get("dr")
    if not isinstance(base_dr, Mapping):
        err("base.dr", "missing: a DR pair shares its encryption key here",
            "add base.dr: {encryptionKey: {file: ...}} (acp-install dr keygen --out FILE writes one)")
        base_dr = {}
    for key in DERIVED_DR:
        if key in base_dr:
            err(f"base.dr.{key}", "derived from the sides, not written in a pair",
                f"remove base.dr.{key}: the primary's and standby's controlPlaneVIP give the VIPs")
    sides: dict[str, Mapping[str, Any]] = {}
    for side in SIDES:
        part = data.get(side)
        if not isinstance(part, Mapping):
            err(side, "missing or not a mapping", f"add {side}: {{controlPlaneVIP: ..., hostIP: ...}}")
            part = {}
        for key in part:
            if key not in SIDE_FIELDS:
                err(f"{side}.{key}", "not a per-side value: both sides must agree on it",
                    f"move it to base.{key} (a side sets only {', '.join(SIDE_FIELDS)})")
        for key in ("controlPlaneVIP", "hostIP"):
            if key not in part:
                err(f"{side}.{key}" if part else side, f"{key} of the {side} side is missing",
                    f"set {side}.{key}")
        sides[side] = part
    if problems:
        raise SpecError(problems, source=source)

    vips = {s: sides[s].get("controlPlaneVIP") for s in SIDES}
    loaded: dict[str, LoadedSpec] = {}
    for side in SIDES:
        part = {k: v for k, v in sides[side].items() if k in SIDE_FIELDS}
        merged = deep_merge(base, part)
        merged["dr"] = {**base_dr, "role": side, "primaryVIP": vips["primary"],
                        "standbyVIP": vips["standby"]}
        merged.setdefault("apiVersion", data.get("apiVersion", "acp-install/v1alpha1"))
        merged.setdefault("kind", "GlobalClusterInstall")
        try:
            one = parse(merged, source=source, index=_side_index(index, side))
        except SpecError as error:
            problems.extend(_relocated(error.findings, side, part, index))
            continue
        loaded[side] = attrs.evolve(one, warnings=tuple(_relocated(one.warnings, side, part, index)))
    if problems:
        raise SpecError(problems, source=source)
    return Pair(loaded["primary"], loaded["standby"], (source,), index)


def _relocated(findings: Iterable[Finding], side: str, part: Mapping[str, Any],
               index: LineIndex) -> list[Finding]:
    out = []
    for f in findings:
        where = pair_path(f.path, side, part)
        out.append(attrs.evolve(f, path=where, line=line_of(index, where) or f.line))
    return out


def pair_of_specs(first: str | os.PathLike[str], second: str | os.PathLike[str]) -> Pair:
    """Two single-side specs (each with its ``dr:`` section), in either order."""
    a, b = load_spec(first), load_spec(second)
    by_role: dict[str, tuple[LoadedSpec, str]] = {}
    problems = []
    for one, path in ((a, str(first)), (b, str(second))):
        if one.spec.dr is None:
            problems.append(Finding("error", "dr", f"{path} has no dr: section",
                                    fix="each side of a pair needs dr: {role, primaryVIP, "
                                        "standbyVIP, encryptionKey}"))
            continue
        role = one.spec.dr.role
        if role in by_role:
            problems.append(Finding("error", "dr.role", f"{by_role[role][1]} and {path} are both "
                                    f"the {role} side", fix="one spec is the primary, the other "
                                    "the standby"))
        by_role[role] = (one, path)
    if problems:
        raise SpecError(problems, source=f"{first} + {second}")
    return Pair(by_role["primary"][0], by_role["standby"][0],
                (by_role["primary"][1], by_role["standby"][1]))
