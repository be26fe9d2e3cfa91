"""Helpers every provider wrote again: its spec section, its findings, its worker groups.

Each provider used to carry its own copy of these (a ``_platform`` cast, ``_e``/``_w`` finding
builders with its rule id, the worker-group loop and its checks); one implementation here keeps
the four bundled providers and any third-party one behaving alike. Exported from
:mod:`acp_install.provider`; this module is private and may move.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any, Protocol, TypeVar

import attrs
from ruamel.yaml import YAML

from . import netcheck, templating
from .naming import PREFIX, WHY_PREFIX
from .records import Finding, KubeadmContribution, KubeadmFile, ObjectRef, SpecExample, WorkerGroup
from .spec.model import InstallSpec, doc
from .yamlio import join_path

P = TypeVar("P")

#: An OpenSSH public key line (``authorized_keys`` form, options not allowed).
SSH_PUBLIC_KEY = re.compile(
    r"^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)"
    r" [A-Za-z0-9+/]+={0,3}( .*)?$"
)


def platform_of(spec: InstallSpec, platform_type: type[P]) -> P:
    """The spec's ``platform:`` section as the provider's own class.

    The core types ``InstallSpec.platform`` loosely (it knows no provider); reading it through
    this gives the provider's builders its fields under mypy, and a spec structured for another
    provider fails here, naming both classes, instead of as an ``AttributeError`` deep inside a
    builder.
    """
    platform = spec.platform
    if not isinstance(platform, platform_type):
        raise TypeError(f"spec.platform is a {type(platform).__name__}, not a "
                        f"{platform_type.__name__}: the spec was loaded for another provider")
    return platform


@attrs.frozen
class Findings:
    """Builds the provider's :class:`Finding` records with its rule id filled in.

    A rule id lets users look a finding up and suppress it; most rules of a provider share its
    default id, a few have their own (``rule=`` on a call overrides it)::

        findings = Findings(rule="foo")
        yield findings.error("platform.region", "empty", "give the region name")
    """

    rule: str

    def error(self, path: str, message: str, fix: str, rule: str | None = None) -> Finding:
        """An error: the run stops before anything is applied."""
        return Finding("error", path, message, fix=fix, rule=self.rule if rule is None else rule)

    def warning(self, path: str, message: str, fix: str, rule: str | None = None) -> Finding:
        """A warning: printed, and the run goes on."""
        return Finding("warning", path, message, fix=fix, rule=self.rule if rule is None else rule)

    def global_name(self, path: str, name: str, what: str, rule: str | None = None) -> Iterator[Finding]:
        """``name`` must be an object name starting ``global-``, reported at the spec field.

        The core's naming check finds the same on the rendered manifest; this one points at the
        field the user wrote. ``rule`` is the id of an invalid name; a missing prefix is always
        ``global-prefix``, as in the core.
        """
        if not netcheck.DNS1123_SUBDOMAIN.match(name):
            yield self.error(path, f"{name!r} is not a valid object name",
                             "use lowercase letters, digits, '-' and '.'", rule)
        elif not name.startswith(PREFIX):
            yield self.error(path, f"{what} {name!r} lacks the 'global-' prefix ({WHY_PREFIX})",
                             f"rename it to global-{name}", "global-prefix")


class WorkerSection(Protocol):
    """What the core reads of a provider's worker section: the MachineDeployment it becomes."""

    @property
    def name(self) -> str: ...

    @property
    def replicas(self) -> int: ...


def worker_group(worker: WorkerSection, template: ObjectRef,
                 kubeadm: KubeadmContribution, **options: Any) -> WorkerGroup:
    """The MachineDeployment wiring of one worker section, drawing machines from ``template``.

    ``options`` are the other :class:`WorkerGroup` fields (``labels``, ``max_surge``...).
    """
    return WorkerGroup(name=worker.name, replicas=worker.replicas, infrastructure=template,
                       kubeadm=kubeadm, **options)


