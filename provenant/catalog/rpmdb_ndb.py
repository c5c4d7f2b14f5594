"""rpm's "ndb" package database (``Packages.db``, SUSE), read as rpm's lib/backend/ndb/rpmpkg.c writes it.

All integers are little-endian. A 32-byte header (``RpmP``, version 0, generation, number of 4 KiB
slot pages, next package index) shares the first slot page with the slots: 16 bytes each,
``Slot`` magic, package index, block offset and block count (blocks are 16 bytes; offset 0 means a
free slot). A blob is ``BlbS`` magic, package index, timestamp, length, the header blob, zero
padding, then an Adler-32 (over everything before it), the length again and ``BlbE``.

Slots are untrusted: blobs must lie inside the file and not overlap one another (slots naming the
same or nested blocks could otherwise return the same bytes hundreds of thousands of times), so the
blobs read never add up to more than the file.
"""

from __future__ import annotations

import struct
import zlib

from provenant.catalog.base import CatalogError

MAGIC = b"RpmP"
_SLOT_MAGIC, _BLOB_MAGIC, _TAIL_MAGIC = b"Slot", b"BlbS", b"BlbE"
_PAGE, _SLOT, _BLOCK = 4096, 16, 16
_HEAD, _TAIL = 16, 12
_MAX_SLOT_PAGES = 2048  # 524k packages; anything larger is a corrupt count, not a real system


def read_blobs(data: bytes) -> tuple[list[bytes], list[str]]:
    """The header blob of every used slot, plus problems with single blobs that were skipped."""
    if len(data) < 32 or data[:4] != MAGIC:
        raise CatalogError("not an rpm ndb database (magic 'RpmP' missing)")
    version, _generation, slot_pages = struct.unpack_from("<III", data, 4)
    if version != 0:
        raise CatalogError(f"rpm ndb database version {version} is not supported (expected 0)")
    if not 0 < slot_pages <= _MAX_SLOT_PAGES or slot_pages * _PAGE > len(data):
        raise CatalogError(f"rpm ndb database claims {slot_pages} slot pages in a {len(data)}-byte file")
    slots: list[tuple[int, int, int]] = []  # (block offset, block count, package index)
    for pos in range(32, slot_pages * _PAGE, _SLOT):  # the header takes the first two slots
        magic, index, blk_off, blk_count = struct.unpack_from("<4sIII", data, pos)
        if magic != _SLOT_MAGIC:
            raise CatalogError(f"rpm ndb slot at offset {pos} has a bad magic {magic!r}")
        if blk_off:
            slots.append((blk_off, blk_count, index))
    blobs: list[bytes] = []
    issues: list[str] = []
    overlapping = 0
    end_of_last = 0  # first block after the last blob accepted, in block order
    for blk_off, blk_count, index in sorted(slots):
        if blk_off < end_of_last:
            overlapping += 1  # counted, reported once: a forged file can hold 500k such slots
            continue
        try:
            blobs.append(_blob(data, index, blk_off, blk_count))
        except CatalogError as exc:
            issues.append(f"rpm ndb package {index}: {exc}; skipped")
            continue
        end_of_last = blk_off + blk_count
    if overlapping:
        issues.append(f"rpm ndb: {overlapping} slots name blocks of another package's blob; skipped")
    return blobs, issues


def _blob(data: bytes, index: int, blk_off: int, blk_count: int) -> bytes:
    start, end = blk_off * _BLOCK, (blk_off + blk_count) * _BLOCK
    if blk_count * _BLOCK < _HEAD + _TAIL or end > len(data):
        raise CatalogError(f"blocks {blk_off}+{blk_count} lie outside the file")
    magic, blob_index, _stamp, length = struct.unpack_from("<4sIII", data, start)
    if magic != _BLOB_MAGIC or blob_index != index:
        raise CatalogError(f"blob at block {blk_off} is not package {index}'s")
    if (_HEAD + length + _TAIL + _BLOCK - 1) // _BLOCK != blk_count:
        raise CatalogError(f"blob length {length} does not fill its {blk_count} blocks")
    adler, tail_length, tail_magic = struct.unpack_from("<II4s", data, end - _TAIL)
    if tail_magic != _TAIL_MAGIC or tail_length != length:
        raise CatalogError("blob trailer is damaged")
    if zlib.adler32(data[start : end - _TAIL]) != adler:
        raise CatalogError("blob checksum (Adler-32) does not match")
    return data[start + _HEAD : start + _HEAD + length]
