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


# --- build and train (tests/test_build.py, tests/test_train.py) --------------------------


@pytest.fixture(scope="session")
def p15_articles(p15_records, tmp_path_factory) -> Path:
    """The p15 records parsed once: a folder with articles.parquet and redirects.parquet."""
    from wikirec.parse import parse_dumps

    out = tmp_path_factory.mktemp("p15-parse")
    parse_dumps([p15_records], out, workers=1)
    return out


@pytest.fixture(scope="session")
def p15_build(p15_articles, tmp_path_factory) -> Path:
    """The p15 articles built once as the reference tutorial built them: out-links only,
    min link count 5, the shipped stop list (812 links, 11,688 pairs)."""
    from wikirec.build import build_training_data

    out = tmp_path_factory.mktemp("p15-build")
    build_training_data(p15_articles, out, min_link_count=5, inlinks=False)
    return out


@pytest.fixture(scope="session")
def p15_graph_build(p15_articles, tmp_path_factory) -> Path:
    """The p15 articles built once with the defaults: out- and in-links, min link count 2."""
    from wikirec.build import build_training_data

    out = tmp_path_factory.mktemp("p15-graph-build")
    build_training_data(p15_articles, out)
    return out


# --- a trained model (recommend, evaluate, plot, export, notebook) ----------------------


@pytest.fixture(scope="session")
def p15_model(p15_build, tmp_path_factory) -> Path:
    """The reference model trained on the p15 build: 50-d, 10 epochs of the kernel's lazy
    Adam, seed 0 (seconds)."""
    from wikirec.train import train

    out = tmp_path_factory.mktemp("p15-train")
    train(p15_build, out, epochs=10, optimizer="kernel", model="reference", seed=0, overwrite=True)
    return out


@pytest.fixture(scope="session")
def p15_graph_model(p15_graph_build, tmp_path_factory) -> Path:
    """The default model (link_mean) on the default p15 build: 32-d, 5 epochs (seconds)."""
    from wikirec.train import train

    out = tmp_path_factory.mktemp("p15-graph-train")
    train(p15_graph_build, out, epochs=5, dim=32, seed=0, overwrite=True)
    return out
