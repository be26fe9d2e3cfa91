"""Just enough OpenAPI for ``kubectl apply`` to run with its default validation.

kubectl (1.27+) asks ``/openapi/v3`` whether each kind's PATCH accepts the ``fieldValidation``
query parameter; when it does, kubectl sends ``fieldValidation=Strict`` and leaves validation to
the server (which the sandbox does with the CRD schemas). kubectl also fetches ``/openapi/v2``
as protobuf before that; an empty protobuf message (zero bytes) is a valid empty document, so
client-side validation has nothing to say and server-side validation decides.

We deliberately do not advertise strategic-merge-patch in the v3 documents: kubectl would then
need full schemas to compute the patch; without it kubectl falls back to its compiled-in types
for built-in kinds and to JSON merge patch for custom resources, which the sandbox accepts.
"""

from __future__ import annotations

from typing import Any

from .kinds import Kinds, ResourceType

__all__ = ["OPENAPI_V2_PROTOBUF", "v3_document", "v3_root"]

OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"

_PATCH_BODY = {
    "content": {
        media: {"schema": {"type": "object"}}
        for media in ("application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")
    }
}
_QUERY = [
    {"name": n, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
    for n in ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")
]


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def v3_root(kinds: Kinds) -> dict[str, Any]:
    digest = kinds.fingerprint()
    return {
        "paths": {
            _gv_path(g, v): {"serverRelativeURL": f"/openapi/v3/{_gv_path(g, v)}?hash={digest}"}
            for g, versions in kinds.groups().items()
            for v in versions
        }
    }


def _item_path(rt: ResourceType) -> str:
    base = "/" + _gv_path(rt.group, rt.version)
    ns = "/namespaces/{namespace}" if rt.namespaced else ""
    return f"{base}{ns}/{rt.plural}/{{name}}"


def _operations(rt: ResourceType, sub: str = "") -> dict[str, Any]:
    gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
    op_kind = rt.kind + ("Status" if sub else "")
    ok = {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}}
    return {
        "get": {
            "operationId": f"read{op_kind}",
            "responses": ok,
            "x-kubernetes-action": "get",
            "x-kubernetes-group-version-kind": gvk,
        },
        "put": {
            "operationId": f"replace{op_kind}",
            "parameters": _QUERY,
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": ok,
            "x-kubernetes-action": "put",
            "x-kubernetes-group-version-kind": gvk,
        },
        "patch": {
            "operationId": f"patch{op_kind}",
            "parameters": _QUERY,
            "requestBody": _PATCH_BODY,
            "responses": ok,
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": gvk,
        },
        "delete": {
            "operationId": f"delete{op_kind}",
            "responses": ok,
            "x-kubernetes-action": "delete",
            "x-kubernetes-group-version-kind": gvk,
        },
    }


def v3_document(kinds: Kinds, group: str, version: str) -> dict[str, Any] | None:
    resources = kinds.resources(group, version)
    if not resources:
        return None
    paths: dict[str, Any] = {}
    for rt in resources:
        item = _item_path(rt)
        paths[item] = {
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            **_operations(rt),
        }
        collection = item.rsplit("/", 1)[0]
        paths[collection] = {
            "post": {
                "operationId": f"create{rt.kind}",
                "parameters": _QUERY,
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"201": {"description": "Created"}},
                "x-kubernetes-action": "post",
                "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": rt.kind},
            }
        }
        if rt.status_subresource:
            paths[item + "/status"] = _operations(rt, "status")
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (acp-install sandbox)", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }
