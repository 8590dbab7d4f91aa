"""`wikirec run` on the bundled real data."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wikirec.cli import main
from wikirec.pipeline import STAGE_ORDER, PipelineError, load_config, report_lines, run_pipeline

FAST = ["train.epochs=2", "train.dim=16"]
ROOT = Path(__file__).resolve().parents[1]


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
    assert stages_run(log) == list(STAGE_ORDER)
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["stages"]) == set(STAGE_ORDER)
    assert not any((out / ".staging").iterdir())  # every staged folder was moved in place
    articles = pd.read_parquet(out / "parse" / "articles.parquet")
    assert len(articles) == 1413 + 3  # the p15 records and the fragment's three books
    assert {"Animal Farm", "The Wealthy Barber"} <= set(articles.title)
    train = manifest["stages"]["train"]
    assert train["params"]["dim"] == 16
    assert "book_vectors.npy" in train["outputs"]
    assert len(train["outputs"]["book_vectors.npy"]["sha256"]) == 64
    assert train["versions"]["wikirec"]
    # evaluate: the quick default methods, the config's model among them
    report = json.loads((out / "evaluate" / "report.json").read_text())
    assert [(r["method"], r["input"]) for r in report["rows"]] == [
        ("popularity", "out"),
        ("tfidf", "out"),
        ("tfidf", "out+in"),
        ("reference", "out"),
        ("link_mean", "out+in"),
    ]
    # books.toml: the reference on the compiled kernel (evaluate.optimizer), said so
    assert report["rows"][3]["info"]["optimizer"] == "kernel"
    assert "reference (out, kernel)" in (out / "evaluate" / "report.md").read_text()
    tfidf = report["rows"][1]
    assert tfidf["recall@10"] > report["rows"][0]["recall@10"]  # beats the chance level
    # the pipeline's model: trained in the train stage on the evaluation's split (never
    # its held-out pairs) and read by evaluate, then continued on every pair
    assert report["rows"][-1]["info"]["trained_ahead"]
    assert not report["rows"][-2]["info"]["trained_ahead"]  # the reference: trained there
    heldout = json.loads((out / "train" / "heldout" / "model" / "train.json").read_text())
    assert heldout["data"]["n_pairs"] < len(np.load(out / "build" / "pairs.npy"))
    final = json.loads((out / "train" / "train.json").read_text())
    assert final["initialised_from"].endswith("heldout/model")
    assert final["epochs_run"] == train["summary"]["epochs_run"] == 2  # FAST: 2 epochs
    assert train["summary"]["heldout_epochs"] == heldout["epochs_run"] == 2
    # export: every listed format, read back by its reader
    table = pd.read_parquet(out / "export" / "vectors.parquet")
    n_books = len(json.loads((out / "train" / "book_titles.json").read_text()))
    assert (table.kind == "book").sum() == n_books and len(table.vector[0]) == 16
    head = (out / "export" / "vectors.word2vec.txt").read_text().split("\n", 1)[0]
    assert head.split()[1] == "16"
    assert len((out / "export" / "projector" / "vectors.tsv").read_text().splitlines()) == n_books
    # plot: the map, its HTML twin, neighbours and bars of the first example
    files = set(manifest["stages"]["plot"]["summary"]["files"])
    assert {
        "books-umap-genre.png",
        "books-umap-genre.html",
        "books-umap-neighbours-animal-farm.png",
        "books-similar-animal-farm.png",
    } <= files
    assert all((out / "plot" / f).stat().st_size > 1000 for f in files)


def _figures_script():
    """docs/figures.py as a module: the README and docs/ files it knows, and its
    figures."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("figures", ROOT / "docs" / "figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIGURES = _figures_script()


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of each fenced code block of a Markdown text."""
    blocks, language, body = [], None, []
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            if language is None:
                language, body = line[3:].strip(), []
            else:
                blocks.append((language, "".join(body)))
                language = None
        elif language is not None:
            body.append(line)
    return blocks


def demo_examples(kind: str) -> list[tuple[str, str]]:
    """(file name, example) for each example of ``kind`` in the README and docs/ that
    uses the demo: ``python`` blocks, ``wikirec`` command lines (after ``$`` or
    ``.venv/bin/``) and ``curl`` lines of the served demo."""
    wikirec = re.compile(r"^(?:\$ |\.venv/bin/)wikirec ((?!serve|run)\w+ artifacts/demo\S* .*?)"
                         r"(?:  +#.*)?$", re.M)  # fmt: skip
    curl = re.compile(r"^curl '(http://127\.0\.0\.1:8000/[^']*)'$", re.M)
    found = []
    for path in FIGURES.DOCUMENTS:
        for language, body in fenced_blocks(path.read_text(encoding="utf-8")):
            if kind == "python" and language == "python" and "artifacts/demo" in body:
                found.append((path.name, body))
            elif kind != "python" and language != "python":
                found += [(path.name, m) for m in (wikirec if kind == "wikirec" else curl)
                          .findall(body)]  # fmt: skip
    return found


def test_the_examples_of_the_readme_and_docs_run_on_the_demo_model(books_run, capsys):
    """Issue 25: the README's and docs/' examples that use the demo run on the demo's
    model (the books pipeline on the bundled data, here trained briefly: the same books
    and pages): the Python blocks as written, and each `wikirec` command line."""
    import shlex

    out, _ = books_run
    python = demo_examples("python")
    assert {name for name, _ in python} >= {"README.md", "pipeline.md"}
    for name, block in python:
        code = block.replace('"artifacts/demo', '"' + str(out))
        exec(compile(code, name, "exec"), {})
    commands = demo_examples("wikirec")
    assert {name for name, _ in commands} >= {"README.md", "pipeline.md"}
    for name, command in commands:
        argv = shlex.split(command.replace("artifacts/demo", str(out)))
        assert main(argv) == 0, f"{name}: {command}"
        if "--why" in argv:
            assert capsys.readouterr().out.count("why: ") >= 1


def test_the_curl_examples_answer_on_the_served_demo_model(books_run):
    """Issue 25: each `curl` of the docs, sent to `wikirec serve` of the demo's model."""
    import json as json_module
    import urllib.error
    import urllib.request

    from wikirec.serve.app import create_app
    from wikirec.serve.server import BackgroundServer
    from wikirec.serve.service import ModelService

    out, _ = books_run
    urls = demo_examples("curl")
    assert len(urls) >= 5
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with BackgroundServer(create_app(ModelService.load(out / "train"))) as server:
        for name, url in urls:
            try:
                local = url.replace("http://127.0.0.1:8000/", server.url)
                with opener.open(local, timeout=60) as r:
                    assert r.status == 200 and json_module.loads(r.read()), f"{name}: {url}"
            except urllib.error.HTTPError as error:
                raise AssertionError(f"{name}: {url}: {error.code} {error.read()!r}") from None


