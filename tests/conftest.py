"""Shared fixtures: the real shipped config and content, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Knowledge, build_knowledge

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return build_knowledge(ROOT / "config.example.yaml", {})
