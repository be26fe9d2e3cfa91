"""API errors as kube-apiserver reports them: an HTTP code plus a ``Status`` body.

Kept apart from :mod:`acp_install.errors` on purpose: these are *responses the sandbox sends*,
not failures of acp-install itself.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "status_body"]


def status_body(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success" if code < 400 else "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


class ApiError(Exception):
    """Raised anywhere in request handling; the server turns it into a ``Status`` response."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        return status_body(self.code, self.reason, self.message, self.details)

    # constructors named like the apimachinery helpers, so call sites read like Go's
    @classmethod
    def not_found(cls, resource: str, name: str, group: str = "") -> ApiError:
        what = f"{resource}.{group}" if group else resource
        return cls(404, "NotFound", f'{what} "{name}" not found', {"name": name, "group": group, "kind": resource})

    @classmethod
    def already_exists(cls, resource: str, name: str, group: str = "") -> ApiError:
        what = f"{resource}.{group}" if group else resource
        return cls(
            409, "AlreadyExists", f'{what} "{name}" already exists', {"name": name, "group": group, "kind": resource}
        )

    @classmethod
    def conflict(cls, resource: str, name: str, group: str = "", why: str = "") -> ApiError:
        what = f"{resource}.{group}" if group else resource
        why = why or ("the object has been modified; please apply your changes to the latest version and try again")
        return cls(
            409,
            "Conflict",
            f'Operation cannot be fulfilled on {what} "{name}": {why}',
            {"name": name, "group": group, "kind": resource},
        )

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, "BadRequest", message)

    @classmethod
    def invalid(cls, kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
        """422 with one cause per (field, reason, message)."""
        what = f"{kind}.{group}" if group else kind
        text = "; ".join(f"{field}: {msg}" if field else msg for field, _, msg in causes)
        if len(causes) > 1:
            text = "[" + ", ".join(f"{field}: {msg}" if field else msg for field, _, msg in causes) + "]"
        return cls(
            422,
            "Invalid",
            f'{what} "{name}" is invalid: {text}',
            {
                "name": name,
                "group": group,
                "kind": kind,
                "causes": [{"reason": r, "message": m, "field": f} for f, r, m in causes],
            },
        )

    @classmethod
    def gone(cls, message: str) -> ApiError:
        return cls(410, "Expired", message)
