"""A minimal third-party provider, as a plugin author would write one (used by contract tests).

It proves a new provider needs no core change: it is found through an entry point written into
a temporary ``*.dist-info`` directory, like ``pip install acp-install-foo`` would.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from acp_install import Finding, InstallSpec
from acp_install.provider import (
    Diagnosis,
    DRContribution,
    ImportEntry,
    InstallerPayloadPart,
    ObjectRef,
    ProviderInfo,
    ProviderManifest,
    ProviderPackage,
    SecretRef,
    SpecExample,
    hookimpl,
)

INFRA = "infrastructure.cluster.x-k8s.io/v1beta1"

#: A valid spec for this provider (secrets from $ADMIN_PW and $FOO_TOKEN).
FOO_SPEC: dict[str, Any] = {
    "apiVersion": "acp-install/v1alpha1", "kind": "GlobalClusterInstall", "provider": "foo",
    "hostIP": "10.0.0.10", "controlPlaneVIP": "10.0.0.100", "platformHost": "acp.example.com",
    "registryDomain": "acp.example.com:11443", "k8sVersion": "v1.34.5-3",
    "packages": {"kubeadm": {"path": "/k.tgz", "version": "v1.0.14"},
                 "provider": {"path": "/f.tgz", "version": "v0.1.0"}},
    "credentials": {"admin": {"username": "admin@cpaas.io", "password": {"env": "ADMIN_PW"}}},
    "platform": {"region": "eu-1", "token": {"env": "FOO_TOKEN"}},
}


@attrs.frozen
class FooPlatform:
    region: str
    token: SecretRef
    templateName: str = "global-cp-template"


class FooProvider:
    contract = "2"

    @hookimpl
    def acp_provider_info(self) -> ProviderInfo:
        return ProviderInfo(id="foo", display_name="Foo Cloud", contract=self.contract,
                            infra_cluster_kind="FooCluster", cluster_type="Foo",
                            bootstrap_format="cloud-config", platform_type=FooPlatform,
                            installer_endpoint="/cpaas-installer/api/config/foo",
                            import_configmap="foo-import-extra-resources",
                            chart_cluster_type="Foo")

    @hookimpl
    def acp_validate(self, spec: InstallSpec) -> Iterator[Finding]:
        if spec.platform.region == "nowhere":
            yield Finding("error", "platform.region", "unknown region", fix="use eu-1")

    @hookimpl
    def acp_packages(self, spec: InstallSpec) -> list[ProviderPackage]:
        return [ProviderPackage(release_name="cluster-api-provider-foo",
                                chart="ait/chart-cluster-api-provider-foo",
                                version=spec.packages.provider.version,
                                tarball=spec.packages.provider.path,
                                wait_crds=("fooclusters.infrastructure.cluster.x-k8s.io",),
                                values={"global": {"foo": {"region": spec.platform.region}}})]

    @hookimpl
    def acp_manifest(self, spec: InstallSpec) -> Iterator[ProviderManifest]:
        ns = spec.namespace
        secret = {"apiVersion": "v1", "kind": "Secret",
                  "metadata": {"name": spec.providerSecretName, "namespace": ns},
                  "stringData": {"token": spec.platform.token}}
        template = {"apiVersion": INFRA, "kind": "FooMachineTemplate",
                    "metadata": {"name": spec.platform.templateName, "namespace": ns},
                    "spec": {"template": {"spec": {"size": "large"}}}}
        cluster = {"apiVersion": INFRA, "kind": "FooCluster",
                   "metadata": {"name": "global", "namespace": ns},
                   "spec": {"credentialsRef": {"name": spec.providerSecretName}}}
        yield ProviderManifest(
            objects=(secret, template, cluster),
            control_plane_template=ObjectRef(INFRA, "FooMachineTemplate", spec.platform.templateName),
            cluster_labels={"foo.example/zone": spec.platform.region},
        )

    @hookimpl
    def acp_extra_resources(self, spec: InstallSpec,
                            objects: Sequence[Mapping[str, Any]]) -> list[ImportEntry]:
        kinds = sorted({o["kind"] for o in objects if o["apiVersion"] == INFRA})
        return [ImportEntry(f"{k.lower()}s.infrastructure.cluster.x-k8s.io", method="etcdctl",
                            etcd_key_base=f"/registry/infrastructure.cluster.x-k8s.io/{k.lower()}s/cpaas-system/")
                for k in kinds]

    @hookimpl
    def acp_installer_payload(self, spec: InstallSpec) -> InstallerPayloadPart:
        return InstallerPayloadPart(console_hosts=(), cluster=False)

    @hookimpl
    def acp_dr_fields(self, spec: InstallSpec, role: str) -> list[DRContribution]:
        return [DRContribution(infra_cluster_spec={"drRole": role})]

    @hookimpl
    def acp_diagnose(self, snapshot: Mapping[str, Any]) -> list[Diagnosis]:
        return [Diagnosis("Foo VM quota", f"{len(snapshot.get('Machine', []))} machines pending",
                          hint="raise the quota")]

    @hookimpl
    def acp_ready_gates(self, spec: InstallSpec, gate: str,
                        snapshot: Mapping[str, Any]) -> Iterator[Finding]:
        if gate == "control-plane" and len(snapshot.get("FooHost", [])) < spec.controlPlane.replicas:
            yield Finding("error", "FooHost", "not enough hosts registered", fix="power them on")

    @hookimpl
    def acp_spec_example(self) -> SpecExample:
        return SpecExample("platform:\n  region: eu-1\n  token: {env: FOO_TOKEN}\n")


plugin = FooProvider()