def test_second_run_skips_every_stage(books_run):
    out, _ = books_run
    before = (out / "train" / "book_vectors.npy").stat().st_mtime_ns
    log: list[str] = []
    run_pipeline("books", out=out, overrides=FAST, log=log.append)
    assert stages_run(log) == []
    assert sum("unchanged, skipped" in line for line in log) == 6
    assert (out / "train" / "book_vectors.npy").stat().st_mtime_ns == before


def test_final_report(books_run, capsys):
    out, _ = books_run
    assert (
        main(["run", "books", "--out", str(out), "--quiet", *sum((["--set", o] for o in FAST), [])])
        == 0
    )
    printed = capsys.readouterr().out
    assert "parse: pages read 1,619, kept 1,416" in printed
    assert "method" in printed and "tfidf" in printed and "reference" in printed
    assert "export: projector, vectors.word2vec.txt, vectors.parquet in" in printed
    assert str(out / "export") in printed
    assert f"plot: 4 files in {out / 'plot'}" in printed
    assert f"notebook: WIKIREC_MODEL_DIR={out / 'train'}" in printed
    assert "(after: pip install jupyterlab)" in printed
    assert "books like 'Animal Farm': " in printed
    # issue 25: the summary fits on one screen
    lines = printed.splitlines()
    assert len(lines) <= 30 and max(map(len, lines)) <= 100, printed


