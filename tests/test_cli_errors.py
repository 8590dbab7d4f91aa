"""Failures the README promises as one line (``wikirec COMMAND: ...``, exit code 2, no
traceback): options that cannot be used, outputs that cannot be written, damaged
model folders and checkpoints; and the mode of the files written. On the real p15
records and the models trained from them (tests/conftest.py)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wikirec.cli import fail, main
from wikirec.io import CannotWrite, write_json_atomic, write_text_atomic
from wikirec.progress import progress_bar

ROOT = Path(__file__).resolve().parents[1]
TARZAN = "The Son of Tarzan"


def one_line_error(err: str, command: str) -> str:
    """The single line of ``err``, checked to be ``wikirec COMMAND: ...``."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"wikirec {command}: "), err
    return lines[0]


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["parse", "d.xml", "--out", "o", "--template", ""], "--template: must not be empty"),
        (["parse", "d.xml", "--out", "o", "--template", "  "], "--template: must not be empty"),
        (["parse", "d.xml", "--out", "o", "--chunk-mb", "nan"], "--chunk-mb: must be a finite"),
        (["parse", "d.xml", "--out", "o", "--chunk-mb", "0"], "--chunk-mb: must be more than 0"),
        (["parse", "d.xml", "--out", "o", "--chunk-mb", "-1"], "--chunk-mb: must be more than 0"),
        (["parse", "d.xml", "--out", "o", "--workers", "0"], "--workers: must be at least 1"),
        (["generate", "d.xml", "--size-mb", "nan"], "--size-mb: must be a finite number"),
        (["generate", "d.xml", "--size-mb", "inf"], "--size-mb: must be a finite number"),
        (["generate", "d.xml", "--books", "-1"], "--books: must be at least 0"),
        (["build", "a", "--out", "o", "--top", "-1"], "--top: must be at least 0, not -1"),
        (["build", "a", "--out", "o", "--min-link-count", "0"], "--min-link-count: must be at"),
        (["train", "b", "--out", "o", "--learning-rate", "nan"], "--learning-rate: must be a"),
        (["train", "b", "--out", "o", "--dim", "0"], "--dim: must be at least 1"),
        (["train", "b", "--out", "o", "--seed", "-1"], "--seed: must be at least 0"),
        (["recommend", "m", "x", "-k", "0"], "--top: must be at least 1"),
        (["evaluate", "b", "--fraction", "nan"], "--fraction: must be a finite number"),
        (["classify", "b", "m", "--folds", "x"], "--folds: not a whole number: 'x'"),
        (["plot", "m", "--highlight-top", "-1"], "--highlight-top: must be at least 0"),
        (["plot", "m", "--perplexity", "inf"], "--perplexity: must be a finite number"),
        # issue 27 item 6: bounded from above too (the probe's values)
        (["train", "b", "--out", "o", "--dim", "99999999999"], "--dim: must be at most 4,096"),
        (["train", "b", "--out", "o", "--negative-ratio", "99999999999"],
         "--negative-ratio: must be at most 1,000"),
        (["train", "b", "--out", "o", "--seed", str(10**20)], "--seed: must be at most 4,294,"),
        (["parse", "d.xml", "--out", "o", "--limit", str(10**20)], "--limit: must be at most"),
        (["evaluate", "b", "--seeds", str(10**20)], "--seeds: must be at most 100"),
        (["generate", "d.xml", "--size-mb", "1e300"], "--size-mb: must be at most 10,000,000"),
        (["generate", "d.xml", "--books", str(10**20)], "--books: must be at most 100,000,000"),
        (["plot", "m", "--highlight-top", str(10**20)], "--highlight-top: must be at most 1,000"),
    ],
)  # fmt: skip
def test_an_option_that_cannot_be_used_is_refused_before_any_work(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err
    last = err.splitlines()[-1]  # after argparse's usage
    assert last.startswith(f"wikirec {argv[0]}: error: argument ") and message in last, err


# --------------------------------------------------------------------------- outputs


def run_read_only(argv: list[str], folder: Path) -> subprocess.CompletedProcess:
    """``wikirec ARGV`` in a new process that cannot write into ``folder`` (made 0555):
    root writes anywhere, so as root the process runs without the capabilities that
    let it (setpriv, util-linux)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("as root, a read-only folder needs setpriv (util-linux)")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    try:
        return subprocess.run(
            [*prefix, sys.executable, "-m", "wikirec.cli", *argv],
            capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
    finally:
        folder.chmod(0o755)


def stage_argv(stage: str, p15_records, p15_articles, p15_build, out: Path) -> list[str]:
    report = str(out / "report.md")
    return {
        "parse": ["parse", str(p15_records), "--out", str(out), "--workers", "1"],
        "build": ["build", str(p15_articles), "--out", str(out)],
        "train": ["train", str(p15_build), "--out", str(out), "--epochs", "1", "--dim", "8"],
        "evaluate": ["evaluate", str(p15_build), "--models", "popularity", "--out", report],
        "generate": ["generate", str(out / "dump.xml"), "--size-mb", "0.1"],
    }[stage] + ["--quiet"]


@pytest.mark.parametrize("stage", ["parse", "build", "train", "evaluate", "generate"])
def test_a_read_only_out_is_one_line_naming_it(
    stage, p15_records, p15_articles, p15_build, tmp_path
):
    folder = tmp_path / "read-only"
    done = run_read_only(stage_argv(stage, p15_records, p15_articles, p15_build, folder), folder)
    assert done.returncode == 2, done.stderr
    # TensorFlow's start-up chatter is not ours: only the lines wikirec printed.
    ours = "\n".join(line for line in done.stderr.splitlines() if line.startswith("wikirec"))
    line = one_line_error(ours, stage)
    assert "Traceback" not in done.stderr and str(folder) in line and "denied" in line
    assert ".part" not in line and ".tmp" not in line  # the file asked for, not its temporary
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("stage", ["parse", "build", "evaluate", "generate"])
def test_an_out_under_a_file_is_one_line_naming_it(
    stage, p15_records, p15_articles, p15_build, tmp_path, capsys
):
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = blocker / "out"
    assert main(stage_argv(stage, p15_records, p15_articles, p15_build, out)) == 2
    line = one_line_error(capsys.readouterr().err, stage)
    assert str(blocker) in line and "Not a directory" in line


def test_a_file_that_cannot_be_written_names_itself_not_its_temporary(tmp_path):
    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "out.json"
    with pytest.raises(CannotWrite) as error:
        write_json_atomic({"a": 1}, target)
    assert str(error.value) == f"cannot write {target} ({tmp_path / 'file'} is not a folder)"
    assert error.value.filename == str(target)
    place = tmp_path / "folder"
    (place / "x.txt").mkdir(parents=True)  # a folder where the file should go
    with pytest.raises(CannotWrite, match="x.txt"):
        write_text_atomic("text", place / "x.txt")
    assert [p.name for p in place.iterdir()] == ["x.txt"]  # no temporary left


def test_written_json_is_strict_json_with_null_for_an_undefined_number(p15_build, tmp_path):
    """Issue 27 item 12: the evaluation's report may hold NaN (an AUC with no held-out
    link), which only Python's reader accepts; written JSON has null there."""
    import math

    write_json_atomic({"auc": math.nan, "rows": [{"x": math.inf, "y": 0.5}]}, tmp_path / "r.json")
    text = (tmp_path / "r.json").read_text()

    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    assert json.loads(text, parse_constant=refuse) == {"auc": None, "rows": [{"x": None, "y": 0.5}]}


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_take_the_umasks_mode(umask, mode, tmp_path):
    old = os.umask(umask)
    try:
        path = write_text_atomic("shared", tmp_path / "map.html")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_an_error_line_starts_on_a_line_of_its_own_below_a_progress_bar(capsys):
    bar = progress_bar(total=10, desc="parse")
    bar.update(3)
    bar.refresh()  # drawn now, whatever tqdm's minimum interval
    fail("parse", "dump.xml: page 'X' skipped")
    bar.close()
    err = capsys.readouterr().err
    before, found, _ = err.partition("wikirec parse: dump.xml: page 'X' skipped\n")
    assert found and "3/10" in before
    # What a terminal shows on the line the message starts: the bar, cleared.
    shown = before.rsplit("\n", 1)[-1].split("\r")[-1]
    assert shown == "", repr(before)


