"""JSON text of models whose strings may hold lone surrogates, written and read back exactly.

A tar entry name that is not UTF-8 (``caf\\xe9`` from a Latin-1 system) keeps its bytes as lone
surrogates (``surrogateescape``), and a JSON document from a registry may spell one as ``\\udXXX``.
pydantic-core writes and reads UTF-8 only: it refuses both, which used to end ``sbom`` (the layer
cache), ``inspect -o json`` and every other JSON output of such an image in an internal error. These
helpers keep pydantic-core's fast path and, only when it refuses, fall back to the standard library:
a lone surrogate is written as its ``\\udce9`` escape (JSON's own way to spell it; the document stays
valid UTF-8) and read back as the same character, so a cache entry round-trips exactly.
"""

from __future__ import annotations

import json
import re
from json.encoder import encode_basestring_ascii as _escape
from typing import TYPE_CHECKING, Any, TypeVar

from provenant.structured import LONE_SURROGATE, SURROGATE_ESCAPE, load_json

if TYPE_CHECKING:  # pydantic is imported by the callers' models; ``--help`` imports this module without it
    from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound="BaseModel")


def escape_surrogates(text: str) -> str:
    """``text`` (JSON) with every lone surrogate written as its ``\\uXXXX`` escape.

    In JSON text from :func:`json.dumps` a surrogate can only stand inside a string, where the escape
    means the same character.
    """
    return LONE_SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text) if LONE_SURROGATE.search(text) else text


def model_json(model: BaseModel, *, indent: int | None = None) -> str:
    """``model.model_dump_json(indent=…)``, also for a model holding lone surrogates (see the module)."""
    from pydantic_core import PydanticSerializationError, to_jsonable_python

    try:
        return model.model_dump_json(indent=indent)
    except PydanticSerializationError:
        pass  # pydantic-core could not write a string as UTF-8
    # Python mode keeps dict keys as they are (JSON mode would replace a key's surrogates with U+FFFD);
    # what is not JSON already (datetimes, enums) is converted by pydantic-core as in the fast path.
    data = model.model_dump()
    separators = (",", ":") if indent is None else (",", ": ")
    text = json.dumps(data, indent=indent, separators=separators, ensure_ascii=False, default=to_jsonable_python)
    return escape_surrogates(text)


def model_from_json(cls: type[M], data: bytes, what: str) -> M:
    """``cls.model_validate_json(data)``, also for what :func:`model_json` wrote with surrogate escapes."""
    from pydantic import ValidationError

    try:
        return cls.model_validate_json(data)
    except ValidationError as exc:
        if not _surrogate_refused(exc, data):
            raise
    doc: Any = load_json(data, what)
    return cls.model_validate(doc)


def _surrogate_refused(exc: ValidationError, data: bytes) -> bool:
    """Whether pydantic-core refused ``data`` as JSON while it spells a surrogate (its message varies)."""
    return any(e["type"] == "json_invalid" for e in exc.errors()) and SURROGATE_ESCAPE.search(data) is not None


# What json.dumps(ensure_ascii=True) writes as \uXXXX besides the control characters: DEL and non-ASCII.
# Spelled as the complement of ASCII: the same set, but the range up to U+10FFFF took ~10 ms to compile
# (at import, so on every run).
_NOT_ASCII = re.compile("[^\x00-\x7e]")


def _ascii_escape(m: re.Match[str]) -> str:
    code = ord(m.group(0))
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def dumps_indented(
    value: Any, step: str = "  ", *, sort_keys: bool = False, pad: str = "", ensure_ascii: bool = True
) -> str:
    """``json.dumps(value, indent=len(step), sort_keys=…, ensure_ascii=…)`` for dicts, lists, str, int, bool
    and None, faster.

    With an indent, the standard library falls back to its pure-Python encoder, which passes every
    piece through one generator per nesting level. Without ``sort_keys``, pydantic-core's encoder
    (Rust; already loaded by any ``sbom`` run) writes the same layout, and characters outside
    printable ASCII are then escaped as ``ensure_ascii`` does. A value it cannot encode (a lone
    surrogate, from a file name that was not UTF-8) and ``sort_keys`` take the path below: each
    container's text built directly, strings escaped by the standard library's C function.
    """
    if not sort_keys and not pad:
        from pydantic_core import PydanticSerializationError, to_json

        try:
            text = to_json(value, indent=len(step)).decode()
        except (PydanticSerializationError, UnicodeError):
            pass
        else:
            # isascii() reads a flag of the string object; the regex would scan megabytes to find nothing.
            if not ensure_ascii or (text.isascii() and "\x7f" not in text):
                return text
            return _NOT_ASCII.sub(_ascii_escape, text)
    if not ensure_ascii:  # a lone surrogate (rare): the standard library's own writer
        return json.dumps(value, indent=len(step), sort_keys=sort_keys, ensure_ascii=False)
    if isinstance(value, str):
        return _escape(value)
    inner = pad + step
    if isinstance(value, dict):
        if not value:
            return "{}"
        sep = ",\n" + inner
        pairs = sorted(value.items()) if sort_keys else value.items()
        # Plain strings (most values) escaped inline: one call per container, not one per value.
        items = sep.join(
            _escape(k)
            + ": "
            + (_escape(v) if v.__class__ is str else dumps_indented(v, step, sort_keys=sort_keys, pad=inner))
            for k, v in pairs
        )
        return "{\n" + inner + items + "\n" + pad + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        sep = ",\n" + inner
        body = sep.join(
            _escape(v) if v.__class__ is str else dumps_indented(v, step, sort_keys=sort_keys, pad=inner) for v in value
        )
        return "[\n" + inner + body + "\n" + pad + "]"
    return json.dumps(value)  # int, bool, None
