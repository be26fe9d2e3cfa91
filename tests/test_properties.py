"""Property-based tests: nothing raises but the documented errors.

Hypothesis generates the inputs (arbitrary text and bytes, YAML-shaped text, JSON-like data,
Kubernetes-object-shaped mappings). The settings are derandomized with no deadline, so every
run sees the same examples whatever the machine's load: a failure reproduces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acp_install import naming
from acp_install.errors import PluginError, SpecError
from acp_install.records import Finding
from acp_install.spec.load import load_spec, parse
from acp_install.yamlio import YamlSyntaxError, load_all

from specs import example

PROPS = settings(max_examples=120, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=20))
json_like = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)),
    max_leaves=25)

#: YAML-shaped text: the characters YAML gives meaning to, more often than chance would
yaml_text = st.lists(st.sampled_from([*list("ab:-[]{},&*!|>'\"#%@` \n\t?0123."), "provider: dcs\n", "  ", "- "]),
                     max_size=80).map("".join)


@PROPS
@given(st.one_of(st.text(max_size=300), yaml_text))
def test_yaml_loader_raises_only_its_syntax_error(text: str) -> None:
    try:
        docs = load_all(text)
    except YamlSyntaxError as err:
        assert err.line is None or err.line >= 1
        return
    for _data, index, start in docs:
        assert start >= 1 and all(isinstance(k, str) and v >= 1 for k, v in index.items())


@PROPS
@given(st.one_of(st.binary(max_size=300), yaml_text.map(str.encode)))
def test_spec_loader_raises_only_spec_errors(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("p") / "spec.yaml"
    path.write_bytes(raw)
    with pytest.raises((SpecError, PluginError)) as err:
        load_spec(path)
    assert str(err.value)  # a message, never empty


BASE = example("dcs")
FIELDS = sorted(BASE)


@PROPS
@given(st.sampled_from(FIELDS), json_like)
def test_parse_with_any_value_in_any_field_raises_only_spec_errors(field: str, value: Any) -> None:
    data = {**BASE, field: value}
    try:
        parse(data)
    except (SpecError, PluginError) as err:
        text = str(err)
        assert text and "Traceback" not in text
        for finding in getattr(err, "findings", ()):
            assert isinstance(finding, Finding) and len(finding.format("s.yaml")) < 4000


@PROPS
@given(st.dictionaries(st.text(max_size=12), json_like, max_size=8))
def test_parse_of_arbitrary_mappings_raises_only_spec_errors(data: dict[str, Any]) -> None:
    with pytest.raises((SpecError, PluginError)):
        parse({"provider": "dcs", **data})


names = st.one_of(st.text(max_size=30), st.sampled_from(["global", "global-x", "kcp", "", "GLOBAL", "global-"]))
objects = st.fixed_dictionaries({
    "apiVersion": st.sampled_from(["cluster.x-k8s.io/v1beta1", "v1", "infrastructure.cluster.x-k8s.io/v1beta1",
                                   "controlplane.cluster.x-k8s.io/v1beta1", "x/y"]),
    "kind": st.sampled_from(["Cluster", "KubeadmControlPlane", "MachineDeployment", "Secret", "Thing"]),
    "metadata": st.one_of(st.fixed_dictionaries({"name": names, "namespace": names}), json_like),
    "spec": json_like,
})


@PROPS
@given(st.lists(objects, max_size=6))
def test_naming_checker_never_raises(objs: list[dict[str, Any]]) -> None:
    findings = naming.check(objs, lambda i, field: i + 1)
    assert all(isinstance(f, Finding) and f.severity == "error" for f in findings)


# --- the sandbox's request parsing ---------------------------------------------------------------


@PROPS
@given(st.one_of(st.binary(max_size=300), yaml_text.map(str.encode), json_like.map(lambda v: repr(v).encode())),
       st.booleans())
def test_sandbox_body_decoding_raises_only_400(raw: bytes, yaml_ok: bool) -> None:
    from acp_install_sandbox.api import decode_body
    from acp_install_sandbox.errors import ApiError

    try:
        decode_body(raw, yaml_ok=yaml_ok)
    except ApiError as err:
        assert err.code == 400 and len(err.message) < 1000


@PROPS
@given(st.one_of(st.text(max_size=300), st.integers(), st.none(), st.lists(st.text(max_size=3), max_size=2)))
def test_sandbox_name_check_never_raises(name: Any) -> None:
    from acp_install_sandbox.kinds import BUILTIN
    from acp_install_sandbox.store import name_problem

    for rt in BUILTIN:
        problem = name_problem(rt, name)
        assert problem is None or (isinstance(problem, str) and len(problem) < 400)
        if problem is None:
            assert isinstance(name, str) and "/" not in name and name not in ("", ".", "..")


@PROPS
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40))
def test_sandbox_apply_of_any_body_keeps_serving(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    """Every body through the whole write path (decode, admit, store) in process: only
    ``ApiError``, and the store still answers afterwards."""
    from acp_install_sandbox import Sandbox
    from acp_install_sandbox.errors import ApiError
    from acp_install_sandbox.kinds import BUILTIN

    global _SB
    if _SB is None:
        _SB = Sandbox(speed=50, installer_port=0, state_dir=Path(tmp_path_factory.mktemp("sb")))
        _SB._bootstrap_objects()  # the API layer only: no sockets, no threads
    cms = next(rt for rt in BUILTIN if rt.plural == "configmaps")
    try:
        _SB.api.patch(cms, "default", "prop", text.encode(), "application/apply-patch+yaml", manager="t")
    except ApiError as err:
        assert 400 <= err.code < 500
    items, _rv = _SB.store.list(next(rt for rt in BUILTIN if rt.plural == "namespaces"), None)
    assert "cpaas-system" in {i["metadata"]["name"] for i in items}


_SB: Any = None