def test_changing_a_training_parameter_reruns_train_and_after_only(books_run, tmp_path):
    out, _ = books_run
    log: list[str] = []
    overrides = ["train.epochs=2", "train.dim=8", "train.category_weight=2"]
    run_pipeline("books", out=out, overrides=overrides, log=log.append)
    assert stages_run(log) == ["train", "evaluate", "export", "plot"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"]["train"]["params"]["dim"] == 8
    # the report's TF-IDF weighs the category pages as the trained model does
    report = json.loads((out / "evaluate" / "report.json").read_text())
    weights = [(r["method"], r["info"].get("category_weight")) for r in report["rows"]]
    assert weights == [("popularity", None), ("tfidf", 2), ("tfidf", 2), ("reference", 1.0),
                       ("link_mean", 2)]  # fmt: skip


def test_from_forces_a_stage_and_the_rest(books_run):
    out, _ = books_run
    log: list[str] = []
    run_pipeline("books", out=out, overrides=FAST, start="build", until="train", log=log.append)
    assert stages_run(log) == ["build", "train"]


def test_killed_during_train_then_rerun_finishes(tmp_path):
    out = tmp_path / "run"
    args = ["run", "books", "--out", str(out), "--quiet", "--until", "train"]
    args += ["--set", "train.epochs=40", "--set", "train.patience=0", "--set", "train.dim=16"]
    command = [sys.executable, "-m", "wikirec.cli", *args]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # train works in the staging folder until it has finished, first on the evaluation's
    # training split (heldout/), then on every pair
    heldout = out / ".staging" / "train" / "heldout" / "model"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if list((heldout / "checkpoint").glob("*")):
                time.sleep(1.0)  # let an epoch or two be checkpointed
                break
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()
    assert not (heldout / "train.json").exists()  # killed in the middle of it
    assert main(args) == 0
    first = json.loads((out / "train" / "heldout" / "model" / "train.json").read_text())
    assert first["epochs_run"] == 40
    assert first["resumed_after_epoch"] > 0
    summary = json.loads((out / "train" / "train.json").read_text())
    assert summary["epochs_run"] == 5 and summary["initialised_from"].endswith("heldout/model")


def test_films_pipeline_keeps_the_film_pages(tmp_path):
    # The fragment's one {{Infobox film}} page is "Actrius" (data README); one film
    # cannot be trained on, so the films pipeline runs to the build here.
    run_pipeline("films", out=tmp_path, until="build")
    articles = pd.read_parquet(tmp_path / "parse" / "articles.parquet")
    assert articles.title.tolist() == ["Actrius"]
    assert set(articles.template) == {"Infobox film"}
    books = pd.read_parquet(tmp_path / "build" / "books.parquet")
    assert books.title.tolist() == ["Actrius"] and books.n_pairs[0] > 10
    assert books.country[0] == "Spain"
    assert main(["run", "films", "--out", str(tmp_path), "--quiet"]) == 2  # one line, exit 2


def test_books_external_links_pipeline(tmp_path):
    log: list[str] = []
    run_pipeline("books-external-links", out=tmp_path, overrides=["train.epochs=3"],
                 log=log.append)  # fmt: skip
    assert stages_run(log) == list(STAGE_ORDER)
    links = pd.read_parquet(tmp_path / "build" / "links.parquet")
    assert links.title[0].startswith("ala.org/") and (links["count"] >= 2).all()
    assert "georgette-heyer.com/chron.html" in set(links.title)
    table = pd.read_parquet(tmp_path / "export" / "vectors.parquet")
    assert set(table.title[table.kind == "link"]) == set(links.title)


def test_an_unknown_evaluation_optimizer_is_refused_before_any_stage(tmp_path):
    with pytest.raises(PipelineError, match="evaluate.optimizer 'fast': expected one of auto"):
        run_pipeline("books", out=tmp_path / "run", overrides=['evaluate.optimizer="fast"'])
    assert not (tmp_path / "run" / "manifest.json").exists()


def test_configs_are_validated():
    with pytest.raises(PipelineError, match="unknown key train.dimm"):
        load_config("books", ["train.dimm=3"])
    with pytest.raises(PipelineError, match="train.dim must be int"):
        load_config("books", ['train.dim="large"'])
    with pytest.raises(PipelineError, match="no pipeline 'nope'"):
        load_config("nope")
    assert load_config("books", ["train.dim=64"])["train"]["dim"] == 64
    for item in ["parse.chunk_mb=nan", "train.learning_rate=inf", "plot.highlight_top=-1"]:
        key = item.partition("=")[0]
        with pytest.raises(PipelineError, match=f"{key} must be a finite number, 0 or more"):
            load_config("books", [item])


@pytest.mark.parametrize(
    "item, message",
    [("train.dim=99999999999", "train.dim must be at most 4,096"),
     ("train.negative_ratio=99999999999", "train.negative_ratio must be at most 1,000"),
     ("train.seed=100000000000000000000", "train.seed must be at most 4,294,967,295"),
     ("evaluate.seeds=100000000000000000000", "evaluate.seeds must be at most 100"),
     ("plot.highlight_top=100000000000000000000", "plot.highlight_top must be at most 1,000"),
     ("parse.limit=100000000000000000000", "parse.limit must be at most 9,223,372,036,854,775,807"),
     ("parse.templates=[{a=1}]", "parse.templates must be a list of strings, not one holding dict"),
     ("report.examples=[1,2]", "report.examples must be a list of strings, not one holding int")],
)  # fmt: skip
def test_pipeline_values_are_bounded_and_checked_item_by_item(item, message, tmp_path, capsys):
    """Issue 27 item 6: refused in one line before any stage runs (report.examples=[1,2]
    failed after every stage)."""
    with pytest.raises(PipelineError, match=re.escape(message)):
        load_config("books", [item])
    out = tmp_path / "run"
    assert main(["run", "books", "--out", str(out), "--set", item, "--quiet"]) == 2
    assert message in capsys.readouterr().err and not out.exists()


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


def test_bad_names_are_one_line_exit_2(tmp_path, capsys):
    assert main(["run", "nope", "--out", str(tmp_path / "a")]) == 2
    assert main(["run", "books", "--out", str(tmp_path / "b"), "--until", "deploy"]) == 2
    other = tmp_path / "old"
    other.mkdir()
    (other / "manifest.json").write_text(json.dumps({"version": "0.0.1", "stages": {}}))
    assert main(["run", "books", "--out", str(other)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3
    assert err[0].startswith("wikirec run: no pipeline 'nope' (known: books, ")
    assert err[1].startswith("wikirec run: --until deploy: no such stage")
    assert err[2].startswith(f"wikirec run: {other}: made by wikirec 0.0.1")
    assert sorted(p.name for p in other.iterdir()) == ["manifest.json"]


def test_a_failed_stage_keeps_the_previous_outputs(books_run, capsys):
    out, _ = books_run
    manifest = (out / "manifest.json").read_text()
    before = json.loads(manifest)["stages"]
    vectors = (out / "train" / "book_vectors.npy").read_bytes()
    args = ["run", "books", "--out", str(out), "--quiet", "--set", "train.epochs=2"]
    assert main([*args, "--set", "train.dim=16", "--set", "train.optimizer=nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("wikirec run: train failed, earlier outputs kept: optimizer")
    assert (out / "train" / "book_vectors.npy").read_bytes() == vectors
    assert json.loads((out / "manifest.json").read_text())["stages"] == before
    # a stage that fails after the ones before it ran: plot, on a field no book has
    assert main([*args, "--set", "train.dim=16", "--set", "plot.color=nofield"]) == 2
    assert "plot failed, earlier outputs kept" in capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text())["stages"]["plot"] == before["plot"]
    assert all((out / "plot" / f).is_file() for f in before["plot"]["summary"]["files"])


def test_unset_training_keys_take_the_models_recipe():
    from wikirec.pipeline import load_config, train_options

    books = train_options(load_config("books"))
    assert books["model"] == "link_mean" and "dim" not in books and "learning_rate" not in books
    tutorial = train_options(load_config("books", ["train.model=reference", "train.dim=64"]))
    assert tutorial["model"] == "reference" and tutorial["dim"] == 64
    assert "epochs" not in tutorial and tutorial["seed"] == 0


# --------------------------------------------------------------------------- whose folder


def test_a_folder_of_other_files_is_refused_untouched(tmp_path, capsys):
    # The probe's data loss: run --until build removed V/build/src/main.c.
    source = tmp_path / "V" / "build" / "src" / "main.c"
    source.parent.mkdir(parents=True)
    source.write_text("code\n")
    args = ["run", "books", "--out", str(tmp_path / "V"), "--quiet", "--until", "build"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "not a wikirec run folder (no manifest.json) and not empty (build)" in err
    assert source.read_text() == "code\n"
    assert sorted(p.name for p in (tmp_path / "V").iterdir()) == ["build"]


def test_a_stage_folder_the_manifest_does_not_record_is_never_replaced(tmp_path):
    out = tmp_path / "run"
    run_pipeline("books", out=out, until="parse")
    mine = out / "build" / "notes.txt"
    mine.parent.mkdir()
    mine.write_text("mine\n")
    manifest = (out / "manifest.json").read_text()
    with pytest.raises(PipelineError, match=r"build: not written by wikirec .*nothing was changed"):
        run_pipeline("books", out=out, until="build")
    assert mine.read_text() == "mine\n" and (out / "manifest.json").read_text() == manifest


@pytest.mark.parametrize("name", ["/tmp/elsewhere", "../..", "..", "a/b", "", "  "])
def test_a_pipeline_name_cannot_move_the_run_folder(name, tmp_path):
    toml = tmp_path / "mine.toml"
    toml.write_text(f"[pipeline]\nname = {json.dumps(name)}\n[parse]\ndumps = ['x']\n")
    if name.strip():
        with pytest.raises(PipelineError, match="must be a plain folder name"):
            load_config(str(toml))
        with pytest.raises(PipelineError, match="must be a plain folder name"):
            load_config("books", [f"pipeline.name={json.dumps(name)}"])
    else:  # blank: the file's own name
        assert load_config(str(toml))["pipeline"]["name"] == "mine"


def test_a_busy_run_folder_is_refused_at_once_naming_the_lock(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path\n"
         "from wikirec.lock import folder_lock\n"
         "with folder_lock(Path(sys.argv[1])):\n print('held', flush=True); time.sleep(60)",
         str(out)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["run", "books", "--out", str(out), "--quiet"]) == 2
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err.strip()
    assert err == (
        f"wikirec run: {out} is in use by another wikirec command (process {holder.pid}, "
        f"lock file {out / '.lock'}); wait for it to finish or use another folder"
    )
    assert sorted(p.name for p in out.iterdir()) == [".lock"]  # nothing staged
    # The holder was killed: its lock is stale and the next run takes it over.
    log: list[str] = []
    run_pipeline("books", out=out, until="parse", log=log.append)
    assert log[0] == (
        f"took over the lock {out / '.lock'} left by process {holder.pid}, no longer running"
    )
    assert (out / ".lock").read_text() == ""  # released


@pytest.mark.parametrize(
    "text",
    ["[]", "null", '"x"', "{}", '{"version": VERSION}', '{"version": VERSION, "stages": []}',
     '{"version": VERSION, "stages": {"parse": "done"}}',
     '{"version": VERSION, "stages": {"parse": {"key": "k", "outputs": {"a": 1}}}}',
     '{"version": VERSION, "stages": {}, "pending": {"parse": 5}}',
     "[" * 100_000 + "]" * 100_000],
)  # fmt: skip
def test_a_manifest_of_the_wrong_shape_is_one_line_and_untouched(text, tmp_path, capsys):
    from wikirec import __version__

    out = tmp_path / "run"
    out.mkdir()
    text = text.replace("VERSION", json.dumps(__version__))
    (out / "manifest.json").write_text(text)
    assert main(["run", "books", "--out", str(out), "--quiet"]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and line.startswith(f"wikirec run: {out / 'manifest.json'}: ")
    assert (out / "manifest.json").read_text() == text
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]


def test_a_manifest_that_is_not_a_regular_file_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    os.mkfifo(out / "manifest.json")
    assert main(["run", "books", "--out", str(out), "--quiet"]) == 2
    assert "manifest.json: not a regular file" in capsys.readouterr().err
    assert stat.S_ISFIFO((out / "manifest.json").lstat().st_mode)


@pytest.mark.parametrize(
    "make, message",
    [(lambda p: p.write_text("[a]\n" + "x = " + "[" * 5_000 + "]" * 5_000), "nested too deeply"),
     (lambda p: p.write_bytes(b"[pipeline]\nname = \"caf\xe9\"\n"), "not UTF-8 text"),
     (lambda p: p.write_text("[train]\ndim = 8\n" + "#" * (2**20)), "too large for a pipeline"),
     (lambda p: os.mkfifo(p), "not a regular file")],
)  # fmt: skip
def test_a_bad_pipeline_file_is_one_line_naming_it(make, message, tmp_path, capsys):
    """Issue 27 item 7 (and item 3 for pipeline files): deep nesting, bad UTF-8, a huge
    file or a FIFO given as the pipeline is one line naming the file, at once."""
    path = tmp_path / "mine.toml"
    make(path)
    with pytest.raises(PipelineError, match=message):
        load_config(str(path))
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and str(path) in line and message in line


def test_the_quoted_figures_are_those_of_docs_figures_json(books_run):
    """Issue 25: the figures the README and docs/ quote (times, test count, sizes,
    counts, the demo's output) are written there from docs/figures.json by
    docs/figures.py, which takes them from fresh clones: applying it changes nothing,
    every figure it knows is quoted somewhere, and its counts are the bundled data's."""
    figures = FIGURES
    quoted = json.loads(figures.FIGURES.read_text(encoding="utf-8"))
    marked = set()
    for path in figures.DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        assert figures.apply(text, quoted) == text, f"{path.name}: run docs/figures.py apply"
        marked |= set(re.findall(r"<!--fig:(\w+)-->", text))
    assert marked == set(figures.RENDER)
    out, _ = books_run
    build = json.loads((out / "build" / "build.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert quoted["books"] == build["books"]["kept"]
    assert quoted["parse_kept"] == manifest["stages"]["parse"]["summary"]["kept"]
    assert quoted["demo_output"][0].startswith("train: ")
    assert any(line.startswith("books like 'Animal Farm': ") for line in quoted["demo_output"])
    # what the script keeps of a run's summary
    kept = figures.demo_output("\n".join(report_lines(manifest, out)))
    assert kept[0].startswith("train: ") and not any(k.startswith("export:") for k in kept)
