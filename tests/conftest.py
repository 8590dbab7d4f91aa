"""Shared fixtures: the real Wikipedia files bundled with the package."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "wikirec" / "data"


@pytest.fixture(scope="session")
def fragment() -> Path:
    """Real enwiki dump fragment: 206 pages, 3 books, 100 redirects (one bz2 stream)."""
    return DATA / "enwiki-sample-p10p30302.xml.bz2"


@pytest.fixture(scope="session")
def p15_records() -> Path:
    """The reference project's 1,413 real book records from enwiki partition 15."""
    return DATA / "koehrsen-p15-books.ndjson"
