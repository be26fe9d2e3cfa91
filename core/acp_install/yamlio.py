"""YAML in and out, in one place.

Loading keeps the line of every key (errors point at ``file:line``); dumping is the one emitter
for every rendered object: stable key order (the order objects are built in), literal blocks for
multi-line text, and secrets resolved by :func:`resolve_secrets` before anything is written.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.error import YAMLError as RuamelYAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from .secrets import Base64Of, SecretRef, SecretText, secret_refs

LineIndex = dict[str, int]


class YamlSyntaxError(ValueError):
    """A document is not YAML; ``line`` is 1-based."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def join_path(base: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else str(key)


#: Upper bound on the nodes one document may expand to: YAML aliases can make a small file
#: expand exponentially ("billion laughs"); a spec or manifest is nowhere near this.
MAX_NODES = 200_000
#: Upper bound on nesting: a spec is a few levels deep, a manifest a dozen; thousands of levels
#: would exhaust the interpreter's stack in every recursive walk that follows.
MAX_DEPTH = 100


class _Budget:
    """Nodes left, and whether an alias (a container seen before) was expanded on the way."""

    def __init__(self) -> None:
        self.left = MAX_NODES
        self.seen: set[int] = set()
        self.aliased = False


def _spend(budget: _Budget, path: str, index: LineIndex, depth: int) -> None:
    """One more value at ``path``: refused past :data:`MAX_NODES` values or :data:`MAX_DEPTH`
    levels, with the line reached (both readers use it, so their messages are the same)."""
    budget.left -= 1
    if budget.left < 0:
        what = ("its aliases expand it to more than {n} values (an alias bomb)" if budget.aliased
                else "it holds more than {n} values (no spec or manifest is that large)")
        raise YamlSyntaxError("document refused: " + what.format(n=MAX_NODES)
                              + f", at {path or 'the top'}", line_of(index, path))
    if depth > MAX_DEPTH:
        raise YamlSyntaxError(f"nested more than {MAX_DEPTH} levels deep, at {path}",
                              line_of(index, path))


def _plain(node: Any, path: str, index: LineIndex, budget: _Budget | None = None,
           depth: int = 0) -> Any:
    """Convert ruamel's round-trip nodes to plain data, recording the line of each path."""
    if budget is None:
        budget = _Budget()
    _spend(budget, path, index, depth)
    if isinstance(node, CommentedMap | CommentedSeq):
        if id(node) in budget.seen:
            budget.aliased = True
        budget.seen.add(id(node))
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            child = join_path(path, _key(key))
            try:
                line, _col = node.lc.key(key)
                index[child] = line + 1
            except (KeyError, TypeError):
                pass
            out[_key(key)] = _plain(value, child, index, budget, depth + 1)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            child = join_path(path, i)
            try:
                line, _col = node.lc.item(i)
                index[child] = line + 1
            except (KeyError, TypeError):
                pass
            items.append(_plain(value, child, index, budget, depth + 1))
        return items
    if isinstance(node, str):
        return str(node)
    if isinstance(node, TaggedScalar):  # ``!!python/object...``, ``!custom``: no spec field takes one
        tag = str(getattr(node.tag, "value", node.tag) or "")[:80]
        if tag == "tag:yaml.org,2002:str":  # ``!!str 1``: the standard way to say "a string"
            return str(node.value)
        raise YamlSyntaxError(f"unsupported YAML tag {tag} at {path or 'the top'}: a spec or manifest "
                              "holds plain values only", line_of(index, path))
    return node


def _key(key: Any) -> str:
    """A mapping key as a path component: a complex key (a mapping or list used as a key, which
    no spec or manifest field is) is shown as a short flow form, not a Python repr."""
    if isinstance(key, str | int | float | bool) or key is None:
        return str(key)
    text = json.dumps(_plain(key, "", {}), default=str, separators=(",", ":"))
    return text if len(text) <= 40 else text[:37] + "..."


_BRACKETS = re.compile(r"[\[\]{}]")


