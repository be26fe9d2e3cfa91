"""Small, pure checks on network values, shared by the core and providers."""

from __future__ import annotations

import ipaddress
import re

_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
K8S_VERSION = re.compile(r"^v\d+\.\d+\.\d+(-[0-9A-Za-z][0-9A-Za-z.-]*)?$")


def ip_error(value: str) -> str | None:
    """Why ``value`` is not an IP address, or ``None``."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return f"{value!r} is not an IP address"
    return None


def ipv4_error(value: str) -> str | None:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return f"{value!r} is not an IPv4 address"
    return None


def cidr_error(value: str) -> str | None:
    """Why ``value`` is not a network in CIDR form (host bits must be zero), or ``None``."""
    if "/" not in value:
        return f"{value!r} is not in CIDR form (address/prefix)"
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as err:
        return f"{value!r} is not a valid CIDR: {err}"
    return None


def host_error(value: str) -> str | None:
    """Why ``value`` is neither an IP address nor a DNS name, or ``None``."""
    if ip_error(value) is None or _HOSTNAME.match(value):
        return None
    return f"{value!r} is neither an IP address nor a DNS name"


def registry_address_error(value: str) -> str | None:
    """Registry addresses are ``host:port``: no scheme, no path, no ``/v2/``."""
    if "://" in value:
        return f"{value!r} has a scheme; registry addresses are host:port only"
    if "/" in value:
        return f"{value!r} has a path (e.g. /v2/); registry addresses are host:port only"
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        return f"{value!r} has no valid port; expected host:port such as 10.0.0.1:11443"
    host = host.strip("[]")
    if host_error(host):
        return f"{value!r}: {host!r} is not a host name or IP address"
    return None


def overlaps(a: str, b: str) -> bool:
    """Whether two valid CIDRs overlap (false for unparsable input: reported elsewhere)."""
    try:
        return ipaddress.ip_network(a, strict=False).overlaps(ipaddress.ip_network(b, strict=False))
    except ValueError:
        return False


def in_cidr(ip: str, cidr: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
