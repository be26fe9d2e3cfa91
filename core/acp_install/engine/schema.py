"""The JSON Schema of the event lines (``-o json``), generated from the event classes.

Why generated: the classes are what the engine emits and ``to_dict`` serialises, so a field
added to a class is in the schema without anyone remembering to edit a document. The field
types go through the same generator as the spec's schema (:mod:`acp_install.spec.jsonschema`).
A test validates every line of a real sandbox install against it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .events import EVENT_NAMES

SCHEMA_ID = "urn:acp-install:event-line"


def line_schema(name: str, cls: type) -> dict[str, Any]:
    """The schema of one line: ``{"event": name, <every field of cls>}``, all required.

    Every field is required because ``attrs.asdict`` always writes every field.
    """
    from ..spec.jsonschema import record_schema

    body = record_schema(cls)
    doc = (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    return {
        "title": cls.__name__,
        "description": doc,
        "type": "object",
        "properties": {"event": {"const": name}, **body["properties"]},
        "required": ["event", *(a.name for a in attrs.fields(cls))],
        "additionalProperties": False,
    }


def event_schema(extra: Mapping[str, type] | None = None) -> dict[str, Any]:
    """The schema of one event line: exactly one of the engine's events (and of ``extra``).

    ``extra`` maps more ``event`` names to their attrs classes (the CLI adds its own lines).
    """
    lines: Iterable[tuple[str, type]] = [*((n, c) for c, n in EVENT_NAMES.items()),
                                         *(extra or {}).items()]
    defs = {cls.__name__: line_schema(name, cls) for name, cls in lines}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "acp-install event line",
        "description": "One line of `acp-install install -o json`, or one engine event "
                       "as acp_install.engine.to_dict gives it; `event` says which.",
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in defs],
        "$defs": defs,
    }
