"""RPM header blobs as the package databases store them: an index of typed entries over a data store.

Layout (all big-endian): ``il`` (entry count) and ``dl`` (data length), ``il`` 16-byte entries
``(tag, type, offset, count)``, then ``dl`` bytes of data. Every offset is checked against the data
store; a blob that lies is a :class:`HeaderError`, never an IndexError.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

NAME, VERSION, RELEASE, EPOCH, SUMMARY = 1000, 1001, 1002, 1003, 1004
VENDOR, LICENSE, URL, ARCH, SOURCERPM = 1011, 1014, 1020, 1022, 1044
OLDFILENAMES, DIRINDEXES, BASENAMES, DIRNAMES = 1027, 1116, 1117, 1118
# Region tags (HEADERIMAGE, HEADERSIGNATURES, HEADERIMMUTABLE) mark the signed part of the header;
# their entry points at a trailer, not at a value.
_REGION_TAGS = frozenset({61, 62, 63})

_CHAR, _INT8, _INT16, _INT32, _INT64 = 1, 2, 3, 4, 5
_STRING, _BIN, _STRING_ARRAY, _I18NSTRING = 6, 7, 8, 9
_INT_FORMATS = {_CHAR: "B", _INT8: "B", _INT16: "H", _INT32: "I", _INT64: "Q"}
_STRING_TYPES = frozenset({_STRING, _STRING_ARRAY, _I18NSTRING})

# rpm's own limits (lib/header.c hdrchkTags/hdrchkData): anything larger is not a real header.
MAX_ENTRIES = 0xFFFF
MAX_DATA = 256 * 1024 * 1024


class HeaderError(ValueError):
    """The header blob is malformed (bad counts, offsets outside the data store, unterminated strings)."""


@dataclass
class RpmHeader:
    """The tags of one header that the cataloger reads: strings, string lists and integers."""

    strings: dict[int, list[str]] = field(default_factory=dict)
    ints: dict[int, list[int]] = field(default_factory=dict)

    def string(self, tag: int) -> str | None:
        """First string of ``tag`` (for i18n strings: the untranslated one), or None."""
        values = self.strings.get(tag)
        return values[0] if values else None

    def integer(self, tag: int) -> int | None:
        """First integer of ``tag``, or None."""
        values = self.ints.get(tag)
        return values[0] if values else None

    def files(self) -> list[str]:
        """Installed paths: dirnames[dirindexes[i]] + basenames[i] (or the pre-4.x OLDFILENAMES)."""
        bases = self.strings.get(BASENAMES, [])
        dirs = self.strings.get(DIRNAMES, [])
        indexes = self.ints.get(DIRINDEXES, [])
        if not bases:
            return list(self.strings.get(OLDFILENAMES, []))
        if len(indexes) != len(bases) or any(i >= len(dirs) for i in indexes):
            raise HeaderError("file list is inconsistent (dirindexes do not match basenames/dirnames)")
        return [dirs[i] + b for i, b in zip(indexes, bases, strict=True)]


_WANTED = frozenset(
    {NAME, VERSION, RELEASE, EPOCH, SUMMARY, VENDOR, LICENSE, URL, ARCH, SOURCERPM}
    | {OLDFILENAMES, DIRINDEXES, BASENAMES, DIRNAMES}
)


def parse_header(blob: bytes) -> RpmHeader:
    """Parse the tags this cataloger needs from one header blob (no lead, no header magic)."""
    if len(blob) < 8:
        raise HeaderError(f"header blob is {len(blob)} bytes, shorter than its 8-byte preamble")
    il, dl = struct.unpack_from(">II", blob, 0)
    if not 0 < il <= MAX_ENTRIES or dl > MAX_DATA:
        raise HeaderError(f"implausible header sizes: {il} entries, {dl} data bytes")
    store_start = 8 + 16 * il
    if store_start + dl > len(blob):
        raise HeaderError(f"header declares {store_start + dl} bytes but the blob has {len(blob)}")
    store = blob[store_start : store_start + dl]
    header = RpmHeader()
    # Later entries win: rpm puts entries added after install (the "dribble") after the signed region.
    for tag, typ, offset, count in struct.iter_unpack(">IIiI", blob[8:store_start]):
        if tag in _REGION_TAGS or tag not in _WANTED:
            continue
        if offset < 0 or offset >= dl or count == 0:
            raise HeaderError(f"tag {tag}: offset {offset} (count {count}) outside the {dl}-byte data store")
        if typ in _STRING_TYPES:
            header.strings[tag] = _strings(store, offset, 1 if typ == _STRING else count, tag)
        elif typ in _INT_FORMATS:
            header.ints[tag] = _ints(store, offset, count, typ, tag)
    return header


def _strings(store: bytes, offset: int, count: int, tag: int) -> list[str]:
    if count > len(store) - offset:  # every string needs at least its NUL
        raise HeaderError(f"tag {tag}: {count} strings cannot fit at offset {offset}")
    out: list[str] = []
    pos = offset
    for _ in range(count):
        end = store.find(b"\0", pos)
        if end < 0:
            raise HeaderError(f"tag {tag}: string at offset {pos} is not NUL-terminated within the data store")
        out.append(store[pos:end].decode("utf-8", "replace"))
        pos = end + 1
    return out


def _ints(store: bytes, offset: int, count: int, typ: int, tag: int) -> list[int]:
    fmt = _INT_FORMATS[typ]
    size = struct.calcsize(fmt)
    if offset + size * count > len(store):
        raise HeaderError(f"tag {tag}: {count} integers at offset {offset} run past the data store")
    return list(struct.unpack_from(f">{count}{fmt}", store, offset))