def _flow_depth_line(text: str) -> int | None:
    """The line where flow brackets (``[`` / ``{``) first nest deeper than :data:`MAX_DEPTH`;
    None if they never do.

    The YAML scanner's cost grows steeply with flow depth (seconds for a few thousand ``[``),
    so this cheap pass refuses such a document before it is parsed at all. Brackets inside
    quotes count too: only a hundred unclosed ones in a string could be mistaken for nesting.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    for match in _BRACKETS.finditer(text):
        if match.group() in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return text.count("\n", 0, match.start()) + 1
        else:
            depth = max(0, depth - 1)
    return None


class _Fallback(Exception):
    """The fast reader met something only the round-trip reader handles exactly."""


_PLAIN, _QUOTED = "?plain", "?quoted"


CParser: Any
try:
    from yaml.cyaml import CParser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - PyYAML built without libyaml: the round-trip reader only
    CParser = None


class _NodeLoader(CParser or object):  # type: ignore[misc]
    """libyaml's parser and composer, resolving nothing: scalars keep whether they were plain
    (YAML 1.2 rules are applied by :func:`_fast_plain`), explicit tags stay visible."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            return _PLAIN if implicit[0] else _QUOTED
        return "tag:yaml.org,2002:seq" if kind is yaml.SequenceNode else "tag:yaml.org,2002:map"

    def descend_resolver(self, parent: Any, index: Any) -> None:
        """No path-dependent resolution."""

    def ascend_resolver(self) -> None:
        """No path-dependent resolution."""


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]+\Z")
#: what the round-trip (YAML 1.2) reader would turn into something other than a plain
#: string/bool/null/decimal: left to it (numbers in other notations, dates, merge keys, ...)
_SPECIAL_FIRST = frozenset("-+0123456789.<=")
_SPECIAL = re.compile(r"""(?x)(?:
    [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
   |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
   |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
   |[-+]?\.(?:inf|Inf|INF)
   |\.(?:nan|NaN|NAN)
   |[-+]?0b[0-1_]+ |[-+]?0o?[0-7_]+ |[-+]?[0-9_]+ |[-+]?0x[0-9a-fA-F_]+
   |<< |=
   |[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
   |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[\ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]
    (?:\.[0-9]*)?(?:[\ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?
    )\Z""")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = frozenset({"", "~", "null", "Null", "NULL"})


def _fast_plain(value: str) -> Any:
    """A plain scalar as the YAML 1.2 round-trip reader reads it (or :class:`_Fallback`)."""
    if value in _BOOL:
        return _BOOL[value]
    if value in _NULL:
        return None
    if value[0] in _SPECIAL_FIRST:
        if _INT.match(value):
            return int(value)
        if _FLOAT.match(value):
            return float(value)
        if _SPECIAL.match(value):
            raise _Fallback(value)
    return value


def _fast(node: Any, path: str, index: LineIndex, budget: _Budget, depth: int = 0) -> Any:
    """Plain data from libyaml's nodes, recording the line of each path like :func:`_plain`
    (and with its bounds and messages)."""
    _spend(budget, path, index, depth)
    if not isinstance(node, yaml.ScalarNode):
        if id(node) in budget.seen:
            budget.aliased = True
        budget.seen.add(id(node))
    tag = node.tag
    if isinstance(node, yaml.ScalarNode):
        if tag == _PLAIN:
            return _fast_plain(node.value)
        if tag in (_QUOTED, _STR):
            return node.value
        raise _Fallback(tag)
    if isinstance(node, yaml.MappingNode):
        if tag != _MAP:
            raise _Fallback(tag)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Fallback("complex key")
            key = str(_fast(key_node, path, {}, budget))
            if key in out:
                raise _Fallback("duplicate key")  # the round-trip reader says where
            child = join_path(path, key)
            index[child] = key_node.start_mark.line + 1
            out[key] = _fast(value_node, child, index, budget, depth + 1)
        return out
    if tag != _SEQ:
        raise _Fallback(tag)
    items = []
    for i, item in enumerate(node.value):
        child = join_path(path, i)
        index[child] = item.start_mark.line + 1
        items.append(_fast(item, child, index, budget, depth + 1))
    return items


def _load_fast(text: str) -> list[tuple[Any, LineIndex, int]]:
    out = []
    loader = _NodeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            index: LineIndex = {}
            collection = isinstance(node, yaml.MappingNode | yaml.SequenceNode)
            start = node.start_mark.line + 1 if collection else 1
            out.append((_fast(node, "", index, _Budget()), index, start))
    finally:
        loader.dispose()
    return out