def worker_findings(workers: Iterable[WorkerSection], findings: Findings,
                    path: str = "platform.workers", rule: str | None = None) -> Iterator[Finding]:
    """What every provider checks on its worker list: distinct names, no negative replicas.

    Two groups with one name would render one MachineDeployment twice; the provider's own
    checks of each group's machines come after these.
    """
    seen: dict[str, int] = {}
    for i, w in enumerate(workers):
        wp = f"{path}[{i}]"
        if w.name in seen:
            yield findings.error(f"{wp}.name", f"worker group {w.name!r} repeats {path}[{seen[w.name]}]",
                                 "give each worker group its own name", rule)
        seen.setdefault(w.name, i)
        if w.replicas < 0:
            yield findings.error(f"{wp}.replicas", "must be >= 0", "the number of worker nodes", rule)


def spec_example(package: str, template: str = "platform-example.yaml.j2",
                 placeholders: tuple[str, ...] = ()) -> SpecExample:
    """The commented ``platform:`` example ``acp-install init`` writes, from the package's
    ``templates/`` (jinja2, so it can show derived defaults); ``placeholders`` names the fields
    whose example values a real spec must replace (see :class:`SpecExample`)."""
    return SpecExample(templating.render(template, package=package), placeholders=placeholders)


# --- the provider's complete documented kubeadm base ----------------------------------------

#: Where a base data file says which keys the kubelet patch gains from a Kubernetes minor on.
KUBELET_PATCH_SINCE = "kubeletPatchSince"


@cache
def _base_data(package: str, name: str) -> Mapping[str, Any]:
    text = resources.files(package).joinpath("templates", name).read_text()
    data = YAML(typ="safe", pure=True).load(text)
    if not isinstance(data, dict) or not {"controlPlane", "worker"} <= data.keys():
        raise ValueError(f"{package}/templates/{name}: needs controlPlane: and worker: sections")
    return data


@cache
def _content_file(package: str, name: str) -> str:
    return resources.files(package).joinpath("templates", name).read_text()


def _minor(text: str) -> tuple[int, int]:
    major, minor = str(text).split(".")
    return int(major), int(minor)


def _kubelet_patch(patch: Mapping[str, Any], extra: Mapping[str, Any]) -> str:
    """The JSON patch in the documented key order, ``extra`` right after ``kind`` (where every
    provider page puts the 1.35 key)."""
    out: dict[str, Any] = {}
    for key, value in patch.items():
        out[key] = value
        if key == "kind":
            out.update(extra)
    out.update({k: v for k, v in extra.items() if k not in out})
    return json.dumps(out, indent=2) + "\n"


def _base_file(package: str, entry: Mapping[str, Any], kubelet_extra: Mapping[str, Any]) -> KubeadmFile:
    if "kubeletPatch" in entry:
        content: Any = _kubelet_patch(entry["kubeletPatch"], kubelet_extra)
    elif "contentFile" in entry:
        content = _content_file(package, entry["contentFile"])
    else:
        content = entry["content"]
    return KubeadmFile(entry["path"], content, owner=entry.get("owner", "root:root"),
                       permissions=str(entry.get("permissions", "0644")), append=entry.get("append"))