def test_parse_reports_a_damaged_dump_below_its_progress_bar(fragment, tmp_path, capsys):
    truncated = tmp_path / "cut.xml.bz2"
    truncated.write_bytes(fragment.read_bytes()[:300_000])  # a download cut short
    main(["parse", str(truncated), "--out", str(tmp_path / "out"), "--workers", "1"])
    err = capsys.readouterr().err
    before, found, _ = err.partition(f"wikirec parse: {truncated}: bad bz2 data")
    assert found and "parse:" in before  # the bar was drawn first
    assert before.rsplit("\n", 1)[-1].split("\r")[-1] == "", repr(before[-200:])


# --------------------------------------------------------------------------- model folders


def damage(folder: Path, how: str) -> str:
    """Damage a copy of a model folder; the file the error must name."""
    if how == "empty vectors":
        (folder / "book_vectors.npy").write_bytes(b"")
        return "book_vectors.npy"
    if how == "1-D vectors":
        vectors = np.load(folder / "link_vectors.npy")
        np.save(folder / "link_vectors.npy", vectors[:, 0].copy())
        return "link_vectors.npy"
    if how == "integer titles":
        n = len(json.loads((folder / "book_titles.json").read_text()))
        (folder / "book_titles.json").write_text(json.dumps(list(range(n))))
        return "book_titles.json"
    if how == "NaN vectors":
        vectors = np.load(folder / "book_vectors.npy")
        vectors[5] = np.nan
        np.save(folder / "book_vectors.npy", vectors)
        return "book_vectors.npy"
    if how == "huge vectors":  # finite, but their squared lengths overflow float32
        vectors = np.load(folder / "link_vectors.npy")
        vectors[2] = 3e38
        np.save(folder / "link_vectors.npy", vectors)
        return "link_vectors.npy"
    if how == "zero vectors":  # issue 27 item 10: no direction, ranked arbitrarily
        vectors = np.load(folder / "book_vectors.npy")
        vectors[:] = 0
        np.save(folder / "book_vectors.npy", vectors)
        return "book_vectors.npy"
    if how == "NaN biases":
        bias = np.load(folder / "link_bias.npy")
        bias[7] = np.nan
        np.save(folder / "link_bias.npy", bias)
        return "link_bias.npy"
    raise AssertionError(how)


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("empty vectors", "cannot read the vectors (No data left in file)"),
        ("1-D vectors", "the vectors have shape"),
        ("integer titles", "not a list of titles"),
        ("NaN vectors", "the vectors hold NaN or infinite values"),
        ("huge vectors", "the vectors hold values beyond 1e+15"),
        ("NaN biases", "the biases hold NaN or infinite values"),
        ("zero vectors", "the vectors hold rows of zeros (1,411; the first: "),
    ],
)
@pytest.mark.parametrize("command", ["recommend", "export", "serve"])
def test_a_damaged_model_folder_is_one_line_naming_the_file(
    how, message, command, p15_graph_model, tmp_path, capsys
):
    model = tmp_path / "model"
    shutil.copytree(p15_graph_model, model, ignore=shutil.ignore_patterns("checkpoint"))
    name = damage(model, how)
    export = tmp_path / "e.parquet"
    argv = {
        "recommend": ["recommend", str(model), TARZAN, "--json"],
        "export": ["export", str(model), "--format", "parquet", "--out", str(export)],
        "serve": ["serve", str(model), "--port", "0"],  # refused before it listens
    }[command]
    assert main(argv) == 2
    captured = capsys.readouterr()
    line = one_line_error(captured.err, command)
    assert f"{model / name}: {message}" in line, line
    assert captured.out == "" and not export.exists()


