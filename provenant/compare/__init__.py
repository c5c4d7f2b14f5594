"""Side-by-side views: the platforms of one index, two images, and an HTML report.

Public API::

    compare_platforms(session, target, ...)  -> CompareResult   (``provenant compare``)
    diff_images(session, a, b, ...)          -> DiffResult      (``provenant diff``)
    build_report(session, target, ...)       -> ReportData      (``provenant report``; render_html() renders it)

All three build on one pass over each image (:func:`provenant.sbom.generate.analyze`) and on the
attachments :func:`provenant.attest.result.build_result` finds; layers shared between platforms or
images are fetched once per session and cached by digest.
"""

from provenant.compare.base_image import BaseImage, find_base_image
from provenant.compare.diff import DiffResult, diff_images
from provenant.compare.platforms import CompareResult, compare_platforms
from provenant.compare.report import ReportData, build_report
from provenant.compare.report_html import render_html

__all__ = [
    "BaseImage",
    "CompareResult",
    "DiffResult",
    "ReportData",
    "build_report",
    "compare_platforms",
    "diff_images",
    "find_base_image",
    "render_html",
]
