"""Bare Metal's hand steps in ``RUNBOOK.md`` (``acp_runbook_steps``), from the global install
page's Bare Metal tabs and the create-cluster page: the bootstrap certificate wait and check,
booting the hosts from the seed ISO, waiting for the inventories, collecting the runtime Secret
names for Step 7, and the handoff gate.

Every spec value in a command is shell-quoted; the objects shown are the ones ``render`` writes
(the same builders), never a second copy of their content.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from acp_install.provider import InstallSpec, RunbookStep, dump_yaml_all, platform_of

from . import render
from .gates import HANDOFF
from .models import BaremetalPlatform

NS = "-n cpaas-system"


def _certificates(spec: InstallSpec) -> RunbookStep:
    host = shlex.quote(spec.hostIP)
    objects = dump_yaml_all(list(render.bootstrap_certificates(spec)))
    return RunbookStep("packages", "Bare Metal: the bootstrap certificate before the provider", f"""\
The `elemental-operator` mounts the CA from `cpaas-system/{render.DEX_TLS}` and the agents verify
`{render.bootstrap_url(spec)}` with it (`agentTLSMode: strict`), so the certificate must be Ready
before the provider AppRelease. `appreleases.yaml` starts with these objects; apply them
first and wait:

```bash
kubectl get crd certificates.cert-manager.io issuers.cert-manager.io
kubectl {NS} apply -f - <<'EOF'
{objects.rstrip()}
EOF
kubectl {NS} wait certificate/baremetal-bootstrap-ca --for=condition=Ready --timeout=120s
kubectl {NS} wait certificate/dex-tls-bootstrap --for=condition=Ready --timeout=120s
```

Check that `{render.DEX_TLS}` has its three keys and serves the bootstrap endpoint:

```bash
kubectl {NS} get secret {render.DEX_TLS} \\
  -o jsonpath='{{.data.tls\\.crt}}{{" "}}{{.data.tls\\.key}}{{" "}}{{.data.ca\\.crt}}{{"\\n"}}'
tmp_dir=$(mktemp -d)
kubectl {NS} get secret {render.DEX_TLS} -o jsonpath='{{.data.ca\\.crt}}' | base64 -d > "${{tmp_dir}}/ca.crt"
kubectl {NS} get secret {render.DEX_TLS} -o jsonpath='{{.data.tls\\.crt}}' | base64 -d > "${{tmp_dir}}/tls.crt"
openssl verify -CAfile "${{tmp_dir}}/ca.crt" "${{tmp_dir}}/tls.crt"
openssl x509 -in "${{tmp_dir}}/tls.crt" -noout -text | grep "IP Address:"{host}
echo | openssl s_client -connect {host}:{render.BOOTSTRAP_PORT} -servername {host} \\
  -CAfile "${{tmp_dir}}/ca.crt" -verify_return_error 2>&1 | grep "Verify return code: 0 (ok)"
rm -rf "${{tmp_dir}}"
```

If the bootstrap ALB keeps serving an older certificate, restart it and check again:
`kubectl {NS} rollout restart deploy/{shlex.quote(spec.ingressClassName)}`. Never import
`{render.DEX_TLS}` at Step 7: it is only for the bootstrap endpoint.
""")


def _hosts(spec: InstallSpec) -> RunbookStep:
    p = platform_of(spec, BaremetalPlatform)
    seed = shlex.quote(p.seedImage.name)
    names = [inv.name for pool in (p.controlPlane, *p.workers) for inv in pool.inventories]
    expected = " ".join(shlex.quote(n) for n in names)
    return RunbookStep("manifest", "Bare Metal: boot the hosts from the seed ISO, wait for the inventories",
                       f"""\
Wait for the `SeedImage` build (`status.state` `Completed`), then fetch the ISO and its checksum:

```bash
kubectl {NS} get seedimage {seed} -w
kubectl {NS} get seedimage {seed} -o jsonpath='{{.status.downloadURL}}{{"\\n"}}'
kubectl {NS} get seedimage {seed} -o jsonpath='{{.status.checksumURL}}{{"\\n"}}'
```

