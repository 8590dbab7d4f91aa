"""wikirec export: every format round-trips on a model trained on the p15 records."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wikirec.cli import main
from wikirec.export import (
    export,
    tensorboard_tensor_name,
    word2vec_title,
    word2vec_token,
)
from wikirec.trained import BOOKS, LINKS, ModelError, read_trained


@pytest.fixture(scope="module")
def model(p15_model):
    return read_trained(p15_model)


def _copy_model(p15_model: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(p15_model, copy, ignore=shutil.ignore_patterns("checkpoint", "reductions"))
    return copy


def read_tsv_rows(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------- loading


def test_read_trained_finds_the_build_and_normalizes(model, p15_build):
    assert model.data_dir == Path(p15_build)
    assert len(model.titles[BOOKS]) == len(model.books) == 1411
    assert len(model.titles[LINKS]) == len(model.links) == 812
    norms = np.linalg.norm(model.vectors[BOOKS], axis=1)
    assert np.allclose(norms, 1, atol=1e-5)
    assert model.vectors[BOOKS].dtype == np.float32 and model.dim == 50


def test_find_is_forgiving_about_case_and_suggests(model):
    row = model.find("the son of tarzan")
    assert model.titles[BOOKS][row] == "The Son of Tarzan"
    assert model.find("Science_fiction", LINKS) == model.titles[LINKS].index("science fiction")
    with pytest.raises(ModelError, match="Did you mean: The Son of Tarzan"):
        model.find("The Sun of Tarzan")


# --------------------------------------------------------------------------- formats


def test_projector_round_trip(model, tmp_path):
    out = tmp_path / "projector"
    manifest = export(model, "projector", out)
    vectors = np.loadtxt(out / "vectors.tsv", delimiter="\t", dtype=np.float32)
    np.testing.assert_array_equal(vectors, model.vectors[BOOKS])
    rows = read_tsv_rows(out / "metadata.tsv")
    assert rows[0] == ["title", "author", "genre", "country", "language", "publisher", "series"]
    assert [r[0] for r in rows[1:]] == model.titles[BOOKS]
    assert all(len(r) == len(rows[0]) for r in rows)
    tarzan = rows[1 + model.find("The Son of Tarzan")]
    assert tarzan[1] == "Edgar Rice Burroughs"
    links = read_tsv_rows(out / "link_metadata.tsv")
    assert links[0] == ["title", "type", "books"] and len(links) == 1 + 812
    # a page is labelled by Wikipedia's title, not the build's case-folded key
    assert [r[0] for r in links[1:]] == model.display_titles(LINKS)
    assert links[1 + model.find("science fiction", LINKS)][:2] == ["Science fiction", "page"]
    link_vectors = np.loadtxt(out / "link_vectors.tsv", delimiter="\t", dtype=np.float32)
    np.testing.assert_array_equal(link_vectors, model.vectors[LINKS])
    config = json.loads((out / "projector_config.json").read_text())
    shapes = [e["tensorShape"] for e in config["embeddings"]]
    assert shapes == [[1411, 50], [812, 50]]
    assert all((out / e["tensorPath"]).is_file() for e in config["embeddings"])
    assert manifest["rows"] == {"books": 1411, "links": 812}


def test_tensorboard_log_folder_reads_back(model, tmp_path):
    import tensorflow as tf
    from google.protobuf import text_format
    from tensorboard.plugins.projector import projector_config_pb2

    out = tmp_path / "logs"
    export(model, "tensorboard", out)
    config = text_format.Parse(
        (out / "projector_config.pbtxt").read_text(), projector_config_pb2.ProjectorConfig()
    )
    assert [e.tensor_name for e in config.embeddings] == [
        tensorboard_tensor_name(BOOKS),
        tensorboard_tensor_name(LINKS),
    ]
    checkpoint = tf.train.latest_checkpoint(str(out))  # what the Projector plugin does
    assert checkpoint is not None and Path(checkpoint).parent == out
    reader = tf.train.load_checkpoint(checkpoint)
    for kind, embedding in zip((BOOKS, LINKS), config.embeddings, strict=True):
        np.testing.assert_array_equal(reader.get_tensor(embedding.tensor_name), model.vectors[kind])
        metadata = read_tsv_rows(out / embedding.metadata_path)
        assert [r[0] for r in metadata[1:]] == model.display_titles(kind)


def test_word2vec_loads_in_gensim_and_agrees_with_the_recommender(model, tmp_path):
    from gensim.models import KeyedVectors

    from wikirec.recommend import Recommender

    path = tmp_path / "vectors.txt"
    export(model, "word2vec", path)
    kv = KeyedVectors.load_word2vec_format(str(path))
    assert len(kv) == 1411 + 812 and kv.vector_size == 50
    assert kv.index_to_key[0] == word2vec_token(BOOKS, model.titles[BOOKS][0])
    assert word2vec_title(kv.index_to_key[1411]) == (LINKS, model.titles[LINKS][0])
    np.testing.assert_array_equal(kv.vectors[:1411], model.vectors[BOOKS])
    np.testing.assert_array_equal(kv.vectors[1411:], model.vectors[LINKS])
    token = word2vec_token(BOOKS, "The Son of Tarzan")
    assert token == "book/The_Son_of_Tarzan"
    theirs = kv.most_similar(token, topn=5, restrict_vocab=1411)  # books come first
    ours = Recommender.load(model.path).most_similar("The Son of Tarzan", topn=5)
    assert [word2vec_title(t)[1] for t, _ in theirs] == [t for t, _ in ours]
    np.testing.assert_allclose([s for _, s in theirs], [s for _, s in ours], atol=1e-5)


def test_word2vec_tokens_are_unique_and_reversible(model, tmp_path):
    assert word2vec_token(LINKS, "category:american  novels") == "link/category:american__novels"
    assert word2vec_title("link/category:science_fiction") == (LINKS, "category:science fiction")
    with pytest.raises(ValueError):
        word2vec_title("The_Hobbit")
    model = read_trained(model.path)
    model.titles[BOOKS][1] = model.titles[BOOKS][0].replace(" ", "_")  # a colliding pair
    path = tmp_path / "w2v.txt"
    export(model, "word2vec", path, kinds=[BOOKS])
    tokens = [line.split(" ", 1)[0] for line in path.read_text().splitlines()[1:]]
    assert len(tokens) == len(set(tokens)) == 1411
    assert tokens[1] == tokens[0] + "~2"


def test_parquet_round_trip(model, tmp_path):
    path = tmp_path / "vectors.parquet"
    export(model, "parquet", path)
    table = pd.read_parquet(path)
    assert list(table.columns) == ["kind", "index", "title", "vector"]
    assert table["kind"].value_counts().to_dict() == {"book": 1411, "link": 812}
    books = table[table["kind"] == "book"]
    assert books["title"].tolist() == model.titles[BOOKS]
    assert books["index"].tolist() == list(range(1411))
    np.testing.assert_array_equal(np.stack(books["vector"].to_numpy()), model.vectors[BOOKS])
    links = table[table["kind"] == "link"]
    np.testing.assert_array_equal(np.stack(links["vector"].to_numpy()), model.vectors[LINKS])


def test_raw_vectors_and_one_kind(p15_model, tmp_path):
    path = tmp_path / "raw.parquet"
    manifest = export(p15_model, "parquet", path, kinds=[LINKS], normalize=False)
    raw = np.load(Path(p15_model) / "link_vectors.npy")
    table = pd.read_parquet(path)
    assert set(table["kind"]) == {"link"} and manifest["normalized"] is False
    np.testing.assert_array_equal(np.stack(table["vector"].to_numpy()), raw)


def test_an_export_folder_is_replaced_whole(model, tmp_path):
    out = tmp_path / "projector"
    export(model, "projector", out, kinds=[BOOKS, LINKS])
    export(model, "projector", out, kinds=[BOOKS])
    assert not (out / "link_vectors.tsv").exists()
    assert json.loads((out / "export.json").read_text())["rows"] == {"books": 1411}
    assert [p.name for p in tmp_path.iterdir()] == ["projector"]  # no temporary folders


# --------------------------------------------------------------------------- bad input


def test_titles_only_without_the_build(p15_model, tmp_path, p15_build):
    copy = _copy_model(p15_model, tmp_path)
    summary = json.loads((copy / "train.json").read_text())
    summary["data"]["dir"] = str(tmp_path / "gone")
    (copy / "train.json").write_text(json.dumps(summary))
    manifest = export(copy, "projector", tmp_path / "out")
    assert manifest["metadata"] is None
    lines = (tmp_path / "out" / "metadata.tsv").read_text().splitlines()
    assert len(lines) == 1411 and "\t" not in lines[0]  # one column: no header row
    manifest = export(copy, "projector", tmp_path / "out", data_dir=p15_build)
    assert manifest["metadata"] == str(p15_build)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "book_vectors.npy").unlink(), "missing book_vectors.npy"),
        (lambda d: _set_version(d, "7.0.0"), "another version of wikirec"),
        (lambda d: (d / "book_titles.json").write_text('["only one"]'), "do not match"),
    ],
)
def test_bad_model_folders_fail_in_one_line(p15_model, tmp_path, capsys, damage, message):
    copy = _copy_model(p15_model, tmp_path)
    damage(copy)
    out = tmp_path / "out.parquet"
    code = main(["export", str(copy), "--format", "parquet", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and message in err
    assert err.startswith("wikirec export: ") and err.count("\n") == 1
    assert not out.exists()


def _set_version(folder: Path, version: str) -> None:
    summary = json.loads((folder / "train.json").read_text())
    summary["version"] = version
    (folder / "train.json").write_text(json.dumps(summary))


def test_unwritable_outputs_leave_nothing(model, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for fmt in ("projector", "parquet"):
        with pytest.raises(ModelError, match="cannot write"):
            export(model, fmt, blocker / "out")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ModelError, match="not a wikirec export"):
        export(model, "projector", foreign)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "mine"]


def test_cli_says_where_files_went(p15_model, tmp_path, capsys):
    out = tmp_path / "vectors.txt"
    assert main(["export", str(p15_model), "--format", "word2vec", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out}" in text and "load_word2vec_format" in text
    assert out.read_text().splitlines()[0] == "2223 50"
