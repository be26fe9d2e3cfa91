"""Bare Metal readiness gates as pure functions over a snapshot of objects.

A snapshot maps a kind (``MachineInventory``, ``ConfigMap``, ``Job``, ``Secret``...) to the list
of objects of that kind, as ``acp_diagnose`` receives it. Each gate returns
:class:`~acp_install.provider.Finding` records: an ``error`` blocks the gate, a ``warning`` is shown; no
error means the gate is open. Nothing here talks to a cluster, so the engine, ``gather`` output
or a test fixture can all be checked the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from acp_install.provider import Finding, Findings

from .render import DEX_TLS, SYSTEM_AGENT_SA

HANDOFF = "baremetal-system-agent-handoff"
DIGEST = re.compile(r"^[0-9a-f]{64}$")
Snapshot = Mapping[str, Sequence[Mapping[str, Any]]]
findings = Findings(rule="baremetal")


@attrs.frozen
class ExpectedInventory:
    """An inventory the spec's pools name, and what the gate checks on it."""

    name: str
    pool: str
    ip: str | None = None


def _find(snapshot: Snapshot, kind: str, name: str) -> Mapping[str, Any] | None:
    for obj in snapshot.get(kind, ()):
        if (obj.get("metadata") or {}).get("name") == name:
            return obj
    return None


