"""`wikirec run` on the bundled real data."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from wikirec.cli import main
from wikirec.pipeline import PipelineError, load_config, run_pipeline

FAST = ["train.epochs=2", "train.dim=16"]


def stages_run(log_lines: list[str]) -> list[str]:
    return [line.split(":")[0] for line in log_lines if line.endswith("running ...")]


@pytest.fixture(scope="module")
def books_run(tmp_path_factory) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("books-run")
    log: list[str] = []
    run_pipeline("books", out=out, overrides=FAST, log=log.append)
    return out, log


def test_books_pipeline_end_to_end(books_run):
    out, log = books_run
    assert stages_run(log)[:3] == ["parse", "build", "train"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["stages"]) >= {"parse", "build", "train"}
    articles = pd.read_parquet(out / "parse" / "articles.parquet")
    assert len(articles) == 1413 + 3  # the p15 records and the fragment's three books
    assert {"Animal Farm", "The Wealthy Barber"} <= set(articles.title)
    train = manifest["stages"]["train"]
    assert train["params"]["dim"] == 16
    assert "book_vectors.npy" in train["outputs"]
    assert len(train["outputs"]["book_vectors.npy"]["sha256"]) == 64
    assert train["versions"]["wikirec"]


def test_second_run_skips_every_stage(books_run):
    out, _ = books_run
    before = (out / "train" / "book_vectors.npy").stat().st_mtime_ns
    log: list[str] = []
    run_pipeline("books", out=out, overrides=FAST, log=log.append)
    assert stages_run(log) == []
    assert sum("unchanged, skipped" in line for line in log) >= 3
    assert (out / "train" / "book_vectors.npy").stat().st_mtime_ns == before


def test_changing_a_training_parameter_reruns_train_and_after_only(books_run, tmp_path):
    out, _ = books_run
    log: list[str] = []
    run_pipeline("books", out=out, overrides=["train.epochs=2", "train.dim=8"], log=log.append)
    ran = stages_run(log)
    assert ran and ran[0] == "train" and "parse" not in ran and "build" not in ran
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"]["train"]["params"]["dim"] == 8


def test_from_forces_a_stage_and_the_rest(books_run):
    out, _ = books_run
    log: list[str] = []
    run_pipeline("books", out=out, overrides=FAST, start="build", until="train", log=log.append)
    assert stages_run(log) == ["build", "train"]


def test_killed_during_train_then_rerun_finishes(tmp_path):
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "wikirec.cli",
        "run",
        "books",
        "--out",
        str(out),
        "--quiet",
        "--set",
        "train.epochs=40",
        "--set",
        "train.patience=0",
        "--set",
        "train.dim=16",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if list((out / "train" / "checkpoint").glob("*")):
                time.sleep(1.0)  # let an epoch or two be checkpointed
                break
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()
    assert (
        main(
            [
                "run",
                "books",
                "--out",
                str(out),
                "--quiet",
                "--set",
                "train.epochs=40",
                "--set",
                "train.patience=0",
                "--set",
                "train.dim=16",
            ]
        )
        == 0
    )
    summary = json.loads((out / "train" / "train.json").read_text())
    assert summary["epochs_run"] == 40
    assert summary["resumed_after_epoch"] > 0


def test_films_pipeline_keeps_the_film_pages(tmp_path):
    run_pipeline("films", out=tmp_path, until="parse")
    articles = pd.read_parquet(tmp_path / "parse" / "articles.parquet")
    assert len(articles) >= 1
    assert set(articles.template) == {"Infobox film"}
    assert "Animal Farm" not in set(articles.title)


def test_configs_are_validated():
    with pytest.raises(PipelineError, match="unknown key train.dimm"):
        load_config("books", ["train.dimm=3"])
    with pytest.raises(PipelineError, match="train.dim must be int"):
        load_config("books", ['train.dim="large"'])
    with pytest.raises(PipelineError, match="no pipeline 'nope'"):
        load_config("nope")
    assert load_config("books", ["train.dim=64"])["train"]["dim"] == 64


def test_bad_runs_are_one_line_and_destroy_nothing(books_run, tmp_path, capsys):
    out, _ = books_run
    assert main(["run", "books", "--out", str(out), "--from", "nope"]) == 2
    assert main(["run", "books", "--out", str(tmp_path / "x"), "--dump", "missing.xml"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert err[0].startswith("wikirec run: --from nope: no such stage (stages: parse, build,")
    assert err[1] == "wikirec run: missing.xml: no such file or folder"
    other = tmp_path / "old"
    other.mkdir()
    (other / "manifest.json").write_text(json.dumps({"version": "0.0.1", "stages": {}}))
    with pytest.raises(PipelineError, match="made by wikirec 0.0.1"):
        run_pipeline("books", out=other)
    assert json.loads((other / "manifest.json").read_text())["version"] == "0.0.1"
