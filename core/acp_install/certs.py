"""Reading the subject alternative names of a certificate you bring (``console.cert.thirdParty``).

A console certificate whose SANs miss the platform address fails TLS for every browser and
agent that reaches the platform through it; in a DR pair, agents that learned the primary keep
verifying the standby under the same names. Checking the SANs before the installer request is
cheap; finding out after a DNS switch is not. The SAN extension is read with a small DER
walker (the core carries no crypto library: nothing here verifies a signature, it only reads
names the certificate states).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Iterable, Iterator

__all__ = ["CertificateError", "missing_sans", "read_sans"]


class CertificateError(ValueError):
    """The text is not a PEM certificate (the message never quotes it)."""


_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)
_SAN_OID = bytes([0x55, 0x1D, 0x11])  # 2.5.29.17 subjectAltName


def _tlvs(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[int, bytes]]:
    """(tag, content) of each DER element in ``data[start:end]``."""
    i, end = start, len(data) if end is None else end
    while i < end:
        if i + 2 > end:
            raise CertificateError("truncated DER")
        tag, length = data[i], data[i + 1]
        i += 2
        if length & 0x80:
            n = length & 0x7F
            if not 0 < n <= 4 or i + n > end:
                raise CertificateError("bad DER length")
            length, i = int.from_bytes(data[i:i + n], "big"), i + n
        if i + length > end:
            raise CertificateError("truncated DER")
        yield tag, data[i:i + length]
        i += length


def _one(data: bytes, tag: int) -> bytes:
    elements = list(_tlvs(data))
    if not elements or elements[0][0] != tag:
        raise CertificateError("unexpected DER structure")
    return elements[0][1]


def read_sans(pem: str | bytes) -> tuple[set[str], set[str]]:
    """(DNS names, IP addresses) of the first certificate of a PEM chain."""
    data = pem.encode() if isinstance(pem, str) else pem
    m = _PEM.search(data)
    if m is None:
        raise CertificateError("not a PEM certificate chain")
    try:
        der = base64.b64decode(b"".join(m.group(1).split()), validate=True)
        tbs = _one(_one(der, 0x30), 0x30)
        extensions = [content for tag, content in _tlvs(tbs) if tag == 0xA3]
        dns: set[str] = set()
        ips: set[str] = set()
        for ext_list in extensions:
            for _tag, ext in _tlvs(_one(ext_list, 0x30)):
                parts = list(_tlvs(ext))
                if not parts or parts[0] != (0x06, _SAN_OID):
                    continue
                value = next(c for t, c in parts[1:] if t == 0x04)
                for tag, name in _tlvs(_one(value, 0x30)):
                    if tag == 0x82:  # dNSName
                        dns.add(name.decode("ascii").lower().rstrip("."))
                    elif tag == 0x87 and len(name) in (4, 16):  # iPAddress
                        ips.add(str(ipaddress.ip_address(name)))
    except (CertificateError, binascii.Error, ValueError, StopIteration, UnicodeDecodeError):
        raise CertificateError("not a PEM certificate chain") from None
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
