"""Small, pure checks on network values, shared by the core and providers."""

from __future__ import annotations

import ipaddress
import re
import socket

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


def registry_host(value: str) -> str:
    """The host part of a ``host:port`` registry address (IPv6 brackets removed)."""
    host, sep, _port = value.rpartition(":")
    return (host if sep else value).strip("[]")


def unreachable_from_nodes(host: str, kind_network: str | None) -> str | None:
    """Why nodes on their own subnet can never reach ``host``, or ``None``.

    Loopback and link-local addresses mean "this machine" / "this link" on every node, and the
    KIND container network exists only inside the bootstrap host, so none of them reaches the
    bootstrap registry from a new node. A DNS name other than ``localhost`` is not judged here
    (it needs the site's resolver).
    """
    if host.lower().rstrip(".") in ("localhost", "localhost.localdomain"):
        return f"{host!r} is this machine on every node"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if ip.is_loopback:
        return f"{host} is a loopback address (this machine on every node)"
    if ip.is_link_local:
        return f"{host} is a link-local address (never routed to the node subnet)"
    if ip.is_unspecified:
        return f"{host} is the unspecified address"
    if kind_network and in_cidr(host, kind_network):
        return (f"{host} is inside the KIND network {kind_network}, which exists only inside the "
                "bootstrap host")
    return None


def resolve(host: str) -> list[str]:
    """What this host's resolver answers for ``host`` (``getaddrinfo``, as the installer's clients
    see it): its addresses, sorted, or an empty list when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})
