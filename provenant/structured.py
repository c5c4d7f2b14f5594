"""Parsing untrusted JSON and YAML without RecursionError.

``json.loads`` and PyYAML's composer recurse once per nesting level: a manifest, config, attestation
payload or policy file nested 100k deep would end in a RecursionError traceback. Here the nesting depth
is measured first, in linear time and without recursion, and a document deeper than ``Limits.json_depth``
is refused (one line naming the limit). YAML is composed with the same depth check, and aliases are
refused (an alias bomb expands a few hundred bytes into billions of nodes).
"""

from __future__ import annotations

import re
from typing import Any

from provenant import limits as _limits
from provenant.limits import LimitExceededError, Limits

# The next character that matters for nesting: an opening/closing bracket or the start of a string.
_SIGNIFICANT = re.compile(rb'["\[\]{}]')
# The rest of a string after its opening quote: escapes skipped, so an escaped quote does not end it.
_STRING_REST = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


class DepthError(LimitExceededError, ValueError):
    """A JSON or YAML document nested deeper than ``json-depth``.

    Also a ``ValueError``, so a best-effort reader that treats unparsable JSON as absent treats this alike,
    while a strict reader lets it through as the one-line limit error.
    """


def as_object(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one: reading an optional member of untyped JSON
    (``as_object(doc.get("spec")).get("data")``) whatever type the document gave it."""
    return value if isinstance(value, dict) else {}


def as_array(value: object) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def _too_deep(what: str, lim: Limits) -> DepthError:
    return DepthError(what, "json_depth", limits=lim, got=f"nested more than {lim.json_depth} deep")


def json_depth(data: bytes, stop_at: int | None = None) -> int:
    """The deepest nesting of ``[``/``{`` outside strings (linear; stops early past ``stop_at``).

    Malformed text gives some number (an unterminated string ends the count): the parser rejects it next.
    """
    depth = deepest = 0
    pos, end = 0, len(data)
    search, rest = _SIGNIFICANT.search, _STRING_REST.match
    while pos < end:
        m = search(data, pos)
        if m is None:
            break
        ch = data[m.start()]
        pos = m.end()
        if ch == 0x22:  # '"'
            s = rest(data, pos)
            if s is None:
                break
            pos = s.end()
        elif ch in (0x5B, 0x7B):  # '[' '{'
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_at is not None and deepest > stop_at:
                    break
        else:
            depth -= 1
    return deepest


def check_json_depth(data: bytes | str, what: str, limits: Limits | None = None) -> None:
    """Raise :class:`DepthError` (``json-depth``) when ``data`` nests deeper than the limit."""
    lim = limits or _limits.current()
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    # Fast path: a document with fewer opening brackets than the limit cannot be too deep.
    if raw.count(b"[") + raw.count(b"{") <= lim.json_depth:
        return
    if json_depth(raw, stop_at=lim.json_depth) > lim.json_depth:
        raise _too_deep(what, lim)


def load_json(data: bytes | str, what: str, limits: Limits | None = None) -> Any:
    """``json.loads`` after the depth check; invalid JSON still raises ``ValueError`` for the caller to word."""
    import json

    check_json_depth(data, what, limits)
    return json.loads(data)


#: A JSON escape of a surrogate code point (a pair, or a lone one no UTF-8 text holds).
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
#: A lone surrogate in a str: a byte of a name that was not UTF-8 (surrogateescape), or an escape's.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def load_json_text(data: bytes | str, what: str, limits: Limits | None = None) -> Any:
    """:func:`load_json` for documents whose strings become package names, versions and purls: a lone
    surrogate the JSON spells (``"\\ud800"``, which no UTF-8 text holds) is read as U+FFFD."""
    doc = load_json(data, what, limits)
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return _text_only(doc) if SURROGATE_ESCAPE.search(raw) else doc


def text_only(text: str) -> str:
    """``text`` with each lone surrogate (a byte of a file name that was not UTF-8, an escape) as U+FFFD."""
    return LONE_SURROGATE.sub("\ufffd", text) if LONE_SURROGATE.search(text) else text


def _text_only(doc: Any) -> Any:
    # Iterative: a document may nest up to json-depth, past the interpreter's recursion limit.
    root: list[Any] = [doc]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        parent, key = stack.pop()
        value = parent[key]
        if isinstance(value, str):
            parent[key] = text_only(value)
        elif isinstance(value, list):
            stack.extend((value, i) for i in range(len(value)))
        elif isinstance(value, dict):
            if any(LONE_SURROGATE.search(k) for k in value):
                renamed = {text_only(k): v for k, v in value.items()}  # in order; later duplicates win, as in JSON
                value.clear()
                value.update(renamed)
            stack.extend((value, k) for k in value)
    return root[0]


def load_yaml(text: str, what: str, loader: type[Any] | None = None, limits: Limits | None = None) -> Any:
    """One YAML document, read by ``loader`` (default ``SafeLoader``) once its event stream has been checked.

    The check walks the parser's events (libyaml's when present; neither it nor PyYAML's parser
    recurses), so a document nested past ``json-depth`` is refused before the recursive composer sees
    it. Aliases are refused: an alias bomb expands a few hundred bytes into billions of nodes. Raises
    ``yaml.YAMLError`` for bad YAML and aliases, :class:`DepthError` for nesting.
    """
    import yaml

    lim = limits or _limits.current()
    check_yaml_events(text, what, lim)
    return yaml.load(text, Loader=loader or yaml.SafeLoader)  # noqa: S506 - SafeLoader or a subclass of it


def check_yaml_events(text: str, what: str, limits: Limits | None = None) -> None:
    """Refuse aliases and nesting past ``json-depth`` in ``text`` (all its documents)."""
    import yaml
    from yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent

    lim = limits or _limits.current()
    parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth = 0
    try:
        for event in yaml.parse(text, Loader=parser):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > lim.json_depth:
                    raise _too_deep(what, lim)
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
            elif isinstance(event, AliasEvent):
                mark: Any = event.start_mark  # libyaml's Mark or PyYAML's: both print the line and column
                raise yaml.composer.ComposerError(
                    None, None, f"alias *{event.anchor} is not allowed: write the value out", mark
                )
    except yaml.YAMLError as exc:
        # libyaml's scanner reads flow collections ahead and has its own cap (1000 levels): the same fault.
        if "maximum nesting depth" in str(exc):
            raise _too_deep(what, lim) from None
        raise
