"""provenant: container-image supply-chain inspection (inspect, SBOM, attestations, policy, compare)."""

__version__ = "0.1.0"
