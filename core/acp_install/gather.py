"""``acp-install gather``: one ``tar.gz`` for a support ticket, like ``openshift-install gather``.

What the seed's last line asks for when a stall is not in its table ("capture the installer
log, the progress API response, and the relevant kubectl describe output, then escalate"),
collected in one go from wherever it can be reached:

==========================  ==================================================================
``SUMMARY.md``              the diagnosis (the Common Stalls row of every visible symptom), the
                            phases, what was collected and what could not be, and why
``state/``                  the work directory's ``state.json`` and event log (``events.jsonl``)
``plan/``                   the rendered plan with secret placeholders (only with ``-f SPEC``)
``minialauda/``             every Cluster API and provider object in the namespace, ConfigMaps,
                            Pods, Events, Secrets **by name and key only**, and the logs of the
                            Cluster API controller Pods and of the cpaas-installer Pod
``installer/``              the progress API's current answer and the progress the runs saw
``host/installer.log``      ``/var/cpaas/data/installer.log`` when readable on this host
``global/``                 from the new global cluster (when reachable): Nodes, Pods of
                            ``kube-system`` and ``cpaas-system``, Events, ``ClusterModule/global``,
                            the platform Cluster and the Verification checks
==========================  ==================================================================

It works with a partial, failed or interrupted install and with unreachable clusters: each
source is collected on its own, and one that fails is listed under "Not collected" with the
reason. A cluster that refuses the first connection is reported at once (no connect grace):
nothing listening is the fact to report, and waiting a grace per cluster only delays the
bundle; once a cluster has answered, a refused connection is retried like any transient fault.
No secret value gets in: Secret objects are never written (name, type and key names only);
every file passes through one redactor that knows every secret of the spec it could
read, every Secret value it saw on either cluster and the new cluster's credentials.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import json
import os
import tarfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import yaml

from .clients.redact import MIN_SECRET_LENGTH, Redactor
from .errors import AcpInstallError

if TYPE_CHECKING:
    from .clients.kube import KubeClient

__all__ = ["INSTALLER_LOG", "Bundle", "gather"]

#: where the seed's Step 9 tails the installer log (on the bootstrap host)
INSTALLER_LOG = "/var/cpaas/data/installer.log"
#: Pods whose logs are collected: the Cluster API controllers (upstream label) and the installer
CONTROLLER_SELECTOR = "cluster.x-k8s.io/provider"
INSTALLER_SELECTOR = "service_name=cpaas-installer"
LOG_TAIL = 5000  # lines per container
FILE_TAIL = 5 * 1024 * 1024  # bytes of the host's installer.log
_BOOKKEEPING = ("managedFields",)


@attrs.frozen
class Bundle:
    """What :func:`gather` wrote: the archive, its members, and what it could not collect."""

    path: Path
    files: tuple[str, ...]
    missing: tuple[tuple[str, str], ...]
    diagnosis: tuple[str, ...]


@attrs.frozen
class _Yaml:
    """Data to be written as YAML, kept as data until the archive is written.

    Why not the YAML text: a dumper rewrites strings (``'`` doubled inside single quotes, long
    lines folded at spaces, escapes in double quotes), so a secret in a dumped value no longer
    matches the redactor's needles. The data is redacted first and dumped afterwards."""

    data: Any


class _Collector:
    """Files held in memory until every secret is known; redacted when the archive is written."""

    def __init__(self, redact: Redactor) -> None:
        self.redact = redact
        self.files: dict[str, str | _Yaml] = {}
        self.missing: list[tuple[str, str]] = []
        self.diagnosis: list[str] = []

    def add(self, name: str, text: str) -> None:
        self.files[name] = text

    def add_yaml(self, name: str, data: Any) -> None:
        self.files[name] = _Yaml(_strip(data))

    def text(self, name: str, default: str = "") -> str:
        """A collected text file as collected (not redacted yet), for the diagnosis."""
        got = self.files.get(name, default)
        return got if isinstance(got, str) else default

    def rendered(self, name: str) -> str:
        """A file's final, redacted bytes as text: YAML data redacted value by value before it
        is dumped, then the text redacted once more (a secret used as a key, say)."""
        got = self.files[name]
        if isinstance(got, _Yaml):
            got = yaml.safe_dump(self.redact.data(got.data), sort_keys=False, default_flow_style=False)
        return self.redact(got)

    def miss(self, what: str, why: str) -> None:
        self.missing.append((what, why.splitlines()[0] if why else "unknown"))

    def secret_value(self, value: str) -> None:
        """A value read from a Secret: redacted everywhere (short ones are too common to be
        told from words, and real credentials are longer)."""
        if len(value) >= MIN_SECRET_LENGTH:
            self.redact.add(value)

    def attempt(self, what: str, fn: Callable[[], None]) -> bool:
        try:
            fn()
        except AcpInstallError as err:
            self.miss(what, err.message)
            return False
        except OSError as err:
            self.miss(what, err.strerror or type(err).__name__)
            return False
        return True


