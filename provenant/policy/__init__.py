"""``provenant policy``: a CI gate over pinning, base-image trust, provenance, platforms and the image itself.

Public API::

    load_policy(path) -> ImagePolicy
    check_image(session, target, policy, ...) -> PolicyReport     (``provenant policy check``)
    gather(session, target, ...) -> Evidence;  evaluate(evidence, policy, today=...) -> PolicyReport

Modules: :mod:`.schema` (the policy file), :mod:`.match` (image globs), :mod:`.dockerfile` (FROM lines),
:mod:`provenant.evidence` (gathered once per run, shared with compare and fleet), :mod:`.bases` (base
images and which evidence named them), :mod:`.checks` (one module per family, registered by id),
:mod:`.engine` (actions, missing data, waivers), :mod:`.model` (findings, results, report), :mod:`.reports`
(one module per output format).
"""

from provenant.evidence import Evidence, gather
from provenant.policy.engine import check_image, evaluate
from provenant.policy.model import Finding, PolicyReport, PolicyResult
from provenant.policy.schema import ImagePolicy, PolicyError, load_policy

__all__ = [
    "Evidence",
    "Finding",
    "ImagePolicy",
    "PolicyError",
    "PolicyReport",
    "PolicyResult",
    "check_image",
    "evaluate",
    "gather",
    "load_policy",
]