def load_all(text: str) -> list[tuple[Any, LineIndex, int]]:
    """Every document of ``text`` as (data, line index, first line).

    Why two readers: libyaml (C) reads a spec in a fraction of a millisecond, the round-trip
    reader takes ten or more. The fast one is used when its answer is provably the same
    (plain strings, booleans, nulls, decimal numbers, mappings with string keys, sequences);
    anything else — a syntax error, a date, a hex number, a merge key, a duplicate key, a
    custom tag — is read again by the round-trip reader, so results and messages never differ.
    """
    deep = _flow_depth_line(text)
    if deep is not None:
        raise YamlSyntaxError(f"nested more than {MAX_DEPTH} levels deep", deep)
    try:
        if CParser is not None:
            return _load_fast(text)
    except YamlSyntaxError:
        raise
    except (_Fallback, yaml.YAMLError, RecursionError, ValueError, TypeError):
        pass
    return _load_roundtrip(text)


def _load_roundtrip(text: str) -> list[tuple[Any, LineIndex, int]]:
    yaml_rt = YAML(typ="rt")
    try:
        docs = list(yaml_rt.load_all(text))
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise YamlSyntaxError(str(err.problem or err), mark.line + 1 if mark else None) from None
    except RecursionError:  # the parser recurses per level: thousands of levels end here
        raise YamlSyntaxError(f"nested more than {MAX_DEPTH} levels deep", None) from None
    except (RuamelYAMLError, ValueError) as err:  # e.g. a control character (ReaderError)
        mark = getattr(err, "problem_mark", None)
        line = getattr(mark, "line", None)
        raise YamlSyntaxError(str(err).splitlines()[0][:200], line + 1 if isinstance(line, int) else None) from None
    out = []
    for doc in docs:
        index: LineIndex = {}
        start = (doc.lc.line + 1) if hasattr(doc, "lc") and doc.lc.line is not None else 1
        out.append((_plain(doc, "", index), index, start))
    return out


