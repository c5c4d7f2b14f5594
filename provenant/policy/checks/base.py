"""The shape of a check: a stable id, docs for reports, when it runs, and what it finds."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal

from provenant.evidence import Evidence, PlatformEvidence
from provenant.policy.model import IMAGE_SUBJECT, Outcome
from provenant.policy.schema import ImagePolicy

Scope = Literal["image", "platform"]
#: (subject, digest, outcome) as the engine receives them.
Subjected = tuple[str, str | None, Outcome]


class Check(ABC):
    """One rule: subclass :class:`ImageCheck` or :class:`PlatformCheck` and set the class attributes."""

    id: ClassVar[str]
    #: The ``checks.<family>`` section (``ImagePolicy.checks`` field name) that enables the check.
    family: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    #: How to fix a failure, in general (a finding may carry a more specific hint).
    help: ClassVar[str]
    #: What evidence the check reads (docs, SARIF rule help).
    evidence: ClassVar[str]
    scope: ClassVar[Scope]
    #: Fields of the family section whose entries exempt things from the check (ignore and allow lists).
    #: Outcomes name the entries that matched (``Outcome.matched``); the others are reported as unused.
    exceptions: ClassVar[tuple[str, ...]] = ()
    #: The field of the family section that must be set (true, non-empty) for the check to run; None: the
    #: section being present is enough.
    requires: ClassVar[str | None] = None

    def enabled(self, policy: ImagePolicy) -> bool:
        """Whether the policy asks for this check: its family section is present (with ``requires`` set)."""
        section = policy.family(self.family)
        return section is not None and (self.requires is None or bool(getattr(section, self.requires)))

    @abstractmethod
    def run(self, ev: Evidence, policy: ImagePolicy) -> list[Subjected]:
        """Every outcome with the subject it is about."""


class ImageCheck(Check):
    """A check about the image as a whole (the reference, the index)."""

    scope: ClassVar[Scope] = "image"

    @abstractmethod
    def image(self, ev: Evidence, policy: ImagePolicy) -> list[Outcome]:
        """Outcomes about the image as a whole."""

    def run(self, ev: Evidence, policy: ImagePolicy) -> list[Subjected]:
        return [(IMAGE_SUBJECT, ev.digest, o) for o in self.image(ev, policy)]


class PlatformCheck(Check):
    """A check evaluated once per platform image."""

    scope: ClassVar[Scope] = "platform"

    @abstractmethod
    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        """Outcomes about one platform image."""

    def run(self, ev: Evidence, policy: ImagePolicy) -> list[Subjected]:
        return [(p.platform, p.digest, o) for p in ev.platforms for o in self.platform(ev, p, policy)]


def passed(message: str, **evidence: object) -> Outcome:
    """A passing outcome."""
    return Outcome(status="pass", message=message, evidence=dict(evidence))


def failed(message: str, fix: str | None = None, **evidence: object) -> Outcome:
    """A failing outcome."""
    return Outcome(status="fail", message=message, evidence=dict(evidence), fix=fix)


def no_data(message: str, fix: str | None = None, **evidence: object) -> Outcome:
    """The evidence the check needs is not there."""
    return Outcome(status="no-data", message=message, evidence=dict(evidence), fix=fix)
