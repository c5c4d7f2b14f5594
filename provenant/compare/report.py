"""``provenant report``: everything the HTML report shows, as one model (rendered by :mod:`.report_html`)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from provenant import __version__
from provenant.attest.evaluate import Attachment
from provenant.attest.keys import PublicKey
from provenant.cache import LayerCache
from provenant.compare.evidence import gather
from provenant.compare.platforms import CompareResult, summarize
from provenant.inspect import HistoryRow, join_history
from provenant.oci.platform import PlatformSpec
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


class PlatformReport(BaseModel):
    """What the report shows for one platform beyond its :class:`PlatformSummary`."""

    platform: str
    history: list[HistoryRow] = Field(description="the config's history joined to layers (secrets masked)")
    attachments: list[AttachmentRow]


class ReportData(BaseModel):
    """The result of ``provenant report`` before rendering."""

    compare: CompareResult
    platforms: list[PlatformReport]
    index_attachments: list[AttachmentRow]
    tool_version: str = __version__
    notes: list[str] = Field(default_factory=list)


def build_report(
    session: Session,
    target: str,
    *,
    require: Sequence[PlatformSpec] = (),
    cache: LayerCache | None = None,
    keys: Sequence[PublicKey] = (),
    workers: int = 4,
) -> ReportData:
    """Library entry point of ``provenant report``: one pass over every platform of ``target``."""
    ev = gather(session, target, cache=cache, keys=keys, workers=workers)
    platforms = [
        PlatformReport(
            platform=im.sbom.platform,
            history=join_history(im.image.config, im.image.manifest),
            attachments=[AttachmentRow.of(a) for a in ev.attachments(im)],
        )
        for im in ev.analysis.images
    ]
    return ReportData(
        compare=summarize(ev, require),
        platforms=platforms,
        index_attachments=[AttachmentRow.of(a) for a in ev.top_attachments()],
    )
