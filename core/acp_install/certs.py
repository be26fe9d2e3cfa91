"""Reading the subject alternative names of a certificate you bring (``console.cert.thirdParty``).

A console certificate whose SANs miss the platform address fails TLS for every browser and
agent that reaches the platform through it; in a DR pair, agents that learned the primary keep
verifying the standby under the same names. Checking the SANs before the installer request is
cheap; finding out after a DNS switch is not. ``cryptography`` is imported only when a
certificate is actually checked (the CLI's start-up stays light).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = ["CertificateError", "missing_sans", "read_sans"]


class CertificateError(ValueError):
    """The text is not a PEM certificate (the message never quotes it)."""


def read_sans(pem: str | bytes) -> tuple[set[str], set[str]]:
    """(DNS names, IP addresses) of the first certificate of a PEM chain."""
    from cryptography import x509

    data = pem.encode() if isinstance(pem, str) else pem
    try:
        cert = x509.load_pem_x509_certificates(data)[0]
    except (ValueError, IndexError):
        raise CertificateError("not a PEM certificate chain") from None
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set(), set()
    dns = {n.lower().rstrip(".") for n in ext.get_values_for_type(x509.DNSName)}
    ips = {str(ip) for ip in ext.get_values_for_type(x509.IPAddress)}
    return dns, ips


def _dns_covered(name: str, dns: set[str]) -> bool:
    name = name.lower().rstrip(".")
    if name in dns:
        return True
    head, _, rest = name.partition(".")
    return bool(head and rest) and f"*.{rest}" in dns


def missing_sans(pem: str | bytes, names: Iterable[str]) -> list[str]:
    """Which of ``names`` (IP addresses or DNS names) the certificate's SANs do not cover.

    An IP must be an IP SAN (clients never match an IP against a DNS SAN); a DNS name matches
    exactly or through a one-label wildcard, as TLS clients do.
    """
    dns, ips = read_sans(pem)
    missing = []
    for name in names:
        try:
            covered = str(ipaddress.ip_address(name)) in ips
        except ValueError:
            covered = _dns_covered(name, dns)
        if not covered and name not in missing:
            missing.append(name)
    return missing
