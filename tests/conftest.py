"""Shared fixtures: the real shipped config and content, built once per test session."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Knowledge, build_knowledge
from tests import databases
from tests.villagers import Bot, make_desk, open_bot

ROOT = Path(__file__).resolve().parent.parent
# Modules that never open a database: the PostgreSQL half leaves them to the SQLite half.
NO_DATABASE = ["test_cli.py", "test_config.py", "test_faq.py", "test_textnorm.py"]
collect_ignore = NO_DATABASE if databases.POSTGRESQL else []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: tests SQLite's own behaviour (its locks, its backup API)")
    if databases.POSTGRESQL and databases.start() is None:
        if os.environ.get("DESA_POSTGRESQL_REQUIRED"):   # CI: a missing server is an error, not a skip
            pytest.exit("PostgreSQL half: no PostgreSQL server here (apt-get install postgresql)", returncode=1)
        pytest.exit("PostgreSQL half skipped: no PostgreSQL server here (apt-get install postgresql)",
                    returncode=0)


def pytest_unconfigure(config: pytest.Config) -> None:
    databases.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if databases.POSTGRESQL:
        skip = pytest.mark.skip(reason="SQLite's own behaviour; the PostgreSQL half does not have it")
        for item in items:
            if item.get_closest_marker("sqlite_only"):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return build_knowledge(ROOT / "config.example.yaml", {})


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    """The shipped config with officers and an alert group filled in, as an office would."""
    return make_desk(tmp_path_factory.mktemp("cfg"))


@pytest.fixture
async def bot(desk: Knowledge, tmp_path: Path) -> AsyncIterator[Bot]:
    """The whole conversation on a fresh SQLite file, its outbox delivering to a recorder."""
    async with open_bot(desk, tmp_path) as b:
        yield b


@pytest.fixture(scope="module")
def channel_knowledge(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    """Two offices' officers and groups on both channels, as tests/faults_rigs.py configures them."""
    from tests.faults_rigs import knowledge_for  # faults_rigs reads ROOT from here
    return knowledge_for(tmp_path_factory.mktemp("channels"))


@pytest.fixture
async def channels(channel_knowledge: Knowledge, tmp_path: Path) -> AsyncIterator[Any]:
    """The real app with both channel adapters, talking to fake Telegram and Twilio on loopback."""
    from tests.faults_rigs import open_desk
    # Nothing here hangs on purpose: a generous timeout keeps a loaded machine from making a
    # slow answer an uncertain send (the fault tests keep their short one).
    async with open_desk(channel_knowledge, tmp_path, rest_timeout=2.0) as desk:
        yield desk