def kubeadm_base(package: str, spec: InstallSpec, *, worker: bool,
                 name: str = "kcp-base.yaml") -> KubeadmContribution:
    """The provider's complete documented kubeadm body, read from ``<package>/templates/<name>``.

    The global install page tells the user to copy each provider's "Complete
    KubeadmControlPlane Configuration" and layer the global-specific fields on top; keeping that
    base as a data file in the provider (a verbatim copy of its pages) makes it reviewable line
    by line against them. The file has a ``controlPlane:`` and a ``worker:`` section with the
    kubeadm keys (``files``, ``preKubeadmCommands``, ``postKubeadmCommands``,
    ``clusterConfiguration``, ``initConfiguration``, ``joinConfiguration``); a file entry gives
    ``content``, ``contentFile`` (another file of ``templates/``) or ``kubeletPatch`` (a mapping
    rendered as the JSON patch). ``kubeletPatchSince: {"1.35": {...}}`` adds keys to every
    kubelet patch from that Kubernetes minor of ``spec.k8sVersion`` on, so one file covers
    every minor. The result is marked ``complete``: the core adds no baseline to it.
    """
    data = _base_data(package, name)
    since = tuple(v for v in sorted((data.get(KUBELET_PATCH_SINCE) or {}), key=_minor)
                  if spec.k8s_minor >= _minor(v))
    base = _base(package, name, worker, since)
    # the cached mappings are shared: hand out copies so no caller can change another's body
    return attrs.evolve(base, cluster_configuration=_copy(base.cluster_configuration),
                        init_configuration=_copy(base.init_configuration),
                        join_configuration=_copy(base.join_configuration))


def _copy(value: Any) -> Any:
    """A copy of plain YAML data (mappings and lists; scalars are immutable)."""
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


@cache
def _base(package: str, name: str, worker: bool, since: tuple[str, ...]) -> KubeadmContribution:
    """The base for one (package, file, role, set of kubelet-patch minors that apply)."""
    data = _base_data(package, name)
    section = data["worker" if worker else "controlPlane"]
    extra: dict[str, Any] = {}
    for minor in since:
        extra.update(data[KUBELET_PATCH_SINCE][minor])
    return KubeadmContribution(
        files=tuple(_base_file(package, f, extra) for f in section.get("files") or ()),
        pre_kubeadm_commands=tuple(section.get("preKubeadmCommands") or ()),
        post_kubeadm_commands=tuple(section.get("postKubeadmCommands") or ()),
        cluster_configuration=_copy(section.get("clusterConfiguration") or {}),
        init_configuration=_copy(section.get("initConfiguration") or {}),
        join_configuration=_copy(section.get("joinConfiguration") or {}),
        complete=True,
    )


def image_fields(image_repository: str | None, dns_image_tag: str | None,
                 etcd_image_tag: str | None) -> dict[str, Any]:
    """``clusterConfiguration`` image keys from the spec's fields (unset ones are left out)."""
    out: dict[str, Any] = {}
    if image_repository:
        out["imageRepository"] = image_repository
    if dns_image_tag:
        out["dns"] = {"imageTag": dns_image_tag}
    if etcd_image_tag:
        out["etcd"] = {"local": {"imageTag": etcd_image_tag}}
    return out


#: The vendor page that lists the CoreDNS / etcd tags (and the kube-ovn chart) of each release.
OS_SUPPORT_MATRIX = "OS Support Matrix (docs/en/overview/os-support-matrix.mdx)"


@cache
def _matrix_rows() -> tuple[Mapping[str, str], ...]:
    text = resources.files("acp_install").joinpath("templates", "os-support-matrix.yaml").read_text()
    return tuple(YAML(typ="safe", pure=True).load(text)["rows"])


#: The seed's "Compatibility and Version Inputs" table, by row: where a version finding cites it.
COMPATIBILITY_TABLE = "the seed's \"Compatibility and Version Inputs\" table"
VERSIONS_RULE = "versions"
_RELEASE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


def release(text: str) -> tuple[int, int, int] | None:
    """``v1.0.21`` (or ``1.0.21``, ``v1.0.21-rc.1``) -> ``(1, 0, 21)``; None when it does not start
    with a major.minor.patch (a chart version the gates cannot compare, so they stay silent)."""
    m = _RELEASE.match(str(text).strip())
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def acp_releases(k8s_version: str) -> tuple[str, ...]:
    """The ACP releases whose Alauda OS image carries ``k8s_version`` (OS Support Matrix rows,
    exact match); empty when no row has it. The spec names no ACP release, but the OS image it
    boots does, and ``k8sVersion`` must be that image's version (seed table, "MicroOS image or
    VM template" row): so this is how a version gate learns the release."""
    return tuple(row["acp"] for row in _matrix_rows() if row["kubernetes"] == k8s_version)