def test_recommend_json_is_strict_json(p15_graph_model, capsys):
    assert main(["recommend", str(p15_graph_model), TARZAN, "--links", "--json", "-k", "5"]) == 0
    answer = json.loads(capsys.readouterr().out, parse_constant=pytest.fail)
    assert [r["rank"] for r in answer["results"]] == [1, 2, 3, 4, 5]
    assert all(np.isfinite(r["score"]) for r in answer["results"])


# --------------------------------------------------------------------------- checkpoints


@pytest.fixture(scope="module")
def kernel_run(p15_build, tmp_path_factory) -> Path:
    """A one-epoch run of the kernel trainer, its checkpoint kept for --resume."""
    from wikirec.train import train

    out = tmp_path_factory.mktemp("kernel-run") / "train"
    train(p15_build, out, epochs=1, dim=8, optimizer="kernel", seed=0, overwrite=True)
    return out


@pytest.fixture(scope="module")
def keras_run(p15_build, tmp_path_factory) -> Path:
    """A one-epoch run of the Keras trainer: its checkpoint is a .keras file."""
    from wikirec.train import train

    out = tmp_path_factory.mktemp("keras-run") / "train"
    train(p15_build, out, model="reference", epochs=1, dim=8, optimizer="adam", seed=0,
          overwrite=True)  # fmt: skip
    return out


def test_an_empty_kernel_checkpoint_is_one_line_on_resume(kernel_run, p15_build, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(kernel_run, run)
    state = json.loads((run / "checkpoint" / "state.json").read_text())
    checkpoint = run / "checkpoint" / state["file"]
    checkpoint.write_bytes(b"")
    argv = ["train", str(p15_build), "--out", str(run), "--epochs", "2", "--dim", "8"]
    assert main([*argv, "--optimizer", "kernel", "--resume", "--quiet"]) == 2
    line = one_line_error(capsys.readouterr().err, "train")
    assert f"{checkpoint}: checkpoint does not fit this model" in line


def test_a_checkpoint_safe_mode_refuses_is_one_line_on_resume(
    keras_run, p15_build, tmp_path, capsys
):
    import keras

    run = tmp_path / "run"
    shutil.copytree(keras_run, run)
    state = json.loads((run / "checkpoint" / "state.json").read_text())
    checkpoint = run / "checkpoint" / state["file"]
    assert checkpoint.suffix == ".keras"
    # A Python lambda in the file: loading it would run code, so safe_mode refuses it.
    inputs = keras.Input((1,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(checkpoint)
    argv = ["train", str(p15_build), "--out", str(run), "--model", "reference", "--epochs", "2"]
    assert main([*argv, "--dim", "8", "--optimizer", "adam", "--resume", "--quiet"]) == 2
    line = one_line_error(capsys.readouterr().err, "train")
    assert f"{checkpoint}: checkpoint does not load" in line and "safe_mode" in line
