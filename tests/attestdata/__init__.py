"""Build signed test artifacts at test time, independently of provenant's own signing and pushing code.

Everything here follows the specifications directly (cosign SIGNATURE_SPEC / ATTESTATION_SPEC /
BUNDLE_SPEC, DSSE protocol, in-toto Statement, OCI distribution spec) and uses ``cryptography`` and
plain ``httpx`` -- never :mod:`provenant.attest` -- so that provenant's reader is checked against an
implementation it does not share code with.
"""
