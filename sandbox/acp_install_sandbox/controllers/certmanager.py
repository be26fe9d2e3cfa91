"""cert-manager, simulated: Issuers become Ready and Certificates are issued into Secrets.

A bootstrapped minialauda already runs cert-manager (the Step 3 certificate recipes apply
``cert-manager.io/v1`` objects *before* any provider AppRelease), so its kinds are served from
startup (see :data:`..catalog.BOOTSTRAP_KINDS`). What this controller does, level-triggered:

- ``Issuer`` / ``ClusterIssuer``: ``selfSigned`` is Ready at once; ``ca`` is Ready once its
  ``secretName`` holds ``tls.crt`` and ``tls.key`` (``ErrGetKeyPair`` until then); any other
  type (ACME, Vault...) stays ``Ready=False`` (``NotSupported`` in the sandbox).
- ``Certificate``: once its issuer is Ready (and ``timing.certificate`` has passed), a real
  X.509 certificate is generated from the spec (``commonName``, ``dnsNames``, ``ipAddresses``,
  ``isCA``, ``duration``, ``usages``, ``privateKey``) and written to ``spec.secretName`` as a
  ``kubernetes.io/tls`` Secret with ``tls.crt``, ``tls.key`` and ``ca.crt`` (the CA
  certificate; the certificate itself when self-signed), with cert-manager's annotations. The
  Certificate gets ``Ready=True``, ``notBefore``/``notAfter``/``renewalTime`` and ``revision``.
  It is re-issued when its spec changes (new generation) or its Secret disappears.

A ClusterIssuer's CA Secret is looked up in the ``cert-manager`` namespace (cert-manager's
default ``--cluster-resource-namespace``). No ``CertificateRequest``/``Order`` objects are made.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import re
from typing import Any

from ..api import Api
from ..errors import ApiError
from ..kinds import BUILTIN, ResourceType
from ..scenarios import Scenario
from ..tls import issue_certificate
from .base import Clock, Controller, condition, set_condition

__all__ = ["CertManagerController"]

API_VERSION = "cert-manager.io/v1"
GROUP = "cert-manager.io"
MANAGER = "cert-manager-controller"
CLUSTER_RESOURCE_NAMESPACE = "cert-manager"
DEFAULT_DURATION = _dt.timedelta(hours=2160)  # cert-manager's default: 90 days
_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def go_duration(text: str | None, default: _dt.timedelta = DEFAULT_DURATION) -> _dt.timedelta:
    """``87600h``, ``2160h0m0s``, ``90m``... as a timedelta (``default`` when unset/invalid)."""
    s = str(text or "")
    parts = _GO_DURATION.findall(s)
    if not parts or "".join(a + u for a, u in parts) != s:
        return default
    return _dt.timedelta(seconds=sum(float(a) * _UNIT[u] for a, u in parts))


def _ts(t: _dt.datetime) -> str:
    return t.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _ready(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return dict(c)
    return None


class CertManagerController(Controller):
    def __init__(self, api: Api, clock: Clock, scenario: Scenario) -> None:
        super().__init__(api, clock, scenario)
        self._seen: dict[tuple[str, int], float] = {}
        self._secrets = next(rt for rt in BUILTIN if rt.plural == "secrets")

    def reconcile(self) -> None:
        issuer_rt = self.rt(API_VERSION, "Issuer")
        cluster_issuer_rt = self.rt(API_VERSION, "ClusterIssuer")
        cert_rt = self.rt(API_VERSION, "Certificate")
        for rt in (issuer_rt, cluster_issuer_rt):
            if rt is None:
                continue
            items, _ = self.api.store.list(rt)
            for issuer in items:
                with contextlib.suppress(ApiError):
                    self._issuer(rt, issuer)
        if cert_rt is None:
            return
        certs, _ = self.api.store.list(cert_rt)
        for cert in certs:
            if cert["metadata"].get("deletionTimestamp"):
                continue
            with contextlib.suppress(ApiError):
                self._certificate(cert_rt, cert)

    # -- issuers -----------------------------------------------------------------------------

    def _issuer_state(self, issuer: dict[str, Any], cluster_scoped: bool) -> tuple[bool, str, str]:
        spec = issuer.get("spec") or {}
        if "selfSigned" in spec:
            return True, "IsReady", "self-signed issuer is ready"
        if "ca" in spec:
            secret_name = str((spec.get("ca") or {}).get("secretName") or "")
            ns = CLUSTER_RESOURCE_NAMESPACE if cluster_scoped else issuer["metadata"].get("namespace")
            secret = self.api.store.try_get(self._secrets, ns, secret_name) if secret_name else None
            data = (secret or {}).get("data") or {}
            if secret is None:
                return False, "ErrGetKeyPair", f'Error getting keypair for CA issuer: secrets "{secret_name}" not found'
            if not data.get("tls.crt") or not data.get("tls.key"):
                return False, "ErrInvalidKeyPair", f"Secret {secret_name} has no tls.crt/tls.key"
            return True, "KeyPairVerified", "Signing CA verified"
        kind = next(iter(spec), "unknown")
        return False, "NotSupported", f"issuer type {kind!r} is not emulated by the sandbox"

    def _issuer(self, rt: ResourceType, issuer: dict[str, Any]) -> None:
        meta = issuer["metadata"]
        ok, reason, message = self._issuer_state(issuer, not rt.namespaced)
        status = dict(issuer.get("status") or {})
        old = _ready(issuer)
        if old and old.get("status") == ("True" if ok else "False") and old.get("reason") == reason:
            return
        cond = condition("Ready", ok, reason, message)
        cond["observedGeneration"] = meta.get("generation", 1)
        status["conditions"] = set_condition(status.get("conditions") or [], cond)
        self.api.set_status(rt, meta.get("namespace"), meta["name"], status, manager=MANAGER)

    def _find_issuer(self, cert: dict[str, Any]) -> tuple[ResourceType | None, dict[str, Any] | None, str]:
        ref = (cert.get("spec") or {}).get("issuerRef") or {}
        kind = str(ref.get("kind") or "Issuer")
        name = str(ref.get("name") or "")
        group = str(ref.get("group") or GROUP)
        label = f"{kind}/{name}"
        if group != GROUP or kind not in ("Issuer", "ClusterIssuer"):
            return None, None, label
        rt = self.rt(API_VERSION, kind)
        if rt is None:
            return None, None, label
        ns = cert["metadata"].get("namespace") if kind == "Issuer" else None
        return rt, self.api.store.try_get(rt, ns, name), label

    # -- certificates ------------------------------------------------------------------------

    def _certificate(self, rt: ResourceType, cert: dict[str, Any]) -> None:
        meta = cert["metadata"]
        ns, name = meta.get("namespace"), meta["name"]
        spec = cert.get("spec") or {}
        generation = int(meta.get("generation", 1))
        secret_name = str(spec.get("secretName") or "")
        secret = self.api.store.try_get(self._secrets, ns, secret_name) if secret_name else None
        ready = _ready(cert)
        issued = (
            secret is not None
            and ((secret["metadata"].get("annotations") or {}).get("cert-manager.io/certificate-name") == name)
            and all(((secret.get("data") or {}).get(k)) for k in ("tls.crt", "tls.key"))
        )
        if ready and ready.get("status") == "True" and ready.get("observedGeneration") == generation and issued:
            return
        if self.held("Certificate", ns, name, cert):
            return
        now = self.clock.now()
        first = self._seen.setdefault((meta["uid"], generation), now)
        issuer_rt, issuer, label = self._find_issuer(cert)
        issuer_ok, _, issuer_msg = (
            self._issuer_state(issuer, not issuer_rt.namespaced)
            if issuer is not None and issuer_rt is not None
            else (False, "", "not found")
        )
        if not issuer_ok or now - first < self.scenario.timing.certificate:
            why = (
                f"Issuing certificate as Secret does not exist; issuer {label}: {issuer_msg}"
                if not issuer_ok
                else "Issuing certificate as Secret does not exist"
            )
            self._cert_status(rt, cert, False, "DoesNotExist" if not issued else "Reissuing", why)
            return
        assert issuer is not None and issuer_rt is not None
        if self.held("Secret", ns, secret_name, secret):
            return  # not issued yet: the Certificate keeps saying so
        signer_cert = signer_key = None
        ca = (issuer.get("spec") or {}).get("ca")
        if ca is not None:
            ca_ns = CLUSTER_RESOURCE_NAMESPACE if not issuer_rt.namespaced else ns
            ca_secret = self.api.store.get(self._secrets, ca_ns, str(ca.get("secretName")))
            signer_cert = base64.b64decode(ca_secret["data"]["tls.crt"])
            signer_key = base64.b64decode(ca_secret["data"]["tls.key"])
        key = spec.get("privateKey") or {}
        try:
            out = issue_certificate(
                common_name=str(spec.get("commonName") or ""),
                dns_names=tuple(str(d) for d in spec.get("dnsNames") or ()),
                ip_addresses=tuple(str(i) for i in spec.get("ipAddresses") or ()),
                is_ca=bool(spec.get("isCA")),
                usages=tuple(str(u) for u in spec.get("usages") or ("digital signature", "key encipherment")),
                duration=go_duration(spec.get("duration")),
                key_algorithm=str(key.get("algorithm") or "RSA"),
                key_size=int(key["size"]) if key.get("size") else None,
                issuer_cert_pem=signer_cert,
                issuer_key_pem=signer_key,
            )
        except (ValueError, TypeError) as err:
            self._cert_status(rt, cert, False, "Failed", f"The certificate request has failed to complete: {err}")
            return
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": {
                "name": secret_name,
                "namespace": ns,
                "labels": {"controller.cert-manager.io/fao": "true"},
                "annotations": {
                    "cert-manager.io/certificate-name": name,
                    "cert-manager.io/issuer-name": str((spec.get("issuerRef") or {}).get("name", "")),
                    "cert-manager.io/issuer-kind": str((spec.get("issuerRef") or {}).get("kind") or "Issuer"),
                    "cert-manager.io/issuer-group": GROUP,
                    "cert-manager.io/common-name": str(spec.get("commonName") or ""),
                    "cert-manager.io/alt-names": ",".join(spec.get("dnsNames") or ()),
                    "cert-manager.io/ip-sans": ",".join(spec.get("ipAddresses") or ()),
                    "cert-manager.io/uri-sans": "",
                },
            },
            "data": {"tls.crt": _b64(out.cert_pem), "tls.key": _b64(out.key_pem), "ca.crt": _b64(out.ca_pem)},
        }
        if secret is None:
            self.api.create(self._secrets, body, ns, manager=MANAGER)
        else:
            merged = dict(secret)
            merged["type"] = secret.get("type") or body["type"]
            merged["data"] = {**(secret.get("data") or {}), **body["data"]}
            merged["metadata"] = {
                **secret["metadata"],
                "annotations": {**(secret["metadata"].get("annotations") or {}), **body["metadata"]["annotations"]},
            }
            self.api.replace(self._secrets, ns, secret_name, merged, manager=MANAGER, check_rv=False)
        duration = out.not_after - out.not_before
        renew_before = go_duration(spec.get("renewBefore"), duration / 3)
        extra = {
            "notBefore": _ts(out.not_before),
            "notAfter": _ts(out.not_after),
            "renewalTime": _ts(out.not_after - min(renew_before, duration)),
            "revision": int((cert.get("status") or {}).get("revision") or 0) + 1,
        }
        self._cert_status(rt, cert, True, "Ready", "Certificate is up to date and has not expired", extra)
        self.event(cert, "Normal", "Issuing", "The certificate has been successfully issued", MANAGER)

    def _cert_status(
        self,
        rt: ResourceType,
        cert: dict[str, Any],
        ok: bool,
        reason: str,
        message: str,
        extra: dict[str, Any] | None = None,
    ) -> None:
        meta = cert["metadata"]
        status = dict(cert.get("status") or {})
        old = _ready(cert)
        if extra is None and old and old.get("reason") == reason and old.get("message") == message:
            return
        status.update(extra or {})
        cond = condition("Ready", ok, reason, message)
        cond["observedGeneration"] = meta.get("generation", 1)
        status["conditions"] = set_condition(status.get("conditions") or [], cond)
        self.api.set_status(rt, meta.get("namespace"), meta["name"], status, manager=MANAGER)
