"""Host registration, simulated: hosts boot the seed ISO, register, install, join pools.

Hosts are never created by an infrastructure provider of this kind: a person boots each
physical host from an ISO built for a registration object, the host registers with the
operator and lives on as an *inventory* object that pools lend to machines. The sandbox plays
the operator, the hosts and the pool controller, generic over
:data:`.datacenter.HOST_REGISTRATION` (which kinds, annotations and hosts), level-triggered:

1. **Registration** object: ``status.registrationURL``/``registrationToken``, ``Ready=True``.
2. **Seed image** referencing it (``spec.registrationRef``): after the ``seed_image`` option the
   ISO is "built": ``status.state: Completed``, ``downloadURL``, ``checksumURL``.
3. **Hosts boot** it, one every ``host_boot`` option (``hosts_booting`` of them, all
   the datacenter's hosts by default). Each registers an inventory in the registration's
   namespace named by ``spec.machineName`` with the SMBIOS variables substituted (e.g.
   ``global-${System Information/UUID}``), the inventory label/annotation templates likewise,
   ``spec.tpmHash`` and ``spec.observedNetwork`` (its NIC, CIDR address, route, DNS). The
   operator makes the plan Secret at once (``status.plan.secretRef``); ``Ready=False``
   (``WaitingForPlan``) while the OS installs.
4. One ``host_boot`` later the host has installed, rebooted and applied its plan:
   ``status.plan.state: Applied``, ``Ready=True``. Storage: no ``spec.storage.volumes`` →
   ``status.storage.phase: Unmanaged`` and ``StoragePrepared=True`` (``NoManagedVolumes``);
   declared volumes → ``Preparing``, then ``Prepared`` one ``host_boot`` after they were seen
   (``AllRequiredVolumesPrepared``) — re-evaluated when the volumes change.
5. **Pools**: every registered member gets the pool annotation (``<annotation>: <pool>``)
   unless another pool holds it; ``status.total/available/allocated/...`` and ``Ready`` /
   ``MembersValid`` conditions name the members that are missing, not Ready or taken.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from acp_install_sandbox.provider import (
    BUILTIN,
    Api,
    ApiError,
    Clock,
    Controller,
    ResourceType,
    Scenario,
    condition,
    set_condition,
)

from .datacenter import HOST_REGISTRATION, Host, HostRegistration

__all__ = ["HostRegistrationController"]

MANAGER = "host-registration-operator"
_NOT_DNS = re.compile(r"[^a-z0-9.-]+")
_NOT_LABEL = re.compile(r"[^A-Za-z0-9_.-]+")

SEED_KIND = HOST_REGISTRATION.seed_image_kind
SEED_READY = f"{SEED_KIND}Ready"


def _cond(type_: str, ok: bool, reason: str, message: str, generation: int = 1) -> dict[str, Any]:
    """A condition with every field the provider CRDs require (reason and message too)."""
    c = condition(type_, ok, reason, message)
    c["reason"], c["message"], c["observedGeneration"] = reason, message, generation
    return c


def _get_condition(obj: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            return c
    return None


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _token(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]


class HostRegistrationController(Controller):
    def __init__(self, api: Api, clock: Clock, scenario: Scenario, spec: HostRegistration = HOST_REGISTRATION) -> None:
        super().__init__(api, clock, scenario)
        # scenario knobs of host registration, in sandbox seconds (see acp_install_baremetal.sandbox)
        self._seed_image = float(scenario.options.get("seed_image", 2.0))  # seed image -> ISO built
        self._host_boot = float(scenario.options.get("host_boot", 2.0))  # between boots; register -> Ready
        booting = scenario.options.get("hosts_booting")  # hosts that boot and register (None: all)
        self._hosts_booting = None if booting is None else int(booting)
        self.spec = spec
        self._secrets = next(rt for rt in BUILTIN if rt.plural == "secrets")
        self._seed_seen: dict[str, float] = {}  # seed image uid -> first seen
        self._registered: dict[str, str] = {}  # host uuid -> inventory uid
        self._inventory_host: dict[str, tuple[Host, float]] = {}  # inventory uid -> host, registered at
        self._storage_seen: dict[tuple[str, str], float] = {}  # (inventory uid, volumes hash) -> seen

    # -- entry ------------------------------------------------------------------------------

    def reconcile(self) -> None:
        s = self.spec
        reg_rt = self.rt(s.api_version, s.registration_kind)
        if reg_rt is None:
            return
        registrations, _ = self.api.store.list(reg_rt)
        by_key: dict[tuple[str, str], dict[str, Any]] = {}
        for reg in registrations:
            if reg["metadata"].get("deletionTimestamp"):
                continue
            by_key[(reg["metadata"]["namespace"], reg["metadata"]["name"])] = reg
            with contextlib.suppress(ApiError):
                self._registration(reg_rt, reg)
        seed_rt = self.rt(s.api_version, s.seed_image_kind)
        inv_rt = self.rt(s.api_version, s.inventory_kind)
        if seed_rt is None or inv_rt is None:
            return
        seeds, _ = self.api.store.list(seed_rt)
        boot_from: list[tuple[float, dict[str, Any]]] = []  # (built at, registration)
        for seed in seeds:
            with contextlib.suppress(ApiError):
                built = self._seed(seed_rt, seed, by_key)
                if built is not None:
                    boot_from.append(built)
        if boot_from:
            built_at, reg = min(boot_from, key=lambda b: b[0])  # every host boots the first ISO
            with contextlib.suppress(ApiError):
                self._boot_hosts(inv_rt, reg, built_at)
        inventories, _ = self.api.store.list(inv_rt)
        for inv in inventories:
            with contextlib.suppress(ApiError):
                self._inventory(inv_rt, inv)
        pool_rt = self.rt(s.pool_api_version, s.pool_kind)
        if pool_rt is not None:
            with contextlib.suppress(ApiError):
                self._pools(pool_rt, inv_rt)

    # -- registration and seed image ----------------------------------------------------------

    def _server_url(self) -> str:
        """The operator's server URL, from its chart's AppRelease values when it is there."""
        rt = self.rt("operator.alauda.io/v1alpha1", "AppRelease")
        if rt is not None:
            for rel in self.api.store.list(rt)[0]:
                url = _dig((rel.get("spec") or {}).get("values"), self.spec.server_url_value)
                if isinstance(url, str) and url:
                    return url.rstrip("/")
        return "https://127.0.0.1:12443"

    def _url_prefix(self) -> str:
        """The operator serves its API under its group's first label (``/<label>/registration``)."""
        return self.spec.api_version.split(".", 1)[0]

    def _registration(self, rt: ResourceType, reg: dict[str, Any]) -> None:
        meta = reg["metadata"]
        if (_get_condition(reg, "Ready") or {}).get("status") == "True":
            return
        token = _token(meta["uid"], "registration")
        status = dict(reg.get("status") or {})
        status["registrationToken"] = token
        status["registrationURL"] = f"{self._server_url()}/{self._url_prefix()}/registration/{token}"
        status["conditions"] = set_condition(
            status.get("conditions") or [],
            _cond("Ready", True, "SuccessfullyCreated", "registration ready", meta.get("generation", 1)),
        )
        self.api.set_status(rt, meta["namespace"], meta["name"], status, manager=MANAGER)

    def _seed(
        self, rt: ResourceType, seed: dict[str, Any], registrations: Mapping[tuple[str, str], dict[str, Any]]
    ) -> tuple[float, dict[str, Any]] | None:
        meta = seed["metadata"]
        ref = (seed.get("spec") or {}).get("registrationRef") or {}
        reg = registrations.get((str(ref.get("namespace") or meta["namespace"]), str(ref.get("name") or "")))
        now = self.clock.now()
        first = self._seed_seen.setdefault(meta["uid"], now)
        status = dict(seed.get("status") or {})
        gen = int(meta.get("generation", 1))
        if reg is None:
            cond = _cond(
                SEED_READY, False, "MissingRegistration", f"registration {ref.get('name')!r} not found", gen
            )
            if (_get_condition(seed, SEED_READY) or {}).get("reason") != cond["reason"]:
                status.update(state="NotStarted", conditions=set_condition(status.get("conditions") or [], cond))
                self.api.set_status(rt, meta["namespace"], meta["name"], status, manager=MANAGER)
            return None
        if now - first < self._seed_image:
            if status.get("state") != "Started":
                cond = _cond(SEED_READY, False, f"{SEED_KIND}BuildOngoing", "building the seed image", gen)
                status.update(state="Started", conditions=set_condition(status.get("conditions") or [], cond))
                self.api.set_status(rt, meta["namespace"], meta["name"], status, manager=MANAGER)
            return None
        if status.get("state") != "Completed":
            token = _token(meta["uid"], "seed")
            ext = (seed.get("spec") or {}).get("type") or "iso"
            base = f"{self._server_url()}/{self._url_prefix()}/{self.spec.download_path}/{token}"
            cond = _cond(SEED_READY, True, f"{SEED_KIND}BuildSuccess", "seed image available for download", gen)
            status.update(
                state="Completed",
                downloadToken=token,
                downloadURL=f"{base}/{meta['name']}.{ext}",
                checksumURL=f"{base}/{meta['name']}.{ext}.sha256",
                conditions=set_condition(status.get("conditions") or [], cond),
            )
            self.api.set_status(rt, meta["namespace"], meta["name"], status, manager=MANAGER)
        return first + self._seed_image, reg

    # -- hosts --------------------------------------------------------------------------------

    def _substitute(self, template: str, host: Host) -> str:
        for var, attr in self.spec.template_vars:
            template = template.replace(var, str(getattr(host, attr)))
        return template

    def _boot_hosts(self, inv_rt: ResourceType, reg: dict[str, Any], built_at: float) -> None:
        hosts = self.spec.hosts
        n = len(hosts) if self._hosts_booting is None else max(0, min(self._hosts_booting, len(hosts)))
        now = self.clock.now()
        for i, host in enumerate(hosts[:n]):
            if host.uuid in self._registered:
                continue
            if now < built_at + self._host_boot * (i + 1):
                break  # hosts boot one after the other
            self._register(inv_rt, reg, host)

    def _register(self, inv_rt: ResourceType, reg: dict[str, Any], host: Host) -> None:
        rspec = reg.get("spec") or {}
        ns = reg["metadata"]["namespace"]
        name = _NOT_DNS.sub(
            "-", self._substitute(str(rspec.get("machineName") or self.spec.default_machine_name), host).lower()
        )
        name = name.strip("-.")[:253]
        labels = {
            str(k): _NOT_LABEL.sub("-", self._substitute(str(v), host))[:63].strip("-_.")
            for k, v in (rspec.get(self.spec.inventory_labels_field) or {}).items()
        }
        annotations = {
            str(k): self._substitute(str(v), host)
            for k, v in (rspec.get(self.spec.inventory_annotations_field) or {}).items()
        }
        ip = host.address.split("/")[0]
        body = {
            "apiVersion": self.spec.api_version,
            "kind": self.spec.inventory_kind,
            "metadata": {"name": name, "namespace": ns, "labels": labels, "annotations": annotations},
            "spec": {
                "tpmHash": hashlib.sha256(host.uuid.encode()).hexdigest(),
                "observedNetwork": {
                    "interfaces": [{"name": host.interface, "mac": host.mac, "mtu": 1500, "addresses": [host.address]}],
                    "routes": [{"destination": "0.0.0.0/0", "gateway": host.gateway, "interface": host.interface}],
                    "dnsServers": [host.gateway],
                },
            },
        }
        existing = self.api.store.try_get(inv_rt, ns, name)
        if existing is None and self.held(self.spec.inventory_kind, ns, name, None):
            return  # the host waits at the registration screen; the others boot on
        if existing is not None:  # the name is taken (re-registration of a known host)
            self._registered[host.uuid] = existing["metadata"]["uid"]
            self._inventory_host[existing["metadata"]["uid"]] = (host, self.clock.now())
            return
        created, _ = self.api.create(inv_rt, body, ns, manager=MANAGER)
        uid = created["metadata"]["uid"]
        self._registered[host.uuid] = uid
        self._inventory_host[uid] = (host, self.clock.now())
        plan = self._plan_secret(created)
        status = {
            "plan": {"secretRef": {"kind": "Secret", "namespace": ns, "name": plan}},
            "conditions": [
                _cond(
                    "Ready", False, "WaitingForPlan", f"host {ip} registered; installing the OS and applying the plan"
                ),
            ],
        }
        self.api.set_status(inv_rt, ns, name, status, manager=MANAGER)
        self.event(created, "Normal", "Registered", f"host {host.uuid} ({ip}) registered", MANAGER)

    def _plan_secret(self, inv: dict[str, Any]) -> str:
        meta = inv["metadata"]
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": self.spec.plan_secret_type,
            "metadata": {
                "name": meta["name"],
                "namespace": meta["namespace"],
                "ownerReferences": [
                    {
                        "apiVersion": inv["apiVersion"],
                        "kind": inv["kind"],
                        "name": meta["name"],
                        "uid": meta["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "data": {"plan": base64.b64encode(json.dumps({"instructions": []}).encode()).decode()},
        }
        if self.api.store.try_get(self._secrets, meta["namespace"], meta["name"]) is None:
            self.api.create(self._secrets, body, meta["namespace"], manager=MANAGER)
        return str(meta["name"])

    def _inventory(self, rt: ResourceType, inv: dict[str, Any]) -> None:
        meta = inv["metadata"]
        known = self._inventory_host.get(meta["uid"])
        if known is None:
            return  # not one of the sandbox's hosts: nothing would ever apply its plan
        host, registered_at = known
        if self.held(self.spec.inventory_kind, meta["namespace"], meta["name"], inv):
            return
        now = self.clock.now()
        step = self._host_boot
        installed = now - registered_at >= step
        status = dict(inv.get("status") or {})
        gen = int(meta.get("generation", 1))
        conds = list(status.get("conditions") or [])
        if installed:
            plan = dict(status.get("plan") or {})
            plan.update(state="Applied", checksum=_token(meta["uid"], "plan"))
            status["plan"] = plan
            conds = set_condition(
                conds, _cond("Ready", True, "PlanSuccessfullyApplied", "plan successfully applied", gen)
            )
        volumes = ((inv.get("spec") or {}).get("storage") or {}).get("volumes") or []
        if not volumes:
            status["storage"] = {**(status.get("storage") or {}), "phase": "Unmanaged"}
            conds = set_condition(conds, _cond("StoragePrepared", True, "NoManagedVolumes", "no managed volumes", gen))
        else:
            digest = hashlib.sha256(json.dumps(volumes, sort_keys=True).encode()).hexdigest()
            seen = self._storage_seen.setdefault((meta["uid"], digest), now)
            prepared = installed and now - seen >= step
            storage = dict(status.get("storage") or {})
            storage["phase"] = "Prepared" if prepared else "Preparing"
            storage["appliedSpecHash" if prepared else "pendingSpecHash"] = digest
            if prepared:
                storage.pop("pendingSpecHash", None)
            status["storage"] = storage
            conds = set_condition(
                conds,
                _cond("StoragePrepared", True, "AllRequiredVolumesPrepared", "all required volumes prepared", gen)
                if prepared
                else _cond(
                    "StoragePrepared", False, "Preparing", f"preparing {len(volumes)} volume(s) on {host.uuid}", gen
                ),
            )
        status["conditions"] = conds
        if status != (inv.get("status") or {}):
            self.api.set_status(rt, meta["namespace"], meta["name"], status, manager=MANAGER)

    # -- pools --------------------------------------------------------------------------------

    def _pools(self, pool_rt: ResourceType, inv_rt: ResourceType) -> None:
        ann = self.spec.pool_annotation
        pools, _ = self.api.store.list(pool_rt)
        live = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pools}
        for pool in pools:
            meta = pool["metadata"]
            ns, pname = meta["namespace"], meta["name"]
            members = []
            for item in (pool.get("spec") or {}).get("machineInventories") or []:
                members.append(str(item.get("name") if isinstance(item, Mapping) else item))
            missing, not_ready, taken, available = [], [], [], 0
            for name in members:
                inv = self.api.store.try_get(inv_rt, ns, name)
                if inv is None:
                    missing.append(name)
                    continue
                owner = (inv["metadata"].get("annotations") or {}).get(ann)
                if owner and owner != pname and (ns, owner) in live:
                    taken.append(f"{name} (pool {owner})")
                    continue
                if owner != pname and not self.held(self.spec.inventory_kind, ns, name, inv):
                    inv["metadata"].setdefault("annotations", {})[ann] = pname
                    self.api.replace(inv_rt, ns, name, inv, manager=MANAGER, check_rv=False)
                if (_get_condition(inv, "Ready") or {}).get("status") == "True":
                    available += 1
                else:
                    not_ready.append(name)
            gen = int(meta.get("generation", 1))
            problems = [
                *([f"not registered: {', '.join(missing)}"] if missing else []),
                *([f"in another pool: {', '.join(taken)}"] if taken else []),
            ]
            valid = _cond(
                "MembersValid",
                not problems,
                "MembersValid" if not problems else ("MembersMissing" if missing else "MembersConflict"),
                "; ".join(problems) or f"{len(members)} member(s) valid",
                gen,
            )
            ready_ok = not problems and not not_ready
            ready = _cond(
                "Ready",
                ready_ok,
                "PoolReady" if ready_ok else "MembersUnavailable",
                f"{available} of {len(members)} inventories available"
                + (f"; not Ready: {', '.join(not_ready)}" if not_ready else "")
                + (f"; {'; '.join(problems)}" if problems else ""),
                gen,
            )
            status = dict(pool.get("status") or {})
            status.update(
                total=len(members),
                available=available,
                allocated=0,
                preparing=0,
                reprovisioning=0,
                unavailable=len(members) - available,
            )
            status["conditions"] = set_condition(set_condition(status.get("conditions") or [], valid), ready)
            if status != (pool.get("status") or {}):
                self.api.set_status(pool_rt, ns, pname, status, manager=MANAGER)
