"""Output formats of ``sbom``: name → encoder. A new format is one function plus one line here."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from provenant.errors import UsageError
from provenant.jsontext import model_json

if TYPE_CHECKING:
    from provenant.sbom.result import ImageSbom, SbomResult


@dataclass(frozen=True)
class Document:
    """One encoded output document and the platform it covers (None: all selected platforms)."""

    platform: str | None
    text: str


Encoder = Callable[["SbomResult", Sequence["ImageSbom"], bool], str]


def _cyclonedx_json(result: SbomResult, images: Sequence[ImageSbom], merged: bool) -> str:
    from provenant.sbom.cyclonedx_json import cyclonedx_json

    return cyclonedx_json(images, result.tool, merged_index=(result.reference, result.digest) if merged else None)


def _cyclonedx_xml(result: SbomResult, images: Sequence[ImageSbom], merged: bool) -> str:
    from provenant.sbom.cyclonedx_xml import cyclonedx_xml

    return cyclonedx_xml(images, result.tool, merged_index=(result.reference, result.digest) if merged else None)


def _spdx(result: SbomResult, images: Sequence[ImageSbom], merged: bool) -> str:
    from provenant.sbom.spdx_json import spdx_json

    return spdx_json(images, result.tool, merged_index=(result.reference, result.digest) if merged else None)


def _table(result: SbomResult, images: Sequence[ImageSbom], merged: bool) -> str:
    from provenant.sbom.table import render_table

    return render_table(images)


def _json(result: SbomResult, images: Sequence[ImageSbom], merged: bool) -> str:
    return model_json(result.model_copy(update={"images": list(images)}), indent=2)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cycle collector off while a document is built, back as it was after.

    Encoding allocates many small containers, and each full collection walks every live object,
    the whole SBOM model included: collections made encoding 20,000 packages take ~1.4-2.7x the time
    of 10,000 (linear encoders, superlinear total). The encoders make no reference cycles, so
    reference counting frees everything they drop.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


FORMATS: dict[str, Encoder] = {
    # Written directly (linear, the libraries' bytes; the libraries' models stay the tests' reference).
    "cyclonedx-json": _cyclonedx_json,
    "cyclonedx-xml": _cyclonedx_xml,
    "spdx-json": _spdx,
    "table": _table,
    "json": _json,
}
#: Formats whose one document can hold several platforms without --merge.
MULTI_IMAGE = frozenset({"table", "json"})


def encode(result: SbomResult, fmt: str, *, merge: bool, validate: bool = False) -> list[Document]:
    """Encode ``result`` as ``fmt``: one document per platform, or one for all with ``merge``.

    ``validate`` checks each document against its format's schema (``sbom --validate``); it is off by
    default because the encoders are valid by construction and the check costs more than encoding.
    """
    encoder = FORMATS.get(fmt)
    if encoder is None:
        raise UsageError(f"unknown SBOM format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    with _gc_paused():
        if merge or fmt in MULTI_IMAGE or len(result.images) == 1:
            merged = merge and len(result.images) > 1
            only = result.images[0].platform if len(result.images) == 1 and not merged else None
            docs = [Document(only, encoder(result, result.images, merged))]
        else:
            docs = [Document(img.platform, encoder(result, [img], False)) for img in result.images]
    if validate:
        from provenant.sbom.validate import validate_document

        for doc in docs:
            validate_document(fmt, doc.text)
    return docs
