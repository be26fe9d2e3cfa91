"""Disaster recovery as one operation: a pair described once, validated together, joined.

- :func:`load_pair` / :func:`pair_of_specs`: both sides of a pair as validated specs;
- :func:`check_pair`: every rule only a pair can break (shared key, SANs, VIPs, hosts);
- :func:`write_key`: a fresh shared aescbc key (``acp-install dr keygen``);
- :func:`check_dns`: the gate before the standby install;
- :class:`Join`: the seed's steps after both installs (``global-etcd-sync``, Pod restarts).
"""

from __future__ import annotations

from .dns import check_dns
from .join import Join, moduleinfo_body
from .keys import write_key
from .pair import Pair, is_pair_file, load_pair, pair_of_specs
from .rules import SideFinding, check_pair, key_digest

__all__ = ["Join", "Pair", "SideFinding", "check_dns", "check_pair", "is_pair_file", "key_digest",
           "load_pair", "moduleinfo_body", "pair_of_specs", "write_key"]
