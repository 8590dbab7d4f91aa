"""``wikirec serve``'s JSON API and command, on the default model trained on real p15 data.

Every answer is compared with the :class:`Recommender` called directly on the same
folder (never hard-coded model outputs). The page itself, in a real browser, is
tests/test_serve_browser.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from serve_data import (
    HOSTILE_FIELD,
    HOSTILE_TITLES,
    SCRIPT_TITLE,
    Client,
    add_reduction,
    make_hostile_model,
    model_with_map,
)

import wikirec.plot.reduce
from wikirec.cli import main
from wikirec.plot import PALETTE, colour_groups, select_points
from wikirec.plot.colours import genre_group
from wikirec.recommend import Book, Recommender
from wikirec.serve.app import MAP_POLICY, PAGE_POLICY, create_app, host_name
from wikirec.serve.maps import find_maps
from wikirec.serve.server import BackgroundServer, allowed_hosts, host_warning, is_loopback
from wikirec.serve.service import HUB_ROOM, ApiError, ModelService, wikipedia_url
from wikirec.trained import read_trained

ROOT = Path(__file__).resolve().parents[1]
TARZAN = "The Son of Tarzan"
LIKED = ["Tarzan the Terrible", "The Beasts of Tarzan"]
PAGE = "Science fiction"  # the key "science fiction", as shown


@pytest.fixture(scope="module")
def service(p15_graph_model) -> ModelService:
    return ModelService.load(p15_graph_model)


@pytest.fixture(scope="module")
def rec(p15_graph_model) -> Recommender:
    """The Recommender loaded on its own, as a user of the Python API would."""
    return Recommender.load(p15_graph_model)


@pytest.fixture(scope="module")
def server(service):
    """The app served on a free loopback port, as ``wikirec serve`` serves it."""
    with BackgroundServer(create_app(service, allowed_hosts("127.0.0.1"))) as running:
        yield running


@pytest.fixture(scope="module")
def client(server) -> Client:
    return Client(server.url)


def get(client: Client, path: str, **params) -> dict:
    response = client.get(path, params)
    assert response.status == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def pairs(answer: dict) -> list[tuple[str, float]]:
    return [(r["title"], r["score"]) for r in answer["results"]]


# --------------------------------------------------------------------------- answers


def test_similar_and_least_are_the_recommenders(client, rec):
    answer = get(client, "/api/similar", title="the son of TARZAN", k=7)
    assert answer["query"] == {"title": TARZAN, "kind": "book", "k": 7, "least": False}
    assert pairs(answer) == rec.most_similar(TARZAN, topn=7)
    assert [r["rank"] for r in answer["results"]] == list(range(1, 8))
    least = get(client, "/api/least", title=TARZAN)
    assert pairs(least) == rec.most_similar(TARZAN, topn=10, least=True)
    assert least["query"]["least"] is True


def test_about_links_and_liked_are_the_recommenders(client, rec):
    about = get(client, "/api/about", page=PAGE, k=5)
    assert about["query"]["page"] == PAGE
    assert pairs(about) == rec.books_about(PAGE, topn=5)
    links = get(client, "/api/links", title=TARZAN)
    # the Recommender's ranking with the hubs (pages many books meet) after the others
    ranked = rec.links_for(TARZAN, topn=10 + HUB_ROOM)
    hubs = [bool(rec.book_links.hubs[rec.index(t, "links")]) for t, _ in ranked]
    assert 0 < sum(hubs[:10]) and not all(hubs)  # there are hubs to move
    ordered = sorted(zip(ranked, hubs, strict=True), key=lambda pair_hub: pair_hub[1])
    expected = [pair for pair, _ in ordered][:10]
    assert pairs(links) == expected
    assert [r["hub"] for r in links["results"]] == sorted(hubs)[:10]
    assert links["measure"] == ("score" if rec.scorer.link_bias is not None else "similarity")
    liked = get(client, "/api/liked", liked=LIKED)
    assert pairs(liked) == rec.recommend_for_liked(LIKED)
    pushed = get(client, "/api/liked", liked=LIKED, minus=[TARZAN, PAGE], k=4)
    assert pairs(pushed) == rec.most_similar([Book(t) for t in LIKED], [TARZAN, PAGE], topn=4)
    assert pushed["query"]["minus"] == [{"title": TARZAN, "kind": "book"},
                                        {"title": PAGE, "kind": "page"}]  # fmt: skip
    assert not {TARZAN, *LIKED} & {title for title, _ in pairs(pushed)}


def test_why_is_the_recommenders_for_each_book(client, rec):
    books = [title for title, _ in rec.most_similar(TARZAN, topn=4)]
    answer = get(client, "/api/why", query=TARZAN, book=books, k=3)
    assert answer["query"] == [TARZAN]
    assert [r["book"] for r in answer["results"]] == books
    for result, book in zip(answer["results"], books, strict=True):
        expected = rec.why([Book(TARZAN)], book, topn=3)
        assert [(s["page"], s["query"], s["book"], s["weight"]) for s in result["shared"]] == [
            tuple(e) for e in expected
        ]
    assert any(r["shared"] for r in answer["results"])  # the p15 build explains some
    two = get(client, "/api/why", query=LIKED, book=books[0])
    assert [s["page"] for s in two["results"][0]["shared"]] == [
        page for page, *_ in rec.why(LIKED, books[0])
    ]


def test_book_has_its_infobox_fields_and_a_wikipedia_link(client, p15_graph_model):
    answer = get(client, "/api/book", title=TARZAN.lower())
    assert answer["title"] == TARZAN
    assert answer["wikipedia"] == "https://en.wikipedia.org/wiki/The_Son_of_Tarzan"
    books = read_trained(p15_graph_model).books
    infobox = json.loads(books.loc[books["title"] == TARZAN, "infobox"].iloc[0])
    expected = [[k, str(v)] for k, v in infobox.items() if str(v).strip()]
    assert answer["fields"] == expected
    assert ["author", "Edgar Rice Burroughs"] in answer["fields"]
    page = get(client, "/api/page", title="Science Fiction")
    assert page["title"] == PAGE and page["url"].startswith("https://en.wikipedia.org/")


def test_wikipedia_links_are_escaped():
    assert wikipedia_url("Nineteen Eighty-Four") == "https://en.wikipedia.org/wiki/Nineteen_Eighty-Four"
    assert wikipedia_url("Tarzan (book)") == "https://en.wikipedia.org/wiki/Tarzan_(book)"
    assert wikipedia_url('A "b" <c>?#&') == "https://en.wikipedia.org/wiki/A_%22b%22_%3Cc%3E%3F%23%26"


def test_info_names_the_model_and_what_it_can_answer(client, p15_graph_model, rec):
    info = get(client, "/api/info")
    assert info["model"] == f"{p15_graph_model.parent.name}/{p15_graph_model.name}"
    assert (info["books"], info["pages"]) == (len(rec), len(rec.titles["links"].titles))
    assert info["why"] is True and info["fields"] is True
    assert info["maps"] == []
    assert len(info["examples"]) == 5 and all(t in rec for t in info["examples"])


# --------------------------------------------------------------------------- search


def test_search_finds_whole_titles_prefixes_and_pages(client):
    exact = get(client, "/api/search", q="THE SON OF TARZAN")["results"]
    assert exact[0] == {"title": TARZAN, "kind": "book", "match": "exact"}
    typed = get(client, "/api/search", q="the son of t")["results"]
    assert typed[0] == {"title": TARZAN, "kind": "book", "match": "prefix"}
    tarzan = get(client, "/api/search", q="OF TARZAN", limit=20)["results"]
    titles = [r["title"] for r in tarzan]
    assert {TARZAN, LIKED[1]} <= set(titles)
    kinds = [(r["title"], r["kind"]) for r in tarzan]  # a book may also be a page
    assert len(kinds) == len(set(kinds)) <= 20
    tiers = ["exact", "redirect", "prefix", "contains", "fuzzy"]
    order = [tiers.index(r["match"]) for r in tarzan]
    assert order == sorted(order) and tiers.index("contains") in order
    assert all("of tarzan" in r["title"].casefold() for r in tarzan if r["match"] != "fuzzy")
    pages = get(client, "/api/search", q="science fic", kind="page")["results"]
    assert pages[0] == {"title": PAGE, "kind": "page", "match": "prefix"}


def test_search_suggests_as_recommend_does_for_a_misspelling(client, rec):
    answer = get(client, "/api/search", q="The Son of Tarzn")["results"]
    with pytest.raises(KeyError) as caught:
        rec.resolve("The Son of Tarzn")
    suggestions = caught.value.suggestions
    assert suggestions[0] == TARZAN
    assert [(r["title"], r["match"]) for r in answer] == [(t, "fuzzy") for t in suggestions]
    assert [r["kind"] for r in answer] == [
        "book" if t in rec.titles["books"].exact else "page" for t in suggestions
    ]


def test_search_and_queries_follow_redirects(p15_graph_model, tmp_path):
    table = pa.table({"source": ["Tarzan's Son", "Son of Tarzan (novel)"],
                      "target": ["Son of Tarzan (novel)", TARZAN]})  # fmt: skip
    pq.write_table(table, tmp_path / "redirects.parquet")
    service = ModelService.load(p15_graph_model, redirects=tmp_path / "redirects.parquet")
    with BackgroundServer(create_app(service)) as server:
        client = Client(server.url)
        found = get(client, "/api/search", q="tarzan's son")["results"]
        assert found[0] == {"title": TARZAN, "kind": "book", "match": "redirect"}
        answer = get(client, "/api/similar", title="Tarzan's Son", k=3)
    assert answer["query"]["title"] == TARZAN
    assert pairs(answer) == service.rec.most_similar(TARZAN, topn=3)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/api/similar", {}, 400, "missing parameter 'title'"),
        ("/api/similar", {"title": "  "}, 400, "missing parameter 'title'"),
        ("/api/similar", {"title": TARZAN, "k": "ten"}, 400, "'k' must be a whole number"),
        ("/api/similar", {"title": TARZAN, "k": "0"}, 400, "k must be between 1 and 100"),
        ("/api/similar", {"title": TARZAN, "k": "100000"}, 400, "k must be between 1 and 100"),
        ("/api/similar", {"title": "x" * 301}, 400, "longer than 300 characters"),
        ("/api/about", {"title": PAGE}, 400, "missing parameter 'page'"),
        ("/api/liked", {}, 400, "at least one liked"),
        ("/api/why", {"query": TARZAN}, 400, "at least one query and one book"),
        ("/api/why", {"query": TARZAN, "book": LIKED[0], "k": "51"}, 400, "between 1 and 50"),
        ("/api/search", {"q": "tarzan", "kind": "film"}, 400, "kind must be one of"),
        ("/api/search", {"q": "tarzan", "kind": "k" * 8000}, 400, "... (8,000 characters)"),
        ("/" + "p" * 60_000, {}, 404, "... (60,001 characters)"),
        ("/maps/" + "m" * 8000 + ".html", {}, 404, "... (8,005 characters)"),
        ("/api/search", {}, 400, "missing parameter 'q'"),
        ("/api/nothing", {}, 404, "no such address"),
        ("/maps/../train.json", {}, 404, ""),
        ("/maps/books-umap-genre.html", {}, 404, "no map"),
        ("/api/map", {"method": "pca"}, 400, "method must be one of tsne, umap, not 'pca'"),
        ("/api/map", {"method": "p" * 5000}, 400, "... (5,000 characters)"),
    ],
)
def test_bad_input_is_a_json_4xx(client, path, params, status, words):
    response = client.get(path, params)
    assert response.status == status
    assert response.headers["content-type"] == "application/json"
    assert words in response.json()["error"]
    assert len(response.json()["error"]) < 400  # the input is quoted back short


def test_an_unknown_title_is_a_404_with_the_recommenders_suggestions(client, rec):
    response = client.get("/api/similar", {"title": "The Son of Tarzann"})
    assert response.status == 404
    body = response.json()
    with pytest.raises(KeyError) as caught:
        rec.most_similar("The Son of Tarzann")
    assert body["error"] == str(caught.value)
    assert body["suggestions"] == caught.value.suggestions and TARZAN in body["suggestions"]
    assert body["title"] == "The Son of Tarzann" and body["kinds"] == ["book", "page"]
    book = client.get("/api/book", {"title": PAGE})  # a page, not a book
    assert book.status == 404 and book.json()["kinds"] == ["book"]
    liked = client.get("/api/liked", {"liked": [LIKED[0], "No such book"]})
    assert liked.status == 404 and "No book 'No such book'" in liked.json()["error"]


def test_only_get_is_allowed_and_nothing_is_written(client, p15_graph_model):
    before = sorted((p.name, p.stat().st_mtime_ns) for p in p15_graph_model.iterdir())
    for method in ("post", "put", "delete", "patch"):
        response = client.request(method.upper(), "/api/similar", {"title": TARZAN})
        assert response.status == 405
        assert "only reads" in response.json()["error"]
    assert client.request("HEAD", "/api/similar", {"title": TARZAN}).status == 200
    assert sorted((p.name, p.stat().st_mtime_ns) for p in p15_graph_model.iterdir()) == before


def test_a_failure_is_a_500_without_a_traceback(service, client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret detail at /home/someone")

    monkeypatch.setattr(service, "similar", broken)
    response = client.get("/api/similar", {"title": TARZAN})
    assert response.status == 500
    assert response.json() == {"error": "internal error (see the server's log)"}
    assert "secret" not in response.text and "Traceback" not in response.text


def test_a_foreign_host_header_is_refused_on_loopback(service, server):
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST"):
        assert Client(server.url, host=host).get("/api/info").status == 200
    refused = Client(server.url, host="rebound.example:8000").get("/api/info")
    assert refused.status == 400 and "Host" in refused.json()["error"]
    with BackgroundServer(create_app(service, allowed_hosts("0.0.0.0"))) as anywhere:
        assert Client(anywhere.url, host="rebound.example").get("/api/info").status == 200
    assert host_name("[::1]:80") == "::1" and host_name("a.b:80") == "a.b"


def test_loopback_and_the_warning_for_other_addresses():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.2", "myhost"))
    assert host_warning("127.0.0.1") is None
    warning = host_warning("0.0.0.0")
    assert warning.startswith("wikirec serve: warning: listening on 0.0.0.0")
    assert "\n" not in warning


# --------------------------------------------------------------------------- the page


def test_the_page_and_its_files_are_served_with_a_strict_policy(client):
    page = client.get("/")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == PAGE_POLICY
    assert "script-src 'self';" in PAGE_POLICY and "unsafe" not in PAGE_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    for name in ("/static/app.js", "/static/style.css"):
        response = client.get(name)
        assert response.status == 200 and response.headers["content-security-policy"]
    # No asset from anywhere else: every src and href of the page is local.
    targets = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert {"/static/app.js", "/static/style.css"} <= set(targets)
    assert all(t.startswith(("/", "#", "data:")) and not t.startswith("//") for t in targets)


@pytest.mark.parametrize(
    "path", ["/static/../service.py", "/static/%2e%2e/service.py", "/static/..%2fservice.py",
             "/maps/..%2f..%2ftrain.json", "/static/"],
)  # fmt: skip
def test_nothing_outside_the_static_folder_is_served(client, path):
    response = client.get(path)
    assert response.status == 404 and "import" not in response.text


def test_the_scripts_never_parse_data_as_html():
    script = (ROOT / "wikirec" / "serve" / "static" / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


def test_maps_are_found_in_the_model_and_run_folders(p15_graph_model, tmp_path):
    model = tmp_path / "model"  # a copy: the session's model folder stays as trained
    shutil.copytree(p15_graph_model, model, ignore=shutil.ignore_patterns("checkpoint"))
    (model / "plots").mkdir()
    page = "<!DOCTYPE html><title>map</title><script>/* plotly */</script>"
    (model / "plots" / "books-umap-genre.html").write_text(page)
    (model / "plots" / "links-tsne-plain.html").write_text(page)
    (model / "plots" / "plots.json").write_text("{}")
    with BackgroundServer(create_app(ModelService.load(model))) as server:
        client = Client(server.url)
        info = get(client, "/api/info")
        assert [(m["name"], m["kind"]) for m in info["maps"]] == [
            ("books-umap-genre.html", "book"), ("links-tsne-plain.html", "page")]  # fmt: skip
        response = client.get(info["maps"][0]["url"])
        assert response.status == 200 and response.text == page
        assert response.headers["content-security-policy"] == MAP_POLICY
        assert MAP_POLICY.startswith("sandbox allow-scripts;")
        assert client.get("/maps/plots.json").status == 404
    run = tmp_path / "run"
    (run / "train").mkdir(parents=True)
    (run / "plot").mkdir()
    (run / "manifest.json").write_text("{}")
    (run / "plot" / "books-umap-genre.html").write_text(page)
    assert [m.name for m in find_maps(run / "train")] == ["books-umap-genre.html"]
    (run / "manifest.json").unlink()  # not a wikirec run folder: its plot/ is not the model's
    assert find_maps(run / "train") == []


def test_maps_are_served_only_from_inside_the_model_folder(tmp_path):
    """Issue 27 item 10: ``MODEL/plots`` as a link to another folder served its HTML."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "books-secret.html").write_text("<title>not the model's</title>")
    model = tmp_path / "model"
    model.mkdir()
    (model / "plots").symlink_to(elsewhere)
    assert find_maps(model) == []
    (model / "plots").unlink()
    (model / "plots").mkdir()
    (model / "plots" / "books-umap-genre.html").symlink_to(elsewhere / "books-secret.html")
    (model / "plots" / "books-own.html").write_text("<title>map</title>")
    assert [m.name for m in find_maps(model)] == ["books-own.html"]