Boot every host from that ISO (virtual CD first in the boot order; wipe old boot disks so no
previous OS boots). Without DHCP in the live ISO, configure the NIC from the host console before
waiting. Each host registers as a `MachineInventory`; Cluster API makes progress only once the
inventories the pools name exist:

```bash
kubectl {NS} get machineinventory.elemental.cattle.io
kubectl {NS} get machineinventorypool
kubectl {NS} get baremetalcluster,baremetalmachine
for inv in {expected}; do
  kubectl {NS} get machineinventory.elemental.cattle.io "$inv" >/dev/null 2>&1 \\
    && echo "registered: $inv" || echo "not registered yet: $inv" >&2
done
```

Every inventory you use must show `Ready=True` and a non-empty `status.plan.secretRef.name`. Names
that differ from the spec's (`platform.controlPlane.inventories`) mean the spec must change: edit
it, render again and re-apply `global.yaml`.
""")


def _step7(spec: InstallSpec) -> RunbookStep:
    p = platform_of(spec, BaremetalPlatform)
    if not p.importRuntimeSecrets:
        text = ("`platform.importRuntimeSecrets: false`: the import list carries no plan or "
                "bootstrap-data Secrets (the handoff re-creates the plan Secrets), so "
                "`extra-resources.yaml` is complete as rendered.\n")
        return RunbookStep("extra-resources", "Bare Metal: the import list", text)
    return RunbookStep("extra-resources", "Bare Metal: collect the runtime Secret names", f"""\
The plan Secrets and kubeadm bootstrap-data Secrets exist only once Cluster API has created the
Machines, so the rendered `extra-resources.yaml` cannot name them. List them now:

```bash
kubectl {NS} get machineinventory.elemental.cattle.io \\
  -o jsonpath='{{range .items[*]}}{{.status.plan.secretRef.name}}{{"\\n"}}{{end}}'
kubectl {NS} get baremetalmachine \\
  -o jsonpath='{{range .items[*]}}{{.status.planSecretRef.name}}{{"\\n"}}{{end}}'
kubectl {NS} get machine -l cluster.x-k8s.io/cluster-name=global \\
  -o jsonpath='{{range .items[*]}}{{.spec.bootstrap.dataSecretName}}{{"\\n"}}{{end}}'
```

acp-install derives the complete list from these live objects and applies the ConfigMap (and
stops there, before the Step 8 request):

```bash
acp-install install -f "${{ACP_SPEC}}" --kubeconfig /var/cpaas/data/alauda.kubeconfig --workdir . \\
  --until extra-resources
```

By hand instead, add the names above to `extra-resources.yaml` as two `secrets` entries
(`method: kubectl`) before applying it. Never add `SeedImage` objects or the MachineRegistration
token Secret.
""")


def _handoff(spec: InstallSpec) -> RunbookStep:
    return RunbookStep("handoff", "Bare Metal: the system-agent handoff gate", f"""\
Not because `KubeadmControlPlane` is Ready, the installer reports success or the `{HANDOFF}` Job
is `Complete`: each imported host must finish the probe from the **final** global cluster. Read
its handoff record there (`acp-install handoff-check` below checks the same):

```bash
kubectl --kubeconfig global.kubeconfig {NS} get job {HANDOFF}
kubectl --kubeconfig global.kubeconfig {NS} get configmap {HANDOFF} \\
  -o jsonpath='{{.data.ready}}{{"\\n"}}{{.data.profile}}{{"\\n"}}{{.data.config}}{{"\\n"}}'
```

Go on only when the current Job completed, `data.ready` is `true`, `data.profile` matches the
authentication and endpoint mode, and `data.config` is a 64-character lowercase hex digest (never
reconstruct it), and every imported target and plan Secret exists in the final cluster.
""")


def steps(spec: InstallSpec) -> Iterator[RunbookStep]:
    yield _certificates(spec)
    yield _hosts(spec)
    yield _step7(spec)
    yield _handoff(spec)