def package_gate(findings: Findings, version: str, minimum: tuple[int, int, int], *, package: str,
                 needs: str, source: str, path: str = "packages.provider.version",
                 severity: str = "error") -> Iterator[Finding]:
    """One documented "X needs package ``minimum`` or later" gate (rule ``versions``): a finding
    on ``path`` when ``version`` is an older major.minor.patch; silent when it does not parse.
    ``needs`` says what needs it (``controlPlaneHA``), ``source`` the vendor page quoted.
    The row named is the seed table's for that package (the kubeadm one for
    ``packages.kubeadm.version``, else the infrastructure provider one)."""
    have = release(version)
    if have is None or have >= minimum:
        return
    row = ("Kubeadm provider chart version" if path == "packages.kubeadm.version"
           else "Infrastructure provider chart version")
    want = "v" + ".".join(map(str, minimum))
    message = (f"{package} {version} is older than {want}, which {needs} needs "
               f"({COMPATIBILITY_TABLE}, row \"{row}\"; {source})")
    fix = f"use the {package} package {want} or later delivered with your release"
    if severity == "error":
        yield findings.error(path, message, fix, VERSIONS_RULE)
    else:
        yield findings.warning(path, message, fix, VERSIONS_RULE)


#: docs/en/release-notes/kubeadm.mdx, v1.0.12: "Standby Global Cluster protection — Kubeadm
#: bootstrap and control-plane reconciliation remain inactive on a standby Global Cluster."
KUBEADM_STANDBY_FIX = (1, 0, 12)


def kubeadm_findings(spec: InstallSpec) -> Iterator[Finding]:
    """The kubeadm provider's documented gate: a DR standby before v1.0.12 reconciles the
    replicated workload-cluster resources (a warning: a fixed issue, not a hard minimum)."""
    if spec.dr is not None and spec.dr.role == "standby":
        yield from package_gate(
            Findings(rule=VERSIONS_RULE), spec.packages.kubeadm.version, KUBEADM_STANDBY_FIX,
            package="Kubeadm provider", needs="a DR standby (Standby Global Cluster protection)",
            source="docs/en/release-notes/kubeadm.mdx v1.0.12", path="packages.kubeadm.version",
            severity="warning")


def version_findings(spec: InstallSpec) -> Iterator[Finding]:
    """The core's version-input rule (rule ``versions``): a well-formed ``k8sVersion`` that no
    OS Support Matrix row lists is a warning, since the seed table wants the version of the OS
    image and no published image has it (a typo, or a release newer than this matrix)."""
    if not netcheck.K8S_VERSION.match(spec.k8sVersion) or acp_releases(spec.k8sVersion):
        return
    minor = f"v{spec.k8s_minor[0]}.{spec.k8s_minor[1]}."
    same = sorted({row["kubernetes"] for row in _matrix_rows() if row["kubernetes"].startswith(minor)})
    yield Finding("warning", "k8sVersion",
                  f"{spec.k8sVersion} is the Kubernetes version of no Alauda OS image in the "
                  f"{OS_SUPPORT_MATRIX} ({COMPATIBILITY_TABLE}, rows \"K8S_VERSION\" and "
                  "\"MicroOS image or VM template\": it must match the target image)",
                  fix="use the Kubernetes version of your ACP release's row"
                      + (f" (for {minor}x it lists {', '.join(same)})" if same else ""),
                  rule=VERSIONS_RULE)