# --------------------------------------------------------------------------- hostile data


@pytest.fixture(scope="module")
def hostile_model(tmp_path_factory) -> Path:
    return make_hostile_model(tmp_path_factory.mktemp("serve-hostile"))


def test_hostile_titles_and_fields_come_back_as_plain_json_strings(hostile_model):
    with BackgroundServer(create_app(ModelService.load(hostile_model))) as server:
        client = Client(server.url)
        found = get(client, "/api/search", q="<script")["results"]
        assert found[0]["title"] == SCRIPT_TITLE
        for title in HOSTILE_TITLES:
            book = get(client, "/api/book", title=title)
            assert book["title"] == title
            assert book["wikipedia"] == "https://en.wikipedia.org/wiki/" + quote(
                title.replace(" ", "_"), safe="()_,:"
            )
            assert ["author", HOSTILE_FIELD] in book["fields"]
            similar = get(client, "/api/similar", title=title)["results"]
            assert similar and title not in {r["title"] for r in similar}


# --------------------------------------------------------------------------- the command


def test_the_cli_lists_serve_without_importing_the_server():
    code = (
        "import sys; from wikirec.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('starlette', 'uvicorn', 'wikirec.serve.app') "
        "if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)  # fmt: skip
    assert out.stdout.strip() == "[]"


def test_cli_bad_folder_and_busy_port_are_one_line(p15_graph_model, tmp_path, capsys):
    assert main(["serve", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("wikirec serve: ") and err.count("\n") == 1 and "missing" in err
    assert main(["serve", str(p15_graph_model), "--port", "70000"]) == 2
    assert "between 0 and 65535" in capsys.readouterr().err
    app = create_app(ModelService.load(p15_graph_model))
    with BackgroundServer(app) as busy:
        port = busy.url.rsplit(":", 1)[1].strip("/")
        assert main(["serve", str(p15_graph_model), "--port", port]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"wikirec serve: cannot listen on 127.0.0.1:{port}")
    assert err.count("\n") == 1


def test_cli_serves_until_interrupted(p15_graph_model):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "wikirec.cli", "serve", str(p15_graph_model), "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)  # fmt: skip
    try:
        line = process.stdout.readline()
        assert line.startswith("wikirec serve: http://127.0.0.1:"), process.stderr.read()
        url = line.split()[2]
        assert f"{len(read_trained(p15_graph_model).titles['books']):,} books" in line
        answer = Client(url).get("/api/similar", {"title": TARZAN, "k": 3}).json()
        assert [r["title"] for r in answer["results"]] == [
            t for t, _ in Recommender.load(p15_graph_model).most_similar(TARZAN, topn=3)
        ]
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Traceback" not in err and "warning" not in err


# --------------------------------------------------------------------------- below the app


def raw_exchange(url: str, data: bytes, wait: float = 10.0) -> bytes:
    """Send ``data`` on a new connection and read until the server closes it."""
    import socket

    host, port = url.removeprefix("http://").strip("/").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize(
    "data",
    [b"GET /api/info HTTP/1.1\r\n\r\n",  # no Host
     b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\n\r\n",
     b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(40),  # a TLS ClientHello
     b"GET /api/info\r\n\r\n"],  # HTTP/0.9
)  # fmt: skip
def test_what_the_http_layer_refuses_is_a_json_400(service, data):
    """Issue 27 item 10: these got uvicorn's plain-text 400."""
    with BackgroundServer(create_app(service, allowed_hosts("127.0.0.1"))) as server:
        answer = raw_exchange(server.url, data)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"content-type: application/json" in head
    assert json.loads(body)["error"].startswith("bad request: ")


@pytest.mark.parametrize(
    ("data", "status"),
    [(b"GET /api/similar?title=" + b"x" * 1_000_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
      b"414"),
     (b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Big: y\r\n" * 100_000 + b"\r\n",
      b"431")],
)  # fmt: skip
def test_a_head_over_the_size_bound_gets_its_json_status_not_a_reset(service, data, status):
    """Issue 27 item 10: a 1 MB title got a connection reset and no answer (the server
    answered 400 and closed with the rest unread). Now the request line's 414 or the
    headers' 431, read whole by the client."""
    with BackgroundServer(create_app(service, allowed_hosts("127.0.0.1"))) as server:
        answer = raw_exchange(server.url, data)
        assert Client(server.url).get("/api/info").status == 200  # still serving
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 " + status + b" ")
    assert b"content-type: application/json" in head
    assert "longer than 16,384 bytes" in json.loads(body)["error"]


def test_a_request_head_sent_too_slowly_is_cut_off(service):
    """Issue 27 item 10: a head never finished held its connection for ever (800 of them
    after 30 s); now the connection closes after the head timeout, and a whole request
    on another connection is answered meanwhile."""
    import socket

    with BackgroundServer(create_app(service, allowed_hosts("127.0.0.1")), head_timeout=1.0) as s:
        host, port = s.url.removeprefix("http://").strip("/").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=30) as slow:
            slow.sendall(b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no end
            assert Client(s.url).get("/api/info").status == 200
            assert slow.recv(65536) == b""  # closed by the server, well before 30 s


def test_a_book_and_each_recommended_book_carry_a_byline(client, rec):
    """Issue 26: a book's answer has a byline read from its infobox (author, the year
    of its publication date, genre, pages) and each recommended book its author and
    year, so that a reader knows what a title is without opening it."""
    book = get(client, "/api/book", title="The Son of Tarzan")
    assert book["byline"] == {"author": "Edgar Rice Burroughs", "year": "1915",
                              "genre": "Adventure", "pages": "394 pp"}  # fmt: skip
    fields = dict(book["fields"])
    assert any(book["byline"]["year"] in v for k, v in fields.items() if "date" in k or "pub" in k)
    results = get(client, "/api/similar", title="The Son of Tarzan", k=10)["results"]
    assert [r["title"] for r in results] == [t for t, _ in rec.most_similar("The Son of Tarzan")]
    assert all(set(r["byline"]) <= {"author", "year"} for r in results)
    assert sum("author" in r["byline"] for r in results) >= 8
    liked = get(client, "/api/liked", liked="The Son of Tarzan")["results"]
    assert all("byline" in r for r in liked)


def test_books_about_a_page_say_whether_they_meet_it(client, rec):
    """Issue 26: "books most about a page" mixed the books that link to the page with
    books merely near it; each answer now says how it meets the page in the build."""
    answer = get(client, "/api/about", page="science fiction", k=20)
    column = rec.index("science fiction", "links")
    sides = [rec.book_links.side(rec.index(r["title"], "books"), column) for r in answer["results"]]
    assert [r["meets"] for r in answer["results"]] == sides
    assert "" in sides and any(sides)  # both kinds among the 20


# --------------------------------------------------------------------------- the map


@pytest.fixture(scope="module")
def map_model(p15_graph_model, tmp_path_factory) -> Path:
    """A copy of the model with its books' t-SNE map cached, as `wikirec plot` leaves it."""
    return model_with_map(p15_graph_model, tmp_path_factory.mktemp("serve-map"))


def test_the_map_is_the_cached_reduction_coloured_by_genre_group(map_model, monkeypatch):
    """Issue 26: the page's own map. /api/map gives every book's point of the reduction
    the plot stage cached, read and never computed, each with its genre group."""
    trained = read_trained(map_model)
    assert trained.has_metadata  # the copy still finds its build: genres to colour by
    cached = add_reduction(map_model)  # the same call again: read from the cache
    assert cached.cached

    def computing(*args):
        raise AssertionError("the server computed a reduction")

    monkeypatch.setattr(wikirec.plot.reduce, "_compute", computing)
    with BackgroundServer(create_app(ModelService.load(map_model))) as server:
        answer = get(Client(server.url), "/api/map")
        assert get(Client(server.url), "/api/map", method="tsne") == answer
        missing = Client(server.url).get("/api/map", {"method": "umap"})
    titles = trained.titles["books"]
    assert answer["titles"] == titles and answer["count"] == len(titles)
    assert answer["method"] == "tsne" and answer["method_name"] == "t-SNE"
    assert answer["methods"] == ["tsne"]
    assert answer["about"] == cached.subtitle()
    assert answer["x"] == np.round(cached.coords[:, 0].astype(float), 4).tolist()
    assert answer["y"] == np.round(cached.coords[:, 1].astype(float), 4).tolist()
    # The groups are those `wikirec plot` colours a book map by, in its palette.
    groups = colour_groups(trained, select_points(trained), "genre")
    assert answer["field"] == "genre"
    named = zip(groups.names, groups.counts, strict=True)
    assert answer["groups"] == [{"name": n, "colour": PALETTE[i], "count": c}
                                for i, (n, c) in enumerate(named)]  # fmt: skip
    assert answer["group"] == groups.codes.tolist()
    assert answer["other"] == answer["group"].count(-1) > 0
    # Each book's group is the one its own infobox genre falls in.
    genres = trained.books["genre"].fillna("").tolist()
    names = [g["name"].casefold() for g in answer["groups"]]
    for genre, code in zip(genres, answer["group"], strict=True):
        assert (names[code] if code >= 0 else "") == genre_group(genre)
    tarzan = titles.index(TARZAN)
    assert names[answer["group"][tarzan]] == "historical and adventure"  # genre: Adventure
    assert missing.status == 404 and missing.json()["methods"] == ["tsne"]
    assert "`wikirec plot MODEL_DIR --method umap`" in missing.json()["error"]


def test_without_a_cached_reduction_the_map_says_how_to_make_one(client):
    response = client.get("/api/map")
    assert response.status == 404 and response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["methods"] == []
    assert "no map of the books yet" in body["error"] and "\n" not in body["error"]
    assert "`wikirec plot MODEL_DIR`" in body["error"] and "`wikirec run`" in body["error"]


def test_the_map_is_the_newest_reduction_of_these_vectors(map_model, tmp_path):
    """A map made from other vectors (the model trained again since) is never served;
    of two maps of these vectors, the newest is."""
    model = tmp_path / "model"
    shutil.copytree(map_model, model)
    service = ModelService.load(model)
    first = service.book_map()
    newer = add_reduction(model, perplexity=10)
    assert not newer.cached and "perplexity 10" in newer.subtitle()
    assert service.book_map()["about"] == newer.subtitle() != first["about"]
    for key_path in (model / "reductions").glob("*.json"):  # as if the vectors had changed
        key = json.loads(key_path.read_text())
        key_path.write_text(json.dumps({**key, "vectors": "0" * 64}))
    with pytest.raises(ApiError) as caught:
        service.book_map()
    assert caught.value.status == 404 and caught.value.extra == {"methods": []}
