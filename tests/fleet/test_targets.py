"""Expanding ``fleet scan`` targets: catalog globs with pagination, tag filters, @files, attachment tags."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from provenant.errors import UsageError
from provenant.fleet.targets import TagFilter, expand
from provenant.reference import Reference
from tests.fakeregistry import Canned, FakeRegistry, make_client


def _no_dates(_ref: str) -> datetime | None:
    return None


def _fake() -> FakeRegistry:
    fake = FakeRegistry()
    for repo in ("team/a", "team/b", "team/sub/c", "other/x"):
        img = fake.put_image(repo, architecture="amd64", layers=[repo.encode()])
        for tag in ("v1.0", "v1.9", "v1.10", "latest"):
            fake.tag(repo, tag, img.digest)
        fake.tag(repo, "sha256-" + "a" * 64 + ".sig", img.digest)  # cosign's signature tag: not an image
    return fake


def test_catalog_glob_follows_pagination_and_skips_attachment_tags() -> None:
    fake = _fake()
    page1 = json.dumps({"repositories": ["other/x", "team/a"]}).encode()
    page2 = json.dumps({"repositories": ["team/b", "team/sub/c"]}).encode()
    fake.inject(
        "/v2/_catalog",
        Canned(200, {"Link": '</v2/_catalog?n=2&last=team/a>; rel="next"'}, page1),
        Canned(200, {}, page2),
    )
    client, _ = make_client(fake)
    refs = expand([f"{fake.host}/team/*"], client, TagFilter(), _no_dates)
    assert {(r.repository, r.tag) for r in refs} == {
        (f"{fake.host}/team/{repo}", tag) for repo in ("a", "b") for tag in ("v1.0", "v1.9", "v1.10", "latest")
    }
    assert all(r.registry and r.text == f"{r.repository}:{r.tag}" for r in refs)
    assert [r.path for r in fake.requests if "_catalog" in r.path] == ["/v2/_catalog", "/v2/_catalog"]


def test_newest_by_semver_and_by_created_and_tag_globs() -> None:
    fake = _fake()
    client, _ = make_client(fake)
    newest = expand([f"{fake.host}/team/a"], client, TagFilter(newest=2), _no_dates)
    assert [r.tag for r in newest] == ["v1.10", "v1.9"]  # version order, not text order
    dates = {"v1.0": datetime(2025, 3, 1, tzinfo=UTC), "latest": datetime(2025, 4, 1, tzinfo=UTC)}
    by_date = expand(
        [f"{fake.host}/team/a"], client, TagFilter(newest=1, order="created"), lambda r: dates.get(r.rsplit(":")[-1])
    )
    assert [r.tag for r in by_date] == ["latest"]
    globbed = expand([f"{fake.host}/team/a"], client, TagFilter(globs=("v1.1*", "latest")), _no_dates)
    assert sorted(r.tag or "" for r in globbed) == ["latest", "v1.10"]
    explicit = expand([f"{fake.host}/team/a:v1.0"], client, TagFilter(newest=1), _no_dates)
    assert [r.tag for r in explicit] == ["v1.0"]  # an explicit tag is taken as given


def test_target_files(tmp_path: Path) -> None:
    fake = _fake()
    client, _ = make_client(fake)
    (tmp_path / "refs.txt").write_text(
        f"# fleet\n\n{fake.host}/team/a:v1.0\n{fake.host}/other/x:latest\n{fake.host}/team/a:v1.0\n"
    )
    refs = expand([f"@{tmp_path / 'refs.txt'}"], client, TagFilter(), _no_dates)
    assert [(r.repository.split("/", 1)[1], r.tag) for r in refs] == [("team/a", "v1.0"), ("other/x", "latest")]
    (tmp_path / "nested.txt").write_text(f"@{tmp_path / 'refs.txt'}\n")
    with pytest.raises(UsageError, match="cannot name another target file"):
        expand([f"@{tmp_path / 'nested.txt'}"], client, TagFilter(), _no_dates)
    with pytest.raises(UsageError, match="takes no tag"):
        expand([f"{fake.host}/team/*:v1"], client, TagFilter(), _no_dates)


class _SlowLister:
    """Each repository's tag list takes 0.2 s; ``team/b``'s (and ``team/d``'s) fails. Counts lists in flight."""

    def __init__(self, repos: list[str], failing: tuple[str, ...] = ()) -> None:
        import threading

        self.repos, self.failing = repos, failing
        self.lock = threading.Lock()
        self.now = self.most = 0

    def list_repositories(self, registry: str) -> list[str]:
        return self.repos

    def list_tags(self, ref: Reference) -> list[str]:
        import time

        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.2)
        with self.lock:
            self.now -= 1
        if ref.repository in self.failing:
            raise UsageError(f"cannot list {ref.repository}")
        return ["v1", "v2"]


def test_a_globs_repositories_are_listed_at_once_and_kept_in_catalog_order() -> None:
    repos = [f"team/r{i}" for i in range(12)]
    lister = _SlowLister(["other/x", *repos])
    refs = expand(["reg.test:5000/team/*"], lister, TagFilter(), _no_dates)
    assert [(r.repository, r.tag) for r in refs] == [(f"reg.test:5000/{r}", t) for r in repos for t in ("v1", "v2")]
    assert lister.most == 8  # 12 round trips on 8 threads (1.2 s one after another)


def test_the_first_failing_repository_of_a_glob_is_the_error() -> None:
    lister = _SlowLister(["team/a", "team/b", "team/c", "team/d"], failing=("team/d", "team/b"))
    with pytest.raises(UsageError, match=r"^cannot list team/b$"):
        expand(["reg.test:5000/team/*"], lister, TagFilter(), _no_dates)
