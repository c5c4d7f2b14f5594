"""``provenant report``: everything the HTML report shows, as one model (rendered by :mod:`.report_html`)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from provenant import __version__
from provenant.attest.evaluate import Attachment
from provenant.attest.keyless import KeylessPolicy
from provenant.attest.keys import PublicKey
from provenant.cache import LayerCache
from provenant.compare.platforms import CompareResult, summarize
from provenant.evidence import Evidence, gather
from provenant.hygiene import WastedFile, assess
from provenant.inspect import HistoryRow, join_history
from provenant.oci.platform import PlatformSpec
from provenant.sbom.generate import ImageAnalysis
from provenant.session import Session


class AttachmentRow(BaseModel):
    """One attached item, as the report lists it."""

    kind: str
    predicate_type: str | None
    source: str
    trust: str
    signer: str | None
    subject_check: str

    @classmethod
    def of(cls, a: Attachment) -> AttachmentRow:
        return cls(
            kind=a.kind,
            predicate_type=a.predicate_type,
            source=a.source,
            trust=a.trust,
            signer=a.signer,
            subject_check=a.subject_check.status,
        )


#: Wasted files listed per platform in the report (the largest; the totals count all of them).
MAX_WASTED_FILES = 20


class PlatformReport(BaseModel):
    """What the report shows for one platform beyond its :class:`PlatformSummary`."""

    platform: str
    history: list[HistoryRow] = Field(description="the config's history joined to layers (secrets masked)")
    attachments: list[AttachmentRow]
    wasted_bytes: int = Field(description="bytes of files a later layer deletes or overwrites (still pulled)")
    wasted_file_count: int
    wasted_by_layer: list[int] = Field(description="wasted bytes per layer, by layer index")
    largest_wasted: list[WastedFile] = Field(description=f"the largest wasted files, at most {MAX_WASTED_FILES}")


def _platform_report(ev: Evidence, im: ImageAnalysis) -> PlatformReport:
    hygiene = assess(im)
    by_layer = [0] * len(im.layers)
    for w in hygiene.wasted_files:
        by_layer[w.layer_index] += w.size
    return PlatformReport(
        platform=im.sbom.platform,
        history=join_history(im.image.config, im.image.manifest),
        attachments=[AttachmentRow.of(a) for a in ev.attachments(im)],
        wasted_bytes=hygiene.wasted_bytes,
        wasted_file_count=len(hygiene.wasted_files),
        wasted_by_layer=by_layer,
        largest_wasted=hygiene.wasted_files[:MAX_WASTED_FILES],
    )


class ReportData(BaseModel):
    """The result of ``provenant report`` before rendering."""

    compare: CompareResult
    platforms: list[PlatformReport]
    index_attachments: list[AttachmentRow]
    tool_version: str = __version__


def build_report(
    session: Session,
    target: str,
    *,
    require: Sequence[PlatformSpec] = (),
    cache: LayerCache | None = None,
    keys: Sequence[PublicKey] = (),
    keyless: KeylessPolicy | None = None,
    workers: int = 4,
) -> ReportData:
    """Library entry point of ``provenant report``: one pass over every platform of ``target``."""
    ev = gather(session, target, cache=cache, keys=keys, keyless=keyless, workers=workers)
    platforms = [_platform_report(ev, im) for im in ev.live.images]
    return ReportData(
        compare=summarize(ev, require),
        platforms=platforms,
        index_attachments=[AttachmentRow.of(a) for a in ev.top_attachments()],
    )
