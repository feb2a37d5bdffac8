"""Shared fixtures: the packs under test, compiled once per session (compiling is pure)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import settings

import privacy_rules

# CI runs hypothesis derandomised (a failure there reproduces with the same command); local runs
# stay random so they keep finding new examples. `.ci/run` exports CI=1; HYPOTHESIS_PROFILE=ci
# selects the profile by hand.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI") or os.environ.get("HYPOTHESIS_PROFILE") == "ci":
    settings.load_profile("ci")

# The cache of checked pack files (src/privacy_rules/_yaml_cache.py) goes to a directory of this
# run, not the user's ~/.cache; subprocesses (the CLI tests) inherit it. Set it to `off` to run
# every load from the bytes.
if "PRIVACY_RULES_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="privacy-rules-test-cache-")
    os.environ["PRIVACY_RULES_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, True)

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "packs" / "mini"
ICONFIRM = ROOT / "rules" / "iconfirm"


@pytest.fixture(scope="session")
def mini_pack() -> privacy_rules.Pack:
    return privacy_rules.load_pack(MINI)


@pytest.fixture(scope="session")
def mini(mini_pack: privacy_rules.Pack) -> privacy_rules.Policy:
    return privacy_rules.compile_pack(mini_pack)


@pytest.fixture(scope="session")
def iconfirm() -> privacy_rules.Policy:
    return privacy_rules.compile_pack(privacy_rules.load_pack(ICONFIRM))


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """The URL of a database on a throwaway PostgreSQL server for the session (tests/pgserver.py).

    Skips, saying why, only where the machine has no PostgreSQL binaries (`.ci/run` installs them).
    """
    from . import pgserver

    try:
        server = pgserver.start()
    except LookupError as exc:
        pytest.skip(str(exc))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """A local Spark session (local[2], two shuffle partitions, no UI) for the session.

    Skips, saying why, where pyspark or a Java runtime is missing (`.ci/run` installs both).
    """
    import shutil

    try:
        from pyspark.sql import SparkSession
    except ImportError:
        pytest.skip("pyspark is not installed (the `spark` extra; `.ci/run` installs it)")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("no Java runtime (`java`) for Spark; `.ci/run` installs openjdk-17-jre-headless")
    session = (SparkSession.builder.master("local[2]").appName("privacy-rules-tests")
               .config("spark.sql.shuffle.partitions", "2")  # tiny tables: two tasks, not 200
               .config("spark.default.parallelism", "2")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.driver.memory", "1g")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