def matrix_hint(k8s_version: str, column: str) -> str:
    """What the OS Support Matrix lists in ``column`` (``coredns``, ``etcd``, ``kubeOvnChart``)
    for the rows of ``k8s_version``, e.g. ``"; for Kubernetes v1.34.5-3 it lists 1.14.2-v4.3.11
    (ACP v4.3.2)"``, or ``""`` when no row has that version. Quoted in warnings only: a
    Kubernetes version can belong to several ACP releases, and the spec names none."""
    by_value: dict[str, list[str]] = {}
    for row in _matrix_rows():
        if row["kubernetes"] == k8s_version:
            by_value.setdefault(row[column], []).append(row["acp"])
    if not by_value:
        return ""
    listed = " or ".join(f"{value} (ACP {', '.join(acps)})" for value, acps in by_value.items())
    return f"; for Kubernetes {k8s_version} it lists {listed}"


def image_tag_findings(findings: Findings, *, dns_image_tag: str | None, etcd_image_tag: str | None,
                       k8s_version: str = "", path: str = "platform", also: str = "",
                       kube_ovn_version: str | None = None) -> Iterator[Finding]:
    """Warn for each unset CoreDNS / etcd tag: kubeadm would fall back to its own default tag,
    which is not the image the Alauda OS image preloads (nor what the registry holds). The tags
    are release facts, so they are never defaulted; the warning quotes the matrix rows of
    ``k8s_version``, and ``also`` names a provider's further source (e.g. a ConfigMap).

    A tag (or ``kube_ovn_version``, the ``cpaas.io/kube-ovn-version`` chart version) that is set
    but is not what any matrix row of ``k8s_version`` lists is a warning too (rule ``versions``):
    the OS image of that Kubernetes version preloads another image. A warning, not an error: a
    hotfix image can be newer than the published matrix."""
    for field, value, what in (("dnsImageTag", dns_image_tag, "coredns"),
                               ("etcdImageTag", etcd_image_tag, "etcd")):
        if not value:
            yield findings.warning(
                f"{path}.{field}", f"not set: kubeadm uses its built-in {what} image tag, not the "
                "one of your Alauda OS image",
                f"set it to the {what} column of your ACP release's row in the {OS_SUPPORT_MATRIX}"
                f"{matrix_hint(k8s_version, what)}{also}", "image-tags")
    rows = [row for row in _matrix_rows() if row["kubernetes"] == k8s_version]
    for field, value, what in (("dnsImageTag", dns_image_tag, "coredns"),
                               ("etcdImageTag", etcd_image_tag, "etcd"),
                               ("kubeOvnVersion", kube_ovn_version, "kubeOvnChart")):
        if value and rows and all(row[what] != value for row in rows):
            acps = ", ".join(row["acp"] for row in rows)
            yield findings.warning(
                f"{path}.{field}", f"{value} is not the {what} version of the Alauda OS image of "
                f"Kubernetes {k8s_version} (ACP {acps}; {OS_SUPPORT_MATRIX}, the "
                f"{COMPATIBILITY_TABLE}'s \"MicroOS image or VM template\" row)",
                f"use {matrix_hint(k8s_version, what).removeprefix('; for Kubernetes ' + k8s_version + ' it lists ')}"
                " or make k8sVersion the version of the image these tags come from", VERSIONS_RULE)


class KcpBaseSection(Protocol):
    """What :func:`kcp_base_findings` reads of a provider's ``platform:`` section: the image tags
    and the kube-ovn chart version it renders, and the user's further Cluster annotations."""

    @property
    def dnsImageTag(self) -> str | None: ...

    @property
    def etcdImageTag(self) -> str | None: ...

    @property
    def kubeOvnVersion(self) -> str | None: ...

    @property
    def clusterAnnotations(self) -> Mapping[str, str]: ...


