"""Hostile inputs, generated: every class of issue 27's probe, driven by hypothesis.

Each test draws inputs of one class (NDJSON records, run manifests, checkpoint states,
pipeline values, numbers on the command line, web requests) and checks the promise
every command makes: a result, or one line naming the file, record or value, and
nothing else raised. Kept fast: small files, no training, a few hundred examples.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wikirec import __version__
from wikirec.cli import MAX_INT64, build_parser
from wikirec.dump import Chunk
from wikirec.parse import read_records
from wikirec.pipeline import PipelineError, _maxima, load_config, read_manifest
from wikirec.train import TrainError, read_state
from wikirec.wikitext import ChunkStats

FAST = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip

# JSON as a hostile writer makes it: huge and non-finite numbers, control characters,
# nesting, and the types a field did not expect.
hostile_scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(-(2**70), 2**70), st.sampled_from([2**63, -(2**63) - 1, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.sampled_from(["", "../../etc/passwd", "/etc/passwd", "a\x00b", "epoch-0001.npz",
                     "épée", "\u202e", "x" * 300]),
)  # fmt: skip
# The values most likely to get through a check that is missing: paths out of a folder,
# numbers at the edges of int64 and of the reals, numbers written as text.
tricky = st.sampled_from([
    "../../etc/passwd", "/etc/passwd", "epoch-0001.npz/../../x", "a\x00b", "", ".",
    2**63, 2**63 - 1, -1, 10**30, 1e30, 2.5, -0.0, math.inf, -math.inf, math.nan, "123",
    True, None, [], {},
])  # fmt: skip
hostile_json = st.recursive(
    hostile_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)  # fmt: skip


def one_line(message: str) -> bool:
    return bool(message) and "\n" not in message and "Traceback" not in message


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, allow_nan=True), encoding="utf-8")


def read_or_one_line(path: Path, document, read, error: type[Exception]):
    """``read(folder)`` after ``document`` is written as JSON at ``path`` in the folder;
    None when it is refused with ``error``, whose message must be one line naming the
    folder."""
    write_json(path, document)
    try:
        return read(path.parent)
    except error as exc:
        assert one_line(str(exc)) and str(path.parent) in str(exc)
        return None


def one_part_replaced(document: dict, paths: list[tuple]):
    """``document`` (valid) with the part at one of ``paths`` (keys from the top)
    replaced by hostile JSON, or removed; or any JSON at all. One bad part at a time
    reaches the checks a whole random document never gets past."""

    def replaced(path: tuple, value) -> dict:
        copy = json.loads(json.dumps(document))
        parent = copy
        for key in path[:-1]:
            parent = parent[key]
        if value is REMOVED:
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                del parent[path[-1]]
        else:
            parent[path[-1]] = value
        return copy

    parts = st.builds(replaced, st.sampled_from(paths),
                      st.one_of(tricky, hostile_json, st.just(REMOVED)))
    return st.one_of(parts, parts, hostile_json)


REMOVED = object()


# --------------------------------------------------------------------------- records


RECORD = ["Dune", {"author": "Frank Herbert"}, ["Arrakis", "Category:Novels"], [],
          "1965-08-01T00:00:00Z", 1024]  # fmt: skip


def records():
    """A real-shaped record with some of its fields replaced by hostile values, or any
    JSON at all."""
    replaced = st.dictionaries(st.integers(0, 6), tricky | hostile_json, min_size=1, max_size=2)
    shaped = replaced.map(lambda new: [new.get(i, v) for i, v in enumerate(RECORD)]
                          + ([new[6]] if 6 in new else []))  # fmt: skip
    return st.one_of(shaped, hostile_json)


@FAST
@given(fields=records())
def test_any_ndjson_line_is_a_record_or_one_line_naming_it(tmp_path, fields):
    """A line of a records file is a row with a title, lists of strings and a length
    that fits int64, or one line naming file:line; nothing else."""
    path = tmp_path / "records.ndjson"
    path.write_text(json.dumps(fields, allow_nan=True) + "\n", encoding="utf-8")
    stats = ChunkStats()
    rows = list(read_records(Chunk(str(path), "ndjson", 0, path.stat().st_size, 0), stats))
    if rows:
        (_, row), = rows
        assert isinstance(row["title"], str) and 0 <= row["text_length"] < 2**63
        assert all(isinstance(x, str) for x in row["wikilinks"] + row["external_links"])
        json.loads(row["infobox"])
    else:
        assert len(stats.errors) == 1 and one_line(stats.errors[0])
        assert stats.errors[0].startswith(f"{path}:1: ")


# --------------------------------------------------------------------------- manifests


MANIFEST = {
    "version": __version__,
    "stages": {"parse": {"key": "a key", "outputs": {"articles.parquet": {"bytes": 10}},
                         "summary": {"line": "x"}, "seconds": 1.0}},
    "pending": {"build": "b key"},
}  # fmt: skip
MANIFEST_PARTS = [("version",), ("stages",), ("pending",), ("pending", "build"),
                  ("stages", "parse"), ("stages", "build"), ("stages", "parse", "key"),
                  ("stages", "parse", "outputs"), ("stages", "parse", "summary"),
                  ("stages", "parse", "outputs", "articles.parquet"),
                  ("stages", "parse", "outputs", "../../etc/passwd"),
                  ("stages", "parse", "outputs", "articles.parquet", "bytes")]  # fmt: skip


@FAST
@given(manifest=one_part_replaced(MANIFEST, MANIFEST_PARTS))
def test_any_manifest_is_read_or_refused_in_one_line(tmp_path, manifest):
    """A run folder's manifest.json is read, or refused with one line naming it; when
    read, the run's own look-ups of it (is each stage still valid?) do not raise."""
    from wikirec.pipeline import STAGE_ORDER, _still_valid

    read = read_or_one_line(tmp_path / "manifest.json", manifest, read_manifest, PipelineError)
    for name in STAGE_ORDER if read is not None else ():
        _still_valid(read["stages"].get(name), "a key", tmp_path / name)


# --------------------------------------------------------------------------- checkpoints


STATE = {"config": {"dim": 8}, "data_id": "d", "file": "epoch-0002.npz",
         "history": [{"epoch": 1, "loss": 0.5, "seconds": 1.0, "examples": 10,
                      "examples_per_second": 10.0}]}  # fmt: skip
STATE_PARTS = [("config",), ("file",), ("history",), ("data_id",), ("history", 0),
               ("history", 0, "loss"), ("history", 0, "epoch"), ("history", 0, "seconds"),
               ("config", "dim")]  # fmt: skip


@FAST
@given(state=one_part_replaced(STATE, STATE_PARTS))
def test_any_checkpoint_state_is_read_or_refused_in_one_line(tmp_path, state):
    """A checkpoint's state.json is read, naming a weights file inside its folder and a
    history of finished epochs, or refused with one line naming it."""
    read = read_or_one_line(tmp_path / "state.json", state, read_state, TrainError)
    if read is None:
        return
    assert (tmp_path / read["file"]).resolve().parent == tmp_path.resolve()
    for entry in read["history"]:  # a loss of Infinity would reach the run's summary
        assert all(math.isfinite(entry[k]) for k in ("epoch", "loss", "seconds"))


# --------------------------------------------------------------------------- pipelines


def pipeline_keys() -> list[str]:
    config = load_config("books")
    return [f"{section}.{key}" for section, values in config.items() for key in values]


toml_values = st.one_of(
    st.integers(-(2**70), 2**70).map(str), st.floats(allow_nan=True).map(repr),
    st.sampled_from(["1e20", "1e300", "-0", "inf", "nan", "true", "[]", "[1, 2]", "[{a=1}]",
                     '["x", 1]', "{a=1}", '"/etc"', '"../.."', "[" * 50 + "]" * 50, "", "="]),
    st.text(max_size=12),
)  # fmt: skip