def _condition(obj: Mapping[str, Any], ctype: str) -> Mapping[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return dict(cond)
    return None


def certificates_gate(snapshot: Snapshot) -> list[Finding]:
    """Before the AppRelease (§5.2): ``dex.tls`` issued, Ready, with ``tls.crt``/``tls.key``/``ca.crt``."""
    out = []
    cert = _find(snapshot, "Certificate", "dex-tls-bootstrap")
    ready = _condition(cert, "Ready") if cert else None
    if cert is None or (ready or {}).get("status") != "True":
        out.append(findings.error("Certificate/dex-tls-bootstrap", "not Ready",
                                  "kubectl -n cpaas-system describe certificate dex-tls-bootstrap "
                                  "(is cert-manager running?)", "bm-dex-tls"))
    secret = _find(snapshot, "Secret", DEX_TLS)
    keys = set((secret or {}).get("data") or {})
    missing = sorted({"tls.crt", "tls.key", "ca.crt"} - keys)
    if missing:
        out.append(findings.error(f"Secret/{DEX_TLS}", f"missing key(s) {', '.join(missing)}",
                                  "wait for cert-manager to issue the certificate", "bm-dex-tls"))
    return out


def _has_ip(inventory: Mapping[str, Any], ip: str) -> bool:
    net = (inventory.get("spec") or {}).get("observedNetwork") or {}
    for iface in net.get("interfaces") or []:
        for addr in iface.get("addresses") or []:
            if str(addr).split("/")[0] == ip:
                return True
    return False


def _inventory_problems(inv: Mapping[str, Any], want: ExpectedInventory) -> Iterator[Finding]:
    where = f"MachineInventory/{want.name}"
    status = inv.get("status") or {}
    ready = _condition(inv, "Ready")
    if (ready or {}).get("status") != "True":
        reason = f" ({ready.get('reason')}: {ready.get('message', '')})" if ready else ""
        yield findings.error(where, f"not Ready{reason}",
                             f"kubectl -n cpaas-system describe machineinventory {want.name}; a host "
                             "without a TPM needs registration.emulateTPM: true", "bm-inventory-ready")
    plan = status.get("plan") or {}
    if not (plan.get("secretRef") or {}).get("name"):
        yield findings.error(f"{where} status.plan.secretRef", "no plan Secret yet",
                             "wait for the elemental operator to create the plan", "bm-inventory-plan")
    if plan.get("state") == "Failed":
        yield findings.error(f"{where} status.plan.state", "plan Failed",
                             "read the plan Secret's failed-output key", "bm-inventory-plan")
    volumes = ((inv.get("spec") or {}).get("storage") or {}).get("volumes") or []
    if volumes and (status.get("storage") or {}).get("phase") != "Prepared":
        yield findings.error(f"{where} status.storage.phase",
                             f"declared storage is {(status.get('storage') or {}).get('phase')!r}, not Prepared",
                             "check the StoragePrepared condition before pooling", "bm-inventory-storage")
    owner = ((inv.get("metadata") or {}).get("annotations") or {}).get("baremetal.alauda.io/pool")
    if owner and owner != want.pool:
        yield findings.error(where, f"already a member of pool {owner!r}",
                             "an inventory belongs to at most one active pool: pick another host",
                             "bm-inventory-pool")
    if want.ip and not _has_ip(inv, want.ip):
        yield findings.error(f"{where} spec.observedNetwork", f"does not report IP {want.ip}",
                             "check the host's network configuration or the expected ip in the spec",
                             "bm-inventory-network")


def registration_gate(snapshot: Snapshot, expected: Sequence[ExpectedInventory]) -> list[Finding]:
    """Before expecting control plane progress (§5.3): every named inventory registered and usable."""
    out: list[Finding] = []
    for want in expected:
        inv = _find(snapshot, "MachineInventory", want.name)
        if inv is None:
            out.append(findings.error(f"MachineInventory/{want.name}", "not registered",
                                      "boot the host from the SeedImage ISO, or fix the name in the spec "
                                      "(kubectl -n cpaas-system get machineinventory)",
                                      "bm-inventory-registered"))
            continue
        out.extend(_inventory_problems(inv, want))
    return out


def handoff_gate(snapshot: Snapshot, *, expected: Sequence[tuple[str, str]],
                 profile: str | None = None) -> list[Finding]:
    """§5.9: may the bootstrap host be decommissioned? ``snapshot`` is the final global cluster.

    ``expected`` lists (kind, name) of imported targets that must exist there; every
    ``MachineInventory``'s plan Secret must exist too. ``profile`` is compared with
    ``data.profile`` only when given (its format is not documented).
    """
    out: list[Finding] = []
    job = _find(snapshot, "Job", HANDOFF)
    if job is None:
        out.append(findings.error(f"Job/{HANDOFF}", "not found",
                                  "the provider runs it after the installer imports the cluster; wait",
                                  "bm-handoff-job"))
    else:
        status = job.get("status") or {}
        complete = (_condition(job, "Complete") or {}).get("status") == "True"
        if (_condition(job, "Failed") or {}).get("status") == "True":
            out.append(findings.error(f"Job/{HANDOFF}", "Failed",
                                      f"kubectl -n cpaas-system logs job/{HANDOFF}", "bm-handoff-job"))
        elif not (complete or int(status.get("succeeded") or 0) >= 1):
            out.append(findings.error(f"Job/{HANDOFF}", "not complete", "wait for the Job to finish",
                                      "bm-handoff-job"))
    cm = _find(snapshot, "ConfigMap", HANDOFF)
    if cm is None:
        out.append(findings.error(f"ConfigMap/{HANDOFF}", "not found", "wait for the handoff Job",
                                  "bm-handoff-ready"))
    else:
        data = cm.get("data") or {}
        if data.get("ready") != "true":
            out.append(findings.error(f"ConfigMap/{HANDOFF} data.ready", f"is {data.get('ready')!r}, "
                                      "not 'true'", "wait for the handoff Job to finish", "bm-handoff-ready"))
        if not data.get("profile"):
            out.append(findings.error(f"ConfigMap/{HANDOFF} data.profile", "empty",
                                      "re-run the handoff with the current provider config",
                                      "bm-handoff-profile"))
        elif profile is not None and data["profile"] != profile:
            out.append(findings.error(f"ConfigMap/{HANDOFF} data.profile",
                                      f"{data['profile']!r} does not match {profile!r}",
                                      "the handoff ran with another auth/endpoint mode: re-run it",
                                      "bm-handoff-profile"))
        if not DIGEST.match(str(data.get("config") or "")):
            out.append(findings.error(f"ConfigMap/{HANDOFF} data.config",
                                      "not a 64-character lowercase hex digest",
                                      "do not edit it; re-run the handoff Job", "bm-handoff-config"))
    for kind, name in expected:
        if _find(snapshot, kind, name) is None:
            out.append(findings.error(f"{kind}/{name}", "missing in the final global cluster",
                                      "check dcs-import-extra-resources and the installer log",
                                      "bm-handoff-import"))
    for inv in snapshot.get("MachineInventory", ()):
        secret = (((inv.get("status") or {}).get("plan") or {}).get("secretRef") or {}).get("name")
        inv_name = (inv.get("metadata") or {}).get("name")
        if not secret:
            out.append(findings.error(f"MachineInventory/{inv_name} status.plan.secretRef",
                                      "no plan Secret", "wait for the handoff to re-create plans",
                                      "bm-handoff-plan"))
        elif _find(snapshot, "Secret", str(secret)) is None:
            out.append(findings.error(f"Secret/{secret}", f"plan Secret of {inv_name} is missing",
                                      "import it (Step 7) or re-run the handoff", "bm-handoff-plan"))
    if _find(snapshot, "ServiceAccount", SYSTEM_AGENT_SA) is None and snapshot.get("ServiceAccount"):
        out.append(findings.warning(f"ServiceAccount/{SYSTEM_AGENT_SA}", "not found",
                                    "hosts authenticate with it after handoff", "bm-handoff-auth"))
    return out
