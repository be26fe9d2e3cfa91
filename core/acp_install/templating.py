"""jinja2 for text artifacts only (embedded files, the init spec, the runbook).

Kubernetes objects are never text-templated: they are built as data and dumped by
:mod:`acp_install.yamlio`. Providers get the same settings through :func:`environment`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2


@cache
def environment(package: str = "acp_install") -> jinja2.Environment:
    """A strict environment over ``<package>/templates``: undefined names are errors."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
    )


def render(name: str, package: str = "acp_install", **context: Any) -> str:
    return environment(package).get_template(name).render(**context)
