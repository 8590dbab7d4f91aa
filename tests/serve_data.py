"""A tiny trained model whose titles, fields and pages are hostile markup, for the
``wikirec serve`` tests (made through the real parse, build and train, in seconds)."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

SCRIPT_TITLE = "<script>window.__xss = (window.__xss || 0) + 1</script>"
COMMENT_TITLE = "<!-- an open comment"
QUOTES_TITLE = "\"Quotes\" & 'apostrophes' </textarea><b>bold</b>"
IMG_TITLE = "<img src=x onerror=\"window.__xss = (window.__xss || 0) + 1\">"
HOSTILE_TITLES = [SCRIPT_TITLE, COMMENT_TITLE, QUOTES_TITLE, IMG_TITLE]
HOSTILE_FIELD = "<img src=x onerror=\"window.__xss = (window.__xss || 0) + 1\">"
HOSTILE_PAGE = "<svg onload=\"window.__xss = (window.__xss || 0) + 1\">"
PLAIN_TITLES = [f"Plain book {i}" for i in range(1, 7)]
PAGES = ["Shared topic", HOSTILE_PAGE, "Category:Hostile books", "Fiction", "Other topic"]


def write_records(path: Path) -> Path:
    """NDJSON records in the reference's format: every book links to three or four of
    ``PAGES``, so that each page is met by several books (the build keeps it)."""
    lines = []
    for i, title in enumerate(HOSTILE_TITLES + PLAIN_TITLES):
        links = [PAGES[(i + j) % len(PAGES)] for j in range(3 + i % 2)]
        infobox = {"name": title, "author": HOSTILE_FIELD if i < 4 else f"Author {i}",
                   "genre": "<!-- hidden -->", "country": '"); alert(1); ("'}  # fmt: skip
        record = [title, infobox, links, [], "2020-01-01T00:00:00Z", 1000 + i]
        lines.append(json.dumps(record, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_hostile_model(folder: Path) -> Path:
    """Parse, build and train the hostile records under ``folder``; the model folder."""
    from wikirec.build import build_training_data
    from wikirec.parse import parse_dumps
    from wikirec.train import train

    records = write_records(folder / "hostile.ndjson")
    parse_dumps([records], folder / "parse", workers=1)
    build_training_data(folder / "parse", folder / "build")
    train(folder / "build", folder / "train", epochs=3, dim=8, batch_positives=8, seed=0,
          overwrite=True)
    return folder / "train"


def model_with_map(source: Path, folder: Path, perplexity: float = 30.0) -> Path:
    """A copy of the trained folder ``source`` in ``folder``, with its books' 2-D map
    cached as ``wikirec plot`` caches it (its own code: t-SNE, kept to 250 iterations,
    seconds); the copy's folder."""
    model = folder / "model"
    shutil.copytree(source, model, ignore=shutil.ignore_patterns("checkpoint", "reductions"))
    add_reduction(model, perplexity)
    return model


def add_reduction(model: Path, perplexity: float = 30.0):
    """Cache one more t-SNE map of ``model``'s books (another ``perplexity``: another
    cache entry); the :class:`~wikirec.plot.Reduction`."""
    from wikirec.plot import ReduceParams, reduce_points, select_points
    from wikirec.trained import read_trained

    trained = read_trained(model)
    params = ReduceParams(method="tsne", tsne_iter=250, perplexity=perplexity)
    return reduce_points(trained, select_points(trained), params)


@dataclass
class Reply:
    """What the server answered: status, headers (lower-case names), body text."""

    status: int
    headers: dict[str, str]
    text: str

    def json(self):
        return json.loads(self.text)


class Client:
    """Requests to a running server with the standard library only (no proxy)."""

    def __init__(self, base_url: str, host: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.host = host
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def request(self, method: str, path: str, params: dict | None = None) -> Reply:
        query = urlencode(params or {}, doseq=True)
        request = urllib.request.Request(
            self.base_url + path + ("?" + query if query else ""), method=method
        )
        if self.host is not None:
            request.add_header("Host", self.host)
        try:
            with self.opener.open(request, timeout=60) as response:
                return _reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return _reply(error.code, error.headers, error.read())

    def get(self, path: str, params: dict | None = None) -> Reply:
        return self.request("GET", path, params)


def _reply(status: int, headers, body: bytes) -> Reply:
    return Reply(status, {k.lower(): v for k, v in headers.items()}, body.decode("utf-8"))
