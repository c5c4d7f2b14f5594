"""Berkeley DB hash files (rpm's ``Packages`` up to RHEL/CentOS 8), read without libdb.

Page 0 is the hash metadata page; bucket pages (type 13, or 2 from old libdb) hold an index of
item offsets in key/value pairs; a value too big for its page is an H_OFFPAGE item naming a chain
of overflow pages (type 7, each holding ``hf_offset`` bytes). Rather than follow bucket arithmetic,
every page up to ``last_pgno`` is visited once, as rpm's read-only backend and go-rpmdb do.

Every overflow page belongs to one item: a chain that loops, or reaches a page another item's chain
already used, is refused (items sharing one chain once turned 15 KB of image into 8 GB of values),
so the values read never add up to more than the file.
"""

from __future__ import annotations

import struct

from provenant.catalog.base import CatalogError

HASH_MAGIC = 0x061561
_P_HASH_UNSORTED, _P_OVERFLOW, _P_HASHMETA, _P_HASH = 2, 7, 8, 13
_H_KEYDATA, _H_OFFPAGE = 1, 3
_PAGE_HEADER = 26
_CHKSUM_AREA = 6  # pages carry 2 unused + 4 checksum bytes after the header when DBMETA_CHKSUM is set
_DBMETA_CHKSUM = 0x01
_PAGE_SIZES = frozenset(512 << i for i in range(8))


def is_bdb_hash(data: bytes) -> bool:
    """Whether ``data`` starts with a Berkeley DB hash metadata page (either byte order)."""
    return len(data) >= 16 and HASH_MAGIC in (_u32(data, 12, "<"), _u32(data, 12, ">"))


def _u32(data: bytes, pos: int, order: str) -> int:
    return int(struct.unpack_from(order + "I", data, pos)[0])


def read_values(data: bytes) -> tuple[list[bytes], list[str]]:
    """The values of every key/value pair, plus problems with single entries that were skipped."""
    if len(data) < 512:
        raise CatalogError(f"Berkeley DB file is {len(data)} bytes, shorter than its metadata page")
    order = "<" if _u32(data, 12, "<") == HASH_MAGIC else ">"
    if _u32(data, 12, order) != HASH_MAGIC:
        raise CatalogError("not a Berkeley DB hash database (magic 0x061561 missing at offset 12)")
    version, page_size = struct.unpack_from(order + "II", data, 16)
    encrypt, page_type, meta_flags = data[24], data[25], data[26]
    last_pgno = _u32(data, 32, order)
    if page_size not in _PAGE_SIZES or page_type != _P_HASHMETA or not 8 <= version <= 10:
        raise CatalogError(f"unsupported Berkeley DB hash file: version {version}, page size {page_size}")
    if encrypt:
        raise CatalogError("Berkeley DB file is encrypted; rpm databases never are")
    pages = len(data) // page_size
    if last_pgno >= pages:
        raise CatalogError(f"Berkeley DB file truncated: last page {last_pgno}, file holds {pages} pages")
    db = _Pages(data, page_size, order, _PAGE_HEADER + (_CHKSUM_AREA if meta_flags & _DBMETA_CHKSUM else 0))
    values: list[bytes] = []
    issues: list[str] = []
    for pgno in range(1, last_pgno + 1):
        if db.type(pgno) in (_P_HASH, _P_HASH_UNSORTED):
            db.page_values(pgno, values, issues)
    if db.shared:
        issues.append(f"Berkeley DB: {db.shared} entries name overflow pages another entry already used; skipped")
    return values, issues


class _Pages:
    def __init__(self, data: bytes, page_size: int, order: str, data_start: int) -> None:
        self.data, self.size, self.order, self.start = data, page_size, order, data_start
        self.used: set[int] = set()  # overflow pages already read into some value
        self.shared = 0  # entries refused because their chain reached a used page

    def type(self, pgno: int) -> int:
        return self.data[pgno * self.size + 25]

    def _u16(self, pos: int) -> int:
        return int(struct.unpack_from(self.order + "H", self.data, pos)[0])

    def page_values(self, pgno: int, values: list[bytes], issues: list[str]) -> None:
        base = pgno * self.size
        if _u32(self.data, base + 8, self.order) != pgno:
            issues.append(f"Berkeley DB page {pgno} carries another page number; skipped")
            return
        entries = self._u16(base + 20)
        if self.start + 2 * entries > self.size:
            issues.append(f"Berkeley DB page {pgno}: {entries} entries cannot fit; page skipped")
            return
        offsets = [self._u16(base + self.start + 2 * i) for i in range(entries)]
        # Items grow down from the page end: item i ends where item i-1 starts.
        for i in range(1, entries, 2):
            off, end = offsets[i], offsets[i - 1]
            if not self.start + 2 * entries <= off < end <= self.size:
                issues.append(f"Berkeley DB page {pgno}: item {i} has offset {off} outside the page; skipped")
                continue
            item = self.data[base + off : base + end]
            key_end = self.size if i == 1 else offsets[i - 2]
            if self.data[base + end : base + key_end] == b"\x01\0\0\0\0":
                continue  # rpm's record 0 holds the next free header number, not a header
            if item[0] == _H_KEYDATA:
                values.append(item[1:])
            elif item[0] == _H_OFFPAGE and len(item) >= 12:
                first, length = _u32(item, 4, self.order), _u32(item, 8, self.order)
                if first in self.used:
                    self.shared += 1  # counted, reported once: a forged file can hold thousands
                    continue
                try:
                    values.append(self.overflow(first, length))
                except CatalogError as exc:
                    issues.append(f"Berkeley DB page {pgno}: {exc}; entry skipped")
            # Duplicate sets (H_DUPLICATE/H_OFFDUP) never occur in rpm's Packages database.

    def overflow(self, pgno: int, length: int) -> bytes:
        """Concatenate a chain of overflow pages, checking every link and the total length."""
        out = bytearray()
        seen: set[int] = set()
        last = len(self.data) // self.size - 1
        if length > len(self.data):
            raise CatalogError(f"overflow item claims {length} bytes, more than the file holds")
        try:
            while len(out) < length:
                if not 0 < pgno <= last or pgno in seen:
                    raise CatalogError(f"overflow chain reaches bad page {pgno}")
                if pgno in self.used:
                    raise CatalogError(f"overflow chain reaches page {pgno}, already part of another entry")
                seen.add(pgno)
                pgno = self._overflow_page(pgno, out)
                if not pgno:
                    break
        finally:
            self.used |= seen  # a broken chain's pages are spent too: no other entry may reread them
        if len(out) != length:
            raise CatalogError(f"overflow chain holds {len(out)} bytes, item says {length}")
        return bytes(out)

    def _overflow_page(self, pgno: int, out: bytearray) -> int:
        """Append one overflow page's bytes to ``out``; the next page number (0 at the end)."""
        base = pgno * self.size
        if self.data[base + 25] != _P_OVERFLOW:
            raise CatalogError(f"overflow chain reaches page {pgno} of type {self.data[base + 25]}")
        used = self._u16(base + 22)
        if self.start + used > self.size:
            raise CatalogError(f"overflow page {pgno} claims {used} bytes")
        out += self.data[base + self.start : base + self.start + used]
        return _u32(self.data, base + 16, self.order)
