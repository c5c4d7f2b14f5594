"""Debian version ordering (``[epoch:]upstream[-revision]``, ``~`` before everything), by python-debian."""

from __future__ import annotations


def compare(a: str, b: str) -> int:
    """-1, 0 or 1, as ``dpkg --compare-versions`` orders them."""
    from debian.debian_support import version_compare

    try:
        c = version_compare(a, b)
    except ValueError:  # not a Debian version: fall back to text so a query never fails on one package
        return (a > b) - (a < b)
    return (c > 0) - (c < 0)
