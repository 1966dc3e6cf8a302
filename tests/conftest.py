"""Shared test setup: hypothesis profiles (`dev` by default, `ci` in CI)."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci", max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session")
def _caches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def _verification_cache(
    _caches: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`support-flows review` keeps verification results in the user's cache: each test has a
    cache of its own (made when first written), never the user's nor another test's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(_caches / str(abs(hash(request.node.nodeid)))))