def _strip(data: Any) -> Any:
    """Objects without managedFields (noise) and with ``kubectl.kubernetes.io`` last-applied
    annotations dropped (a copy of the object, secrets included when it is a Secret)."""
    if isinstance(data, Mapping):
        out = {}
        for k, v in data.items():
            if k in _BOOKKEEPING:
                continue
            if k == "annotations" and isinstance(v, Mapping):
                v = {a: b for a, b in v.items()
                     if a != "kubectl.kubernetes.io/last-applied-configuration"}
            out[k] = _strip(v)
        return out
    if isinstance(data, list):
        return [_strip(x) for x in data]
    return data


def _secrets_listing(c: _Collector, secrets: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Secrets as name, type and key names; every value goes to the redactor, nowhere else."""
    out = []
    for s in secrets:
        meta = s.get("metadata") or {}
        data = s.get("data") or {}
        for raw in data.values():
            c.secret_value(str(raw))
            with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):
                c.secret_value(base64.b64decode(str(raw), validate=True).decode())
        out.append({"name": meta.get("name"), "namespace": meta.get("namespace"),
                    "type": s.get("type"), "keys": sorted(data)})
    return out


# -- sources ---------------------------------------------------------------------------------


def _state(c: _Collector, workdir: Path) -> dict[str, Any] | None:
    from .engine.state import events_path, state_path

    state: dict[str, Any] | None = None
    path = state_path(workdir)
    if path.is_file():
        text = path.read_text()
        c.add("state/state.json", text)
        try:
            state = json.loads(text)
        except ValueError:
            c.miss("state: phases", "state.json is not JSON")
    else:
        c.miss("state/state.json", f"{path} does not exist (no install ran in this work directory)")
    events = events_path(workdir)
    older = events.with_suffix(".1.jsonl")
    if events.is_file() or older.is_file():
        c.add("state/events.jsonl", (older.read_text() if older.is_file() else "")
              + (events.read_text() if events.is_file() else ""))
    else:
        c.miss("state/events.jsonl", f"{events} does not exist")
    return state


def _plan(c: _Collector, spec_file: str | None) -> Any:
    if spec_file is None:
        c.miss("plan/", "no -f SPEC given")
        return None
    from .engine.preflight import check_secrets
    from .plan import build_plan
    from .spec.load import load_spec

    loaded = load_spec(spec_file)
    plan = build_plan(loaded)
    # every value of the spec it can read (none is required: a missing one is not collected)
    c.redact = check_secrets(plan, (), on_short=lambda _ref: None)
    for name, (text, _secret) in sorted(plan.files(include_secrets=False).items()):
        c.add(f"plan/{name}", text)
    return plan


def _minialauda(c: _Collector, kube: KubeClient, namespace: str, deadline: Any) -> dict[str, Any]:
    """Objects, Events, Pods, logs; returns what the diagnosis needs."""
    seen: dict[str, Any] = {"machines": [], "kcps": []}

    def secrets() -> None:
        items, _ = kube.list("v1", "Secret", namespace, deadline=deadline)
        c.add_yaml("minialauda/secrets.yaml", _secrets_listing(c, items))

    c.attempt("minialauda/secrets.yaml", secrets)

    def custom() -> None:
        crds, _ = kube.list("apiextensions.k8s.io/v1", "CustomResourceDefinition", deadline=deadline)
        for crd in sorted(crds, key=lambda o: str(o["metadata"]["name"])):
            spec = crd.get("spec") or {}
            group, kind = str(spec.get("group")), str((spec.get("names") or {}).get("kind"))
            versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
            if not versions:
                continue
            api_version = f"{group}/{versions[0]['name']}"
            namespaced = spec.get("scope") == "Namespaced"
            if not namespaced and "x-k8s.io" not in group:
                continue  # cluster-scoped kinds of other groups are not the install's
            what = f"minialauda/objects/{kind}.{group}.yaml"
            got: list[Any] = []

            def one(api_version: str = api_version, kind: str = kind, namespaced: bool = namespaced,
                    out: list[Any] = got) -> None:
                items, _ = kube.list(api_version, kind, namespace if namespaced else None,
                                     deadline=deadline)
                out.extend(items)

            if c.attempt(what, one) and got:
                c.add_yaml(what, got)
                if kind == "Machine" and group == "cluster.x-k8s.io":
                    seen["machines"] = got
                if kind == "KubeadmControlPlane":
                    seen["kcps"] = got

    c.attempt("minialauda/objects/", custom)
    for kind, name in (("ConfigMap", "configmaps"), ("Pod", "pods")):
        def listing(kind: str = kind, name: str = name) -> None:
            items, _ = kube.list("v1", kind, namespace, deadline=deadline)
            c.add_yaml(f"minialauda/{name}.yaml", items)

        c.attempt(f"minialauda/{name}.yaml", listing)

    def events() -> None:
        items, _ = kube.list("v1", "Event", namespace, deadline=deadline)
        items.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
        c.add_yaml("minialauda/events.yaml", items)

    c.attempt("minialauda/events.yaml", events)

    def logs() -> None:
        controllers, _ = kube.list("v1", "Pod", None, label_selector=CONTROLLER_SELECTOR, deadline=deadline)
        installers, _ = kube.list("v1", "Pod", namespace, label_selector=INSTALLER_SELECTOR,
                                  deadline=deadline)
        if not controllers:
            c.miss("minialauda/logs/ (Cluster API controllers)",
                   f"no Pod with label {CONTROLLER_SELECTOR} found")
        if not installers:
            c.miss("minialauda/logs/ (cpaas-installer)", f"no Pod with label {INSTALLER_SELECTOR} in {namespace}")
        for pod in [*controllers, *installers]:
            _pod_logs(c, kube, pod, "minialauda/logs", deadline)

    c.attempt("minialauda/logs/", logs)
    return seen


def _pod_logs(c: _Collector, kube: KubeClient, pod: Mapping[str, Any], under: str, deadline: Any) -> None:
    meta = pod.get("metadata") or {}
    ns, name = str(meta.get("namespace")), str(meta.get("name"))
    for container in [str(x.get("name")) for x in (pod.get("spec") or {}).get("containers") or []] or [""]:
        target = f"{under}/{ns}/{name}" + (f"_{container}" if container else "") + ".log"

        def read(container: str = container, target: str = target) -> None:
            c.add(target, kube.pod_log(name, ns, container=container or None, tail_lines=LOG_TAIL,
                                       deadline=deadline))

        c.attempt(target, read)


def _installer(c: _Collector, state: Mapping[str, Any] | None, timeout: float) -> str:
    """The progress API's answer now (returns its message while the install runs or failed)
    and the progress the runs saw."""
    address = str(((state or {}).get("installer") or {}).get("address") or "")
    message = ""
    if not address:
        c.miss("installer/progress.json", "no installer address in the state (the request was never sent)")
    else:
        import httpx

        from .clients.installer import PROGRESS_PATH

        try:
            r = httpx.get(f"http://{address}{PROGRESS_PATH}", timeout=min(timeout, 10.0))
            c.add("installer/progress.json", json.dumps({"status_code": r.status_code, "body": _json(r.text)},
                                                        indent=2) + "\n")
            body = _json(r.text)
            if isinstance(body, dict) and body.get("status") not in ("Success", "Pending"):
                message = str(body.get("message") or "")  # a finished or idle one says nothing
        except httpx.HTTPError as err:
            c.miss("installer/progress.json", f"{address}: {type(err).__name__}: {err}"[:200])
    history = [line for line in c.text("state/events.jsonl").splitlines()
               if '"phase": "monitor"' in line and '"event": "phase-progress"' in line]
    if history:
        c.add("installer/progress-seen.jsonl", "\n".join(history[-200:]) + "\n")
    return message


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _host_log(c: _Collector, path: str) -> None:
    p = Path(path)
    try:
        with p.open("rb") as fh:
            size = p.stat().st_size
            fh.seek(max(size - FILE_TAIL, 0))
            c.add("host/installer.log", fh.read().decode("utf-8", "replace"))
    except OSError as err:
        c.miss("host/installer.log", f"{path}: {err.strerror or type(err).__name__} "
                                     "(it is on the bootstrap host; run gather there)")


def _global(c: _Collector, kube: KubeClient, deadline: Any) -> list[Any]:
    from .engine.verify import verification

    for ns in ("cpaas-system", "kube-system"):
        def secrets(ns: str = ns) -> None:
            items, _ = kube.list("v1", "Secret", ns, deadline=deadline)
            c.add_yaml(f"global/secrets-{ns}.yaml", _secrets_listing(c, items))

        c.attempt(f"global/secrets-{ns}.yaml", secrets)
    for what, fn in (
        ("global/nodes.yaml", lambda: kube.list("v1", "Node", deadline=deadline)[0]),
        ("global/pods-kube-system.yaml", lambda: kube.list("v1", "Pod", "kube-system", deadline=deadline)[0]),
        ("global/pods-cpaas-system.yaml", lambda: kube.list("v1", "Pod", "cpaas-system", deadline=deadline)[0]),
        ("global/events.yaml", lambda: kube.list("v1", "Event", None, deadline=deadline)[0]),
        ("global/clustermodule-global.yaml",
         lambda: kube.get("cluster.alauda.io/v1alpha1", "ClusterModule", "global", deadline=deadline)),
        ("global/platform-cluster-global.yaml",
         lambda: kube.get("platform.tkestack.io/v1", "Cluster", "global", deadline=deadline)),
    ):
        def one(what: str = what, fn: Callable[[], Any] = fn) -> None:
            data = fn()
            if data is None:
                c.miss(what, "does not exist")
            else:
                c.add_yaml(what, data)

        c.attempt(what, one)
    checks: list[Any] = []

    def verify() -> None:
        checks.extend(verification(kube, deadline=deadline))
        c.add("global/verification.txt", "\n".join(
            line for ch in checks for line in (ch.format(), *(f"  {o}" for o in ch.observed))) + "\n")

    c.attempt("global/verification.txt", verify)
    return checks


# -- diagnosis -------------------------------------------------------------------------------


def _diagnose(seen: Mapping[str, Any], checks: list[Any], progress_message: str,
              global_pods: list[Any]) -> list[str]:
    """Every visible symptom with its Common Stalls row (the same functions the engine uses)."""
    from .engine import stalls
    from .engine.verify import row_of

    symptoms = [*stalls.machine_symptoms(seen.get("machines") or []),
                *[s for k in seen.get("kcps") or [] for s in stalls.kcp_symptoms(k)],
                *stalls.pod_symptoms(global_pods, where="new cluster: "),
                *stalls.progress_symptoms(progress_message)]
    lines: list[str] = []
    by_row: dict[str, list[str]] = {}
    rows: dict[str, stalls.Stall] = {}
    for s in symptoms:
        by_row.setdefault(s.stall.key, []).append(s.detail)
        rows[s.stall.key] = s.stall
    failing = [ch for ch in checks if not ch.ok]
    if failing:
        row = row_of(checks)
        rows.setdefault(row.key, row)
        by_row.setdefault(row.key, []).extend(f"verification: {ch.format()}" for ch in failing)
    if progress_message and not symptoms:
        row = stalls.progress_stall(progress_message)
        if row is not stalls.INSTALLER_STALLED or not failing:
            rows.setdefault(row.key, row)
            by_row.setdefault(row.key, []).append(f"installer progress: {progress_message}")
    for key, details in by_row.items():
        stall = rows[key]
        lines.append(f"### {stall.symptom}")
        lines.append(f"- first place to look: `{stall.look}`")
        lines.append(f"- what you are looking for: {stall.looking_for}")
        lines.extend(f"- seen: {d}" for d in dict.fromkeys(details))
        lines.append("")
    return lines


def _summary(c: _Collector, state: Mapping[str, Any] | None, diagnosis: list[str], started: float) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("acp-install")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        __version__ = "unknown"
    out = ["# acp-install gather", "",
           f"- collected: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(started))}",
           f"- acp-install {__version__}", ""]
    out.append("## Diagnosis")
    out.append("")
    out.extend(diagnosis or ["No symptom of the seed's Common Stalls table is visible in what was "
                             "collected. Attach this bundle, the installer log and the relevant "
                             "`kubectl describe` output when you escalate.", ""])
    out += ["## Install state", ""]
    if state:
        out.append(f"provider `{state.get('provider', '?')}`")
        out.append("")
        for name, entry in (state.get("phases") or {}).items():
            extra = f": {entry['error']}" if entry.get("error") else ""
            out.append(f"- `{name}`: {entry.get('status')}{extra}")
        installer = state.get("installer") or {}
        if installer:
            out.append(f"- installer request: {'sent' if installer.get('sent') else 'not confirmed sent'} "
                       f"to {installer.get('address', '?')}")
    else:
        out.append("no state file")
    out += ["", "## Collected", ""]
    out.extend(f"- `{name}`" for name in sorted(c.files))
    out += ["", "## Not collected", ""]
    out.extend([f"- `{what}`: {why}" for what, why in c.missing] or ["- nothing: every source answered"])
    return "\n".join(out) + "\n"


# -- entry -----------------------------------------------------------------------------------


def gather(*, kubeconfig: str | None, workdir: str | os.PathLike[str] = ".",
           out: str | os.PathLike[str] | None = None, spec_file: str | None = None,
           global_kubeconfig: str | os.PathLike[str] | None = None,
           namespace: str = "cpaas-system", installer_log: str = INSTALLER_LOG,
           timeout: float = 30.0, on_step: Callable[[str], None] | None = None) -> Bundle:
    """Collect everything (see the module docstring) into ``out`` (default
    ``acp-install-gather-<UTC time>.tar.gz`` in the current directory), mode 0600.

    ``kubeconfig`` is minialauda's (None: not collected); ``global_kubeconfig`` overrides the
    new cluster's kubeconfig Secret. Never raises for a source it cannot reach; raises
    :class:`~acp_install.errors.SpecError` for a bad ``spec_file``.
    """
    from .clients.kube import KubeClient
    from .clients.kubeconfigs import global_kubeconfig as find_global
    from .clients.retry import Deadline

    step = on_step or (lambda _m: None)
    started = time.time()
    c = _Collector(Redactor())
    work = Path(workdir)
    step("state and event log")
    state = _state(c, work)
    plan = _plan(c, spec_file)
    if plan is not None:
        namespace = plan.spec.namespace
    seen: dict[str, Any] = {}
    found = None
    if kubeconfig is None:
        c.miss("minialauda/", "no kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube/config)")
    else:
        step("minialauda")
        try:
            with KubeClient(kubeconfig, redact=c.redact, connect_grace=0) as kube:
                deadline = Deadline(timeout)
                kube.get("v1", "Namespace", namespace, deadline=deadline)  # reachable?
                seen = _minialauda(c, kube, namespace, deadline)
                if global_kubeconfig is None:
                    found = find_global(kube, namespace=namespace, deadline=deadline)
                    if found is None:
                        c.miss("global/", f"Secret {namespace}/global-kubeconfig does not exist in minialauda "
                                          "(control plane not provisioned)")
        except AcpInstallError as err:
            c.miss("minialauda/", err.message)
    if global_kubeconfig is not None:
        try:
            found = find_global(None, override=global_kubeconfig)
        except AcpInstallError as err:
            c.miss("global/", err.message)
    step("installer")
    progress_message = _installer(c, state, timeout)
    _host_log(c, installer_log)
    checks: list[Any] = []
    if found is not None:
        step(f"new global cluster {found.server}")
        for value in found.secret_values():
            c.redact.add(value)
        c.redact.add(found.text)
        try:
            with found.client(redact=c.redact, connect_grace=0) as gkube:
                deadline = Deadline(timeout)
                gkube.list("v1", "Namespace", deadline=deadline)  # reachable?
                checks = _global(c, gkube, deadline)
        except AcpInstallError as err:
            c.miss("global/", f"{found.server}: {err.message}")
    pods = c.files.get("global/pods-kube-system.yaml")
    global_pods = (pods.data if isinstance(pods, _Yaml) else None) or []
    diagnosis = _diagnose(seen, checks, progress_message, global_pods)
    c.add("SUMMARY.md", _summary(c, state, diagnosis, started))
    return _write(c, out, started, diagnosis)


def _write(c: _Collector, out: str | os.PathLike[str] | None, started: float,
           diagnosis: list[str]) -> Bundle:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(started))
    path = Path(out) if out is not None else Path(f"acp-install-gather-{stamp}.tar.gz")
    root = f"acp-install-gather-{stamp}"
    names = ["SUMMARY.md", *sorted(n for n in c.files if n != "SUMMARY.md")]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)
        with tarfile.open(fileobj=fh, mode="w:gz") as tar:
            for name in names:
                data = c.rendered(name).encode()
                info = tarfile.TarInfo(f"{root}/{name}")
                info.size, info.mtime, info.mode = len(data), int(started), 0o600
                tar.addfile(info, io.BytesIO(data))
    return Bundle(path, tuple(names), tuple(c.missing),
                  tuple(line.removeprefix("### ") for line in diagnosis if line.startswith("### ")))
