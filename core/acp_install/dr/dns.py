"""The DNS gate before the standby install: the platform host must resolve to the standby VIP.

The seed orders it: after the primary succeeds, switch the platform domain to the standby HA
VIP, *then* install the standby (its installer registers the platform under that name). The
gate shows what the name resolves to on this host now and what to do; ``--dns-switched``
asserts it by hand where this host cannot resolve the site's DNS (an air-gapped bootstrap host).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

import attrs

from .. import netcheck
from ..errors import GateClosed
from ..records import Finding

__all__ = ["DnsAnswer", "Resolver", "check_dns", "system_resolver"]

#: host name -> the addresses it resolves to (empty when it does not resolve)
Resolver = Callable[[str], Sequence[str]]


#: this host's resolver (the DNS gate and the ``platform-host`` preflight ask the same one)
system_resolver = netcheck.resolve


@attrs.frozen
class DnsAnswer:
    host: str
    want: str
    answers: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.want in self.answers


def check_dns(host: str, want: str, side: str, *, resolver: Resolver | None = None) -> DnsAnswer:
    """Raise :class:`GateClosed` unless ``host`` resolves to ``want`` (the ``side``'s VIP)."""
    try:
        ipaddress.ip_address(host)
        answers: tuple[str, ...] = (host,)
    except ValueError:
        answers = tuple((resolver or system_resolver)(host))
    answer = DnsAnswer(host, want, answers)
    if not answer.ok:
        now = ", ".join(answers) if answers else "nothing (it does not resolve here)"
        raise GateClosed([Finding(
            "error", "platformHost",
            f"DNS gate: {host} resolves to {now} on this host, not the {side} VIP {want}",
            fix=f"switch the platform domain's record to {want} (the seed: after the primary "
                f"succeeds, before the standby install), then re-run; pass --dns-switched if this "
                f"host cannot resolve the site's DNS and you switched it", rule="dr-dns")])
    return answer