@FAST
@given(key=st.sampled_from(pipeline_keys()), value=toml_values)
def test_any_pipeline_value_is_taken_or_refused_in_one_line(key, value):
    """``--set section.key=value`` is checked before any stage runs: taken (a value of
    the default's type, a number within its bound) or one line naming the key."""
    try:
        config = load_config("books", [f"{key}={value}"])
    except PipelineError as exc:
        assert one_line(str(exc))
        return
    section, name = key.split(".", 1)
    default = load_config("books")[section][name]
    taken = config[section][name]
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        high = _maxima().get(key, MAX_INT64)
        assert isinstance(taken, (int, float)) and math.isfinite(taken) and 0 <= taken <= high


# --------------------------------------------------------------------------- numbers


NUMERIC_OPTIONS = [
    ("train", ["B", "--out", "O"], "--dim"), ("train", ["B", "--out", "O"], "--epochs"),
    ("train", ["B", "--out", "O"], "--negative-ratio"), ("train", ["B", "--out", "O"], "--seed"),
    ("train", ["B", "--out", "O"], "--batch-positives"),
    ("parse", ["D", "--out", "O"], "--limit"), ("evaluate", ["B"], "--seeds"),
    ("plot", ["M"], "--highlight-top"), ("generate", ["G.xml.bz2"], "--size-mb"),
    ("generate", ["G.xml.bz2"], "--books"),
]  # fmt: skip
number_texts = st.one_of(
    st.integers(-(2**80), 2**80).map(str), st.floats(allow_nan=True).map(repr),
    st.sampled_from(["1e20", "1e300", "99999999999", "0x10", "1_000", " 7", "", "-0", "nan"]),
)  # fmt: skip


@FAST
@given(option=st.sampled_from(NUMERIC_OPTIONS), text=number_texts)
def test_any_number_on_the_command_line_is_bounded_or_refused(option, text, capsys):
    """A numeric option is parsed to a finite number no larger than its stated bound,
    or refused by argparse (exit 2) with its usage and one error line."""
    command, args, flag = option
    parser = build_parser(command)
    try:
        parsed = parser.parse_args([command, *args, flag, text])
    except SystemExit as exc:
        assert exc.code == 2
        errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
        assert len(errors) == 1 and flag in errors[0]
        return
    value = getattr(parsed, flag.lstrip("-").replace("-", "_"))
    assert math.isfinite(value) and value < 2**63


# --------------------------------------------------------------------------- the server


@pytest.fixture(scope="module")
def server(p15_graph_model):
    from wikirec.serve.app import create_app
    from wikirec.serve.server import BackgroundServer, allowed_hosts
    from wikirec.serve.service import ModelService

    app = create_app(ModelService.load(p15_graph_model), allowed_hosts("127.0.0.1"))
    with BackgroundServer(app) as running:
        yield running


ENDPOINTS = ["similar", "least", "search", "about", "liked", "why", "book", "page", "links", "map"]
query_text = st.one_of(
    st.text(max_size=30), st.sampled_from(["Dune", "The Son of Tarzan", "science fiction",
                                           "x" * 5000, "\x00", "%", "../", "<script>"]),
    st.integers(-(2**64), 2**64).map(str), st.floats(allow_nan=True).map(repr),
)  # fmt: skip
params = st.lists(st.tuples(st.sampled_from(["title", "q", "k", "page", "liked", "minus",
                                             "query", "book", "limit", "least", "method", "x"]),
                            query_text), max_size=4)  # fmt: skip


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(endpoint=st.sampled_from(ENDPOINTS), query=params)
def test_any_request_gets_a_json_answer(server, endpoint, query):
    """Any query to any endpoint is answered in JSON: 200, or 400/404 with a one-line
    error that quotes at most a short prefix of what was sent."""
    import urllib.error
    import urllib.request

    text = [(k, v.encode("utf-8", "surrogatepass").decode("utf-8", "replace")) for k, v in query]
    url = f"{server.url}api/{endpoint}?{urlencode(text)}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=60) as reply:
            status, body = reply.status, reply.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    assert status in (200, 400, 404), (status, body[:300])
    answer = json.loads(body)
    if status != 200:
        assert one_line(answer["error"]) and len(answer["error"]) < 600
