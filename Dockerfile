# provenant's own image: multi-stage, non-root, base pinned by digest, no build tooling in the final stage.
#   buildah bud -t provenant .        (or: docker build -t provenant .)
#   docker run --rm provenant policy check REG/IMG@sha256:... --policy strict
# BASE must be a Python 3.11+ image on glibc, pinned by digest; both stages use the same one, so the venv's
# interpreter path is the same in both. The default's digest is the one public Dockerfiles pin for
# python:3.12-slim-bookworm; it could not be resolved from the machine this was written on (no Docker Hub
# access): check it with `skopeo inspect docker://docker.io/library/python:3.12-slim-bookworm` and let
# Renovate/Dependabot keep it current. tests/integration/test_own_image.py builds this file with buildah
# against a Debian bookworm base made from Debian packages and pushed to a loopback registry.
ARG BASE=docker.io/library/python:3.12-slim-bookworm@sha256:782412e85d0f0984994c290652577d4018aff08145c85b262bb63dc0c7522254

FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Dependencies first (their layer is reused while only provenant's code changes), with hashes checked.
COPY requirements/runtime.lock requirements/runtime.lock
RUN python3 -m venv /opt/provenant \
 && /opt/provenant/bin/python -m pip install --quiet --require-hashes -r requirements/runtime.lock
COPY pyproject.toml README.md ./
COPY provenant provenant
# The build backend comes from the lock (no isolated build env downloaded); it and pip are then removed:
# the final stage gets a venv that runs provenant and can install nothing.
RUN /opt/provenant/bin/python -m pip install --quiet --no-deps --no-build-isolation . \
 && /opt/provenant/bin/python -m pip uninstall --quiet -y hatchling trove-classifiers pathspec pluggy \
 && /opt/provenant/bin/python -m pip check \
 && /opt/provenant/bin/python -m pip uninstall --quiet -y pip \
 && /opt/provenant/bin/provenant version \
 && mkdir -p /home/provenant

FROM ${BASE}
ARG BASE
COPY --from=build /opt/provenant /opt/provenant
COPY --from=build --chown=65532:65532 /home/provenant /home/provenant
ENV PATH=/opt/provenant/bin:$PATH HOME=/home/provenant PYTHONDONTWRITEBYTECODE=1
LABEL org.opencontainers.image.title="provenant" \
      org.opencontainers.image.description="Container-image supply-chain inspection: inspect, SBOM, attestations, policy" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${BASE}"
USER 65532:65532
WORKDIR /home/provenant
ENTRYPOINT ["provenant"]
CMD ["--help"]
