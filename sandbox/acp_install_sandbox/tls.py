"""A throw-away CA and server certificate for the sandbox API server.

Why generated per sandbox: clients must verify TLS exactly as against a real minialauda (the
kubeconfig carries ``certificate-authority-data``), and a fixed key in the repository would be a
secret anyone could use. ECDSA P-256 keys take about a millisecond to make, which keeps the
per-test fixture fast.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os
import ssl
import tempfile
from pathlib import Path
from typing import Any

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["Certificates", "IssuedCertificate", "issue_certificate", "make_certificates"]


@attrs.frozen
class Certificates:
    """PEM-encoded CA certificate, server certificate and server key."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes = attrs.field(repr=False)

    def server_context(self) -> ssl.SSLContext:
        """An SSL context serving the certificate (TLS 1.2+, HTTP/1.1 only)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        # load_cert_chain wants files; keep the key on disk only for the call, 0600.
        with tempfile.TemporaryDirectory(prefix="acp-sandbox-tls-") as tmp:
            cert = Path(tmp, "tls.crt")
            key = Path(tmp, "tls.key")
            cert.write_bytes(self.cert_pem)
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(self.key_pem)
            ctx.load_cert_chain(str(cert), str(key))
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx


def make_certificates(address: str, *, hostnames: tuple[str, ...] = ("localhost",)) -> Certificates:
    """A CA and a server certificate valid for ``address``, 127.0.0.1 and ``hostnames``."""
    now = _dt.datetime.now(_dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acp-install-sandbox-ca")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    ips = {ipaddress.ip_address(address), ipaddress.ip_address("127.0.0.1")}
    sans: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    sans += [x509.IPAddress(ip) for ip in sorted(ips, key=str)]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return Certificates(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


# -- certificates issued by the emulated cert-manager ------------------------------------------

_USAGES = {
    "digital signature": "digital_signature",
    "signing": "digital_signature",
    "content commitment": "content_commitment",
    "key encipherment": "key_encipherment",
    "data encipherment": "data_encipherment",
    "key agreement": "key_agreement",
    "cert sign": "key_cert_sign",
    "crl sign": "crl_sign",
}
_EXT_USAGES = {
    "server auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code signing": ExtendedKeyUsageOID.CODE_SIGNING,
}


@attrs.frozen
class IssuedCertificate:
    """PEM certificate, its key and the CA that signed it (itself when self-signed)."""

    cert_pem: bytes
    key_pem: bytes = attrs.field(repr=False)
    ca_pem: bytes
    not_before: _dt.datetime
    not_after: _dt.datetime


def _new_key(algorithm: str, size: int | None) -> Any:
    if algorithm.upper() == "ECDSA":
        curve = {384: ec.SECP384R1(), 521: ec.SECP521R1()}.get(size or 256, ec.SECP256R1())
        return ec.generate_private_key(curve)
    if algorithm.upper() == "ED25519":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=size or 2048)


def issue_certificate(
    *,
    common_name: str = "",
    dns_names: tuple[str, ...] = (),
    ip_addresses: tuple[str, ...] = (),
    is_ca: bool = False,
    usages: tuple[str, ...] = ("digital signature", "key encipherment"),
    duration: _dt.timedelta = _dt.timedelta(days=90),
    key_algorithm: str = "RSA",
    key_size: int | None = None,
    issuer_cert_pem: bytes | None = None,
    issuer_key_pem: bytes | None = None,
) -> IssuedCertificate:
    """A certificate as cert-manager issues it: self-signed without an issuer key pair,
    signed by the given CA otherwise. Raises ValueError for an unusable issuer pair or SAN."""
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    key = _new_key(key_algorithm, key_size)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else [])
    if issuer_key_pem is not None and issuer_cert_pem is not None:
        signer = serialization.load_pem_private_key(issuer_key_pem, password=None)
        issuer_cert = x509.load_pem_x509_certificate(issuer_cert_pem)
        issuer_name = issuer_cert.subject
        ca_pem = issuer_cert_pem
    else:
        signer, issuer_name, ca_pem = key, subject, b""
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    flags = dict.fromkeys(_USAGES.values(), False)
    for u in usages:
        if u in _USAGES:
            flags[_USAGES[u]] = True
    if is_ca:
        flags["key_cert_sign"] = True
    ext = [_EXT_USAGES[u] for u in usages if u in _EXT_USAGES]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + duration)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(**flags, encipher_only=False, decipher_only=False), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=not common_name)
    if ext:
        builder = builder.add_extension(x509.ExtendedKeyUsage(ext), critical=False)
    algorithm = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    cert = builder.sign(signer, algorithm)  # type: ignore[arg-type]
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    return IssuedCertificate(
        cert_pem=cert_pem,
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        ca_pem=ca_pem or cert_pem,
        not_before=now,
        not_after=now + duration,
    )