def line_of(index: LineIndex, path: str) -> int | None:
    """The line of ``path`` or of its nearest ancestor that has one."""
    while path:
        if path in index:
            return index[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None


def resolve_secrets(data: Any, *, reveal: bool) -> Any:
    """Replace secret references with their value (``reveal``) or a placeholder."""
    if isinstance(data, SecretRef):
        return data.reveal().get() if reveal else data.placeholder()
    if isinstance(data, Base64Of):
        return data.ref.reveal().b64() if reveal else data.ref.placeholder(b64=True)
    if isinstance(data, SecretText):
        return data.render(reveal=reveal)
    if isinstance(data, Mapping):
        return {k: resolve_secrets(v, reveal=reveal) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [resolve_secrets(v, reveal=reveal) for v in data]
    return data


def has_secrets(data: Any) -> bool:
    return next(secret_refs(data), None) is not None


def _literal(data: Any) -> Any:
    if isinstance(data, str) and "\n" in data:
        return LiteralScalarString(data)
    if isinstance(data, Mapping):
        return {k: _literal(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_literal(v) for v in data]
    return data


def _emitter() -> YAML:
    yaml_rt = YAML(typ="rt")
    yaml_rt.default_flow_style = False
    yaml_rt.indent(mapping=2, sequence=4, offset=2)
    yaml_rt.width = 4096
    yaml_rt.preserve_quotes = False
    return yaml_rt


def _dump_roundtrip(document: Any) -> str:
    buf = io.StringIO()
    _emitter().dump(_literal(document), buf)
    return buf.getvalue()


# --- the fast emitter --------------------------------------------------------------------------
# Why: a provider dumps nested documents while planning (a config file inside a ConfigMap) and
# every rendered file is a dump; ruamel's pure-Python emitter costs milliseconds a document. The
# documents we write are plain data (mappings with string keys, lists, strings, booleans,
# integers, null), so this writes them directly, choosing each string's style with ruamel's own
# analysis and resolver. Anything else (floats, nested lists, a string that needs double
# quotes, a very long line ...) raises _Fallback and the whole document goes through ruamel,
# so the bytes are always the ones ruamel writes (tests/test_yamlio.py compares both).

_BREAKS = "\x85\u2028\u2029"
_LONG = 1000  # ruamel folds lines past its width (4096); far below it, nothing is folded
_style_cache: dict[tuple[str, bool], str] = {}
_analysis: Any = None


def _scalar_style(value: str, key: bool) -> str:
    """``""`` (plain) or ``"'"`` (single-quoted), as ruamel's emitter chooses; else _Fallback."""
    cached = _style_cache.get((value, key))
    if cached is not None:
        return cached
    global _analysis
    if _analysis is None:
        from ruamel.yaml.nodes import ScalarNode

        # the emitter and resolver of the very configuration _dump_roundtrip uses
        rt = _emitter()
        _serializer, _representer, emitter = rt.get_serializer_representer_emitter(io.StringIO(), None)
        resolver = rt.resolver
        str_tag = resolver.resolve(ScalarNode, "a", (True, False))
        _analysis = (emitter.analyze_scalar,
                     lambda v: resolver.resolve(ScalarNode, v, (True, False)) == str_tag)
    analyze, plain_is_str = _analysis
    if not value:
        return "'"
    if len(value) > _LONG or any(c in value for c in _BREAKS):
        raise _Fallback(value)
    analysis = analyze(value)
    if plain_is_str(value) and not (key and (analysis.empty or analysis.multiline)) \
            and analysis.allow_block_plain:
        style = ""
    elif analysis.allow_double_quoted and ("'" in value or "\n" in value):
        raise _Fallback(value)  # double-quoted: ruamel writes it
    elif analysis.allow_single_quoted and not (key and analysis.multiline):
        style = "'"
    else:
        raise _Fallback(value)
    if len(_style_cache) < 100_000:
        _style_cache[(value, key)] = style
    return style


def _scalar(value: Any, key: bool = False) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    if type(value) is not str:
        raise _Fallback(type(value).__name__)
    if _scalar_style(value, key) == "":
        return value
    return "'" + value.replace("'", "''") + "'"


def _literal_block(text: str, indent: int) -> str:
    """ruamel's ``|`` block for a multi-line string whose lines sit at ``indent``."""
    if text[0] in " \n" or any(c in text for c in _BREAKS):
        raise _Fallback("block indentation hint")
    if text[-1] != "\n":
        hints = "-"
    elif len(text) == 1 or text[-2] == "\n":
        raise _Fallback("keep chomping")
    else:
        hints = ""
        text = text[:-1]
    pad = " " * indent
    lines = [pad + line if line else "" for line in text.split("\n")]
    return "|" + hints + "\n" + "\n".join(lines) + "\n"


def _value(value: Any, indent: int, out: list[str]) -> None:
    """What follows ``key:`` for a mapping entry whose key sits at ``indent``."""
    if isinstance(value, Mapping):
        if not value:
            out.append(" {}\n")
            return
        out.append("\n")
        _mapping(value, indent + 2, out, "")
    elif isinstance(value, list | tuple):
        if not value:
            out.append(" []\n")
            return
        out.append("\n")
        _sequence(value, indent + 2, out)
    elif value is None:
        out.append("\n")
    elif type(value) is str and "\n" in value:
        out.append(" " + _literal_block(value, indent + 2))
    else:
        out.append(" " + _scalar(value) + "\n")


def _mapping(data: Mapping[Any, Any], indent: int, out: list[str], first: str) -> None:
    """Block mapping entries at ``indent``; the first line starts with ``first`` instead of the
    indentation when it follows a sequence dash."""
    pad = " " * indent
    for n, (key, value) in enumerate(data.items()):
        if type(key) is not str or "\n" in key:
            raise _Fallback("key")
        out.append((first if n == 0 and first else pad) + _scalar(key, key=True) + ":")
        _value(value, indent, out)


def _sequence(items: Any, dash: int, out: list[str]) -> None:
    """Block sequence items, the dash at ``dash`` and the content two columns further."""
    pad = " " * dash
    for item in items:
        if isinstance(item, Mapping):
            if not item:
                out.append(pad + "- {}\n")
            else:
                _mapping(item, dash + 2, out, pad + "- ")
        elif item is None:
            out.append(pad + "- \n")
        elif isinstance(item, list | tuple) or (type(item) is str and "\n" in item):
            raise _Fallback("sequence item")
        else:
            out.append(pad + "- " + _scalar(item) + "\n")


def _dump_fast(document: Any) -> str:
    if not isinstance(document, Mapping) or not document:
        raise _Fallback("document")
    out: list[str] = []
    _mapping(document, 0, out, "")
    text = "".join(out)
    if len(max(text.split("\n"), key=len)) > _LONG:
        raise _Fallback("long line")
    return text


def _dump_one(document: Any) -> str:
    try:
        return _dump_fast(document)
    except _Fallback:
        return _dump_roundtrip(document)


def dump_all(documents: Iterable[Any]) -> str:
    """Serialise documents (already secret-resolved) as one multi-document YAML stream."""
    return "".join("---\n" + _dump_one(doc) for doc in documents)


def dump(document: Any) -> str:
    """Serialise one document without a leading ``---``."""
    return _dump_one(document)
