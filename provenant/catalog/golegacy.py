"""Build info of Go < 1.18 binaries, read from a stream.

Before Go 1.18 the ``.go.buildinfo`` header (flags 0 or 1) holds two pointers, to the string headers
of ``runtime.buildVersion`` and ``runtime.modinfo``; each string header points at the bytes. The
headers live in the data segment, after the build info; the bytes in read-only data, before it. So
the stream is read once while: the executable's segment table (ELF program headers, PE sections,
Mach-O segments, all in the first bytes) maps addresses to file offsets; every Go version string
and the module info (between its 16-byte sentinels) are remembered by offset as they pass (bounded);
the string headers are read when the stream reaches them; a pointer then names one remembered string.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

#: Bytes of the file kept for the segment table (headers of all three formats sit well inside this).
HEAD_BYTES = 64 * 1024
#: Go version strings remembered by offset; a binary holds a handful.
_MAX_CANDIDATES = 4096
_MAX_MODINFO = 4 * 1024 * 1024
_MODINFO_START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
_MODINFO_END = bytes.fromhex("f932433186182072008242104116d8f2")
_VERSION = re.compile(rb"go1\.\d{1,3}(?:\.\d{1,3})?(?:beta\d{1,3}|rc\d{1,3})?")
_CARRY = 256


@dataclass(frozen=True)
class Segment:
    """One mapped region: addresses ``[vaddr, vaddr+size)`` are file bytes from ``offset``."""

    vaddr: int
    offset: int
    size: int


def segments(head: bytes) -> list[Segment]:
    """The address map of an ELF, PE or (thin) Mach-O executable from its first bytes; [] if unknown."""
    try:
        if head.startswith(b"\x7fELF"):
            return _elf(head)
        if head.startswith(b"MZ"):
            return _pe(head)
        if head[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce"):
            return _macho(head)
    except struct.error:
        return []  # a table running past the kept head: not resolvable
    return []


def _elf(h: bytes) -> list[Segment]:
    is64, e = h[4] == 2, "<" if h[5] == 1 else ">"
    if is64:
        phoff, phentsize, phnum = struct.unpack_from(e + "Q", h, 0x20)[0], *struct.unpack_from(e + "HH", h, 0x36)
    else:
        phoff, phentsize, phnum = struct.unpack_from(e + "I", h, 0x1C)[0], *struct.unpack_from(e + "HH", h, 0x2A)
    out = []
    for i in range(phnum):
        at = phoff + i * phentsize
        if is64:
            ptype, _, off, vaddr, _, filesz = struct.unpack_from(e + "IIQQQQ", h, at)
        else:
            ptype, off, vaddr, _, filesz = struct.unpack_from(e + "IIIII", h, at)
        if ptype == 1:  # PT_LOAD
            out.append(Segment(vaddr, off, filesz))
    return out


def _pe(h: bytes) -> list[Segment]:
    (pe,) = struct.unpack_from("<I", h, 0x3C)
    if h[pe : pe + 4] != b"PE\0\0":
        return []
    nsections, opt_size = struct.unpack_from("<H", h, pe + 6)[0], struct.unpack_from("<H", h, pe + 20)[0]
    opt = pe + 24
    (magic,) = struct.unpack_from("<H", h, opt)
    base = struct.unpack_from("<Q", h, opt + 24)[0] if magic == 0x20B else struct.unpack_from("<I", h, opt + 28)[0]
    out = []
    for i in range(nsections):
        at = opt + opt_size + 40 * i
        vsize, rva, rawsize, rawptr = struct.unpack_from("<IIII", h, at + 8)
        out.append(Segment(base + rva, rawptr, min(vsize, rawsize) if vsize else rawsize))
    return out


def _macho(h: bytes) -> list[Segment]:
    e = "<" if h[0] in (0xCF, 0xCE) else ">"
    is64 = h[:4] in (b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf")
    (ncmds,) = struct.unpack_from(e + "I", h, 16)
    at = 32 if is64 else 28
    out = []
    for _ in range(ncmds):
        cmd, size = struct.unpack_from(e + "II", h, at)
        if cmd == 0x19:  # LC_SEGMENT_64
            vaddr, _, off, filesz = struct.unpack_from(e + "QQQQ", h, at + 24)
            out.append(Segment(vaddr, off, filesz))
        elif cmd == 0x1:  # LC_SEGMENT
            vaddr, _, off, filesz = struct.unpack_from(e + "IIII", h, at + 24)
            out.append(Segment(vaddr, off, filesz))
        if size < 8:
            break
        at += size
    return out


def to_offset(segs: list[Segment], vaddr: int) -> int | None:
    """The file offset holding address ``vaddr``, or None."""
    for s in segs:
        if s.vaddr <= vaddr < s.vaddr + s.size:
            return s.offset + vaddr - s.vaddr
    return None


@dataclass
class LegacyResolver:
    """Remembers what a pre-1.18 header will point at, and follows its pointers as the stream passes."""

    head: bytearray = field(default_factory=bytearray)
    versions: dict[int, bytes] = field(default_factory=dict)
    modinfos: dict[int, bytes] = field(default_factory=dict)
    _open_modinfo: int | None = None
    _carry: bytes = b""
    _carry_base: int = 0
    #: (file offset, pointer size, big endian, kind) of string headers still ahead in the stream.
    _wanted: list[tuple[int, int, bool, str]] = field(default_factory=list)
    _got: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (data offset, length)
    _segs: list[Segment] | None = None
    _header: bytes | None = None

    def _follow(self, header: bytes) -> None:
        ptr, big = header[14], bool(header[15] & 1)
        fmt = (">" if big else "<") + ("Q" if ptr == 8 else "I")
        self._segs = segments(bytes(self.head))
        for i, kind in enumerate(("version", "modinfo")):
            (vaddr,) = struct.unpack_from(fmt, header, 16 + i * ptr)
            off = to_offset(self._segs, vaddr)
            if off is not None:
                self._wanted.append((off, ptr, big, kind))

    def feed(self, base: int, chunk: bytes) -> None:
        """Look at the chunk that starts at file offset ``base``."""
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        if self._header is not None:
            self._follow(self._header)
            self._header = None
        buf = self._carry + chunk
        start = base - len(self._carry)
        self._remember(buf, start)
        self._read_wanted(buf, start)
        self._carry = buf[-_CARRY:]

    def _remember(self, buf: bytes, start: int) -> None:
        # The carry was searched already: only matches ending in the new bytes are new.
        # bytes.find, not a regex scan: every byte of every executable passes here.
        at = buf.find(b"go1.")
        while at >= 0 and len(self.versions) < _MAX_CANDIDATES:
            m = _VERSION.match(buf, at)
            # A match cut off at the chunk's end grows when the next chunk comes (it starts in the carry).
            if m is not None and len(m.group()) > len(self.versions.get(start + at, b"")):
                self.versions[start + at] = m.group()
            at = buf.find(b"go1.", at + 1)
        if self._open_modinfo is None:
            at = buf.find(_MODINFO_START, max(0, len(self._carry) - len(_MODINFO_START) + 1))
            if at >= 0 and len(self.modinfos) < 4 and start + at not in self.modinfos:
                self._open_modinfo = start + at
                self.modinfos[start + at] = b""
        if self._open_modinfo is not None:
            off = self._open_modinfo
            got = self.modinfos[off]
            begin = max(0, off - start + len(got))
            got += buf[begin:]
            end = got.find(_MODINFO_END, 16)
            if end >= 0:
                self.modinfos[off] = got[: end + 16]
                self._open_modinfo = None
            elif len(got) > _MAX_MODINFO:
                del self.modinfos[off]
                self._open_modinfo = None
            else:
                self.modinfos[off] = got

    def header(self, header: bytes) -> None:
        """The 32-byte old-layout build info header was found: note the two string headers to read."""
        self._header = header  # resolved at the next feed, once the head holds the segment table

    def _read_wanted(self, buf: bytes, start: int) -> None:
        if not self._wanted or self._segs is None:
            return
        left = []
        for off, ptr, big, kind in self._wanted:
            rel = off - start
            if rel >= 0 and rel + 2 * ptr <= len(buf):
                fmt = (">" if big else "<") + ("QQ" if ptr == 8 else "II")
                data, length = struct.unpack_from(fmt, buf, rel)
                target = to_offset(self._segs, data)
                if target is not None:
                    self._got[kind] = (target, length)
            elif rel + 2 * ptr > len(buf):
                left.append((off, ptr, big, kind))  # still ahead
        self._wanted = left

    def result(self) -> tuple[str, str] | None:
        """(Go version, module info) once both pointers led to remembered strings; None otherwise."""
        version = self._got.get("version")
        if version is None:
            return None
        text = self.versions.get(version[0])
        if text is None or len(text) < version[1]:
            return None
        modinfo = ""
        where = self._got.get("modinfo")
        if where is not None and where[1]:
            raw = self.modinfos.get(where[0])
            if raw is None or len(raw) != where[1]:
                return None
            modinfo = raw.decode("utf-8", "replace")
        return text[: version[1]].decode("ascii", "replace"), modinfo