def kcp_base_findings(findings: Findings, spec: InstallSpec, platform: KcpBaseSection, *,
                      annotation: str, unset: str, also: str = "") -> Iterator[Finding]:
    """The warnings for the values the documented KubeadmControlPlane base and Cluster need from
    the user and cannot default: the CoreDNS / etcd tags (:func:`image_tag_findings`, ``also``
    passed on), then ``kubeOvnJoinCIDR`` and ``platform.kubeOvnVersion`` when neither the field
    nor a ``clusterAnnotations`` entry gives the Cluster annotation it renders. Warnings: the
    install works, the cluster just differs from the documented one.

    The wording is the provider's, since each vendor page says it its own way: ``annotation``
    names the documented annotation (``"the Example page's Cluster annotation"``), ``unset``
    what a missing one means (``"is not rendered"``, ``"is required"``); the message reads
    ``not set: <annotation> cpaas.io/kube-ovn-join-cidr <unset>``."""
    yield from image_tag_findings(findings, dns_image_tag=platform.dnsImageTag,
                                  etcd_image_tag=platform.etcdImageTag, k8s_version=spec.k8sVersion,
                                  kube_ovn_version=platform.kubeOvnVersion, also=also)
    if not spec.kubeOvnJoinCIDR and "cpaas.io/kube-ovn-join-cidr" not in platform.clusterAnnotations:
        yield findings.warning("kubeOvnJoinCIDR", f"not set: {annotation} cpaas.io/kube-ovn-join-cidr "
                               f"{unset}", "give a /16 that overlaps neither clusterCIDR nor serviceCIDR",
                               "annotations")
    if not platform.kubeOvnVersion and "cpaas.io/kube-ovn-version" not in platform.clusterAnnotations:
        yield findings.warning("platform.kubeOvnVersion", f"not set: {annotation} cpaas.io/kube-ovn-version "
                               f"{unset}", "set it to the kube-ovn (chart) column of your release's row in the "
                               f"{OS_SUPPORT_MATRIX}{matrix_hint(spec.k8sVersion, 'kubeOvnChart')}",
                               "annotations")


#: What the spec field of each OS Support Matrix column renders, as :func:`matrix_field`
#: documents it: the text before the provider's note, and the text after it.
_MATRIX_FIELDS = {
    "coredns": ("clusterConfiguration.dns.imageTag: the coredns column of the OS Support Matrix row", ""),
    "etcd": ("clusterConfiguration.etcd.local.imageTag: the etcd column of the OS Support Matrix row", ""),
    "kubeOvnChart": ("cpaas.io/kube-ovn-version Cluster annotation",
                     ": the kube-ovn (chart) column of the OS Support Matrix"),
}


def matrix_field(column: str, note: str = "", *, where: str = "", unset: str = "unset is a warning") -> Any:
    """The optional spec field that takes one OS Support Matrix ``column`` (``coredns`` for
    ``dnsImageTag``, ``etcd`` for ``etcdImageTag``, ``kubeOvnChart`` for ``kubeOvnVersion``):
    default ``None``, since the value is a release fact the tool never invents, and the
    ``explain`` text every provider writes alike but for its own words: ``note`` (a
    parenthesis after the matrix row of a tag, after the annotation of the chart), ``where``
    (after the matrix) and what ``unset`` means. :func:`kcp_base_findings` warns about the
    unset ones and ``image_fields`` renders the tags."""
    if column not in _MATRIX_FIELDS:
        raise ValueError(f"{column!r} is not an OS Support Matrix column ({', '.join(_MATRIX_FIELDS)})")
    head, tail = _MATRIX_FIELDS[column]
    return attrs.field(default=None, metadata=doc(f"{head}{note}{tail}{where}; {unset}."))


#: A Kubernetes annotation / label key: optional DNS-subdomain prefix and '/', then a name.
QUALIFIED_NAME = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                            r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def annotation_findings(findings: Findings, path: str, annotations: Mapping[str, str]) -> Iterator[Finding]:
    """Errors for annotation keys the API server would reject, so a typo in a user-given
    annotation stops the run before anything is applied instead of failing the apply."""
    for key in annotations:
        prefix = key.rpartition("/")[0]
        if not QUALIFIED_NAME.match(key) or len(prefix) > 253:
            yield findings.error(join_path(path, key), f"{key!r} is not a valid annotation key",
                                 "use [prefix/]name: a DNS subdomain prefix, a name of at most 63 "
                                 "letters, digits, '-', '_' or '.'", "annotations")
