"""``wikirec serve``'s page in a real headless Chromium (Debian's chromium and
chromedriver, driven by Selenium), on the default model trained on real p15 data.

What the page shows is compared with the :class:`Recommender` called directly. Without
chromium these tests are skipped, except in CI (``CI`` set), where they fail: CI
installs the browser (.ci/run) and must run them.
"""

from __future__ import annotations

import math
import os
import shutil
from urllib.parse import quote

import numpy as np
import pytest
from serve_data import (
    HOSTILE_FIELD,
    HOSTILE_TITLES,
    SCRIPT_TITLE,
    add_reduction,
    make_hostile_model,
    model_with_map,
)

from wikirec.recommend import Book, Recommender, UnknownTitleError
from wikirec.serve.app import create_app
from wikirec.serve.server import BackgroundServer, allowed_hosts
from wikirec.serve.service import ModelService

TARZAN = "The Son of Tarzan"
WAIT = 30  # seconds for the page to show something: a ceiling, never a measurement
BROWSER_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1000",
)  # fmt: skip


def _browser_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    message = "chromium and chromedriver are needed (apt-get install chromium chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}: CI must run the browser tests (.ci/run installs them)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium, chromedriver = _browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(chromedriver))
    driver.set_page_load_timeout(WAIT * 2)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def rec(p15_graph_model) -> Recommender:
    return Recommender.load(p15_graph_model)


@pytest.fixture(scope="module")
def server(p15_graph_model):
    app = create_app(ModelService.load(p15_graph_model), allowed_hosts("127.0.0.1"))
    with BackgroundServer(app) as running:
        yield running


@pytest.fixture(scope="module")
def reader(p15_records, fragment, tmp_path_factory):
    """The demo's data: the p15 records and the real dump fragment (whose three books
    carry their article's text, so a lead), parsed, built with in-links and trained
    small; its server and its service."""
    from wikirec.build import build_training_data
    from wikirec.parse import parse_dumps
    from wikirec.train import train

    folder = tmp_path_factory.mktemp("reader")
    parse_dumps([p15_records, fragment], folder / "parse", workers=1)
    build_training_data(folder / "parse", folder / "build")
    train(folder / "build", folder / "train", epochs=10, dim=32, seed=0, overwrite=True)
    service = ModelService.load(folder / "train")
    with BackgroundServer(create_app(service, allowed_hosts("127.0.0.1"))) as running:
        yield running, service


# --------------------------------------------------------------------------- helpers


def wait(browser, condition, message: str = ""):
    """Until ``condition(browser)`` holds; an element the page redrew while the condition
    read it (stale) means "not yet", never a failure."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    waiting = WebDriverWait(browser, WAIT, ignored_exceptions=(StaleElementReferenceException,))
    return waiting.until(lambda d: condition(d), message)


def open_page(browser, url: str, fragment: str = "#/") -> None:
    """A fresh start: the page loaded, ready, with an empty liked list."""
    browser.get(url)
    wait(browser, lambda d: d.find_element("tag name", "body").get_attribute("data-ready"))
    browser.execute_script("localStorage.clear()")
    browser.get(url + fragment)
    browser.refresh()
    wait(browser, lambda d: d.find_element("tag name", "body").get_attribute("data-ready"))


def css(browser, selector: str):
    return browser.find_elements("css selector", selector)


def click(browser, selector: str, index: int = 0) -> None:
    """Click the ``index``-th match of ``selector``, again if the list was redrawn
    between finding and clicking it (the page redraws lists as answers arrive)."""
    from selenium.common.exceptions import StaleElementReferenceException

    def attempt(driver) -> bool:
        try:
            css(driver, selector)[index].click()
        except (StaleElementReferenceException, IndexError):
            return False
        return True

    wait(browser, attempt, f"could not click {selector} [{index}]")


def titles_in(browser, selector: str) -> list[str]:
    return [e.get_attribute("data-title") for e in css(browser, selector)]


def wait_for_titles(browser, selector: str, expected: list[str]) -> None:
    wait(browser, lambda d: titles_in(d, selector) == expected,
         f"{selector} never showed {expected}")  # fmt: skip


def wait_for_book(browser, title: str) -> None:
    wait(browser, lambda d: [e.text for e in css(d, "#book-title")] == [title],
         f"the book page of {title!r} never showed")  # fmt: skip


def wait_for_about(browser, rec, page: str) -> None:
    """Issue 26: a page's books, the 20 most about it, in two lists: those that meet
    the page in the build (link to it, or are linked from it), then the others."""
    about = names(rec.books_about(page, topn=20))
    column = rec.index(page, "links")
    meets = {t: rec.book_links.side(rec.index(t, "books"), column) != "" for t in about}
    assert any(meets.values())
    wait_for_titles(browser, "#about-linking li.result", [t for t in about if meets[t]])
    wait_for_titles(browser, "#about-near li.result", [t for t in about if not meets[t]])


def shown_why(browser, selector: str) -> list[list[str]]:
    """The why-links under each result of a list, as the pages they name."""
    rows = css(browser, f"{selector} li.result")
    return [[a.get_attribute("data-page") for a in row.find_elements("css selector", ".why-link")]
            for row in rows]  # fmt: skip


def names(answers) -> list[str]:
    return [title for title, _ in answers]


# --------------------------------------------------------------------------- tests


def test_search_pick_a_suggestion_and_see_the_book(browser, server, rec, p15_graph_model):
    open_page(browser, server.url)
    box = css(browser, "#search")[0]
    box.send_keys("the son of t")
    wait(browser, lambda d: titles_in(d, "#suggestions li.suggestion")[:1] == [TARZAN])
    click(browser, "#suggestions li.suggestion")
    wait_for_book(browser, TARZAN)
    assert browser.execute_script("return location.hash") == "#/book/" + quote(TARZAN)
    assert css(browser, "#suggestions")[0].is_displayed() is False

    expected = rec.most_similar(TARZAN, topn=10)
    wait_for_titles(browser, "#similar li.result", names(expected))
    # Issue 26: scores as a bar and a percentage, the cosine on hover; a byline under
    # the title and on every row; the least similar books folded away.
    scores = [(e.text, e.get_attribute("title")) for e in css(browser, "#similar li.result .score")]
    assert scores == [(f"{round(100 * s)}%", f"cosine similarity {s:.3f}") for _, s in expected]
    byline = "Edgar Rice Burroughs \u00b7 1915 \u00b7 Adventure \u00b7 394 pages"  # its infobox
    assert css(browser, "#byline")[0].text == byline
    served = ModelService.load(p15_graph_model).similar(TARZAN, k=10)["results"]
    bylines = [e.text for e in css(browser, "#similar li.result .byline")]
    assert bylines == [", ".join(filter(None, (r["byline"].get("author"), r["byline"].get("year"))))
                       for r in served] and bylines[0].startswith("Edgar Rice Burroughs, 19")
    wait_for_titles(browser, "#least li.result", names(rec.most_similar(TARZAN, least=True)))
    assert css(browser, "#least-section")[0].get_attribute("open") is None
    assert not css(browser, "#least li.result")[0].is_displayed()
    pages = ModelService.load(p15_graph_model).links(TARZAN)["results"]  # hubs last
    wait_for_titles(browser, "#pages li.result", [r["title"] for r in pages])

    fields = dict(zip([e.text for e in css(browser, "#infobox dt")],
                      [e.text for e in css(browser, "#infobox dd")], strict=True))  # fmt: skip
    assert fields["author"] == "Edgar Rice Burroughs"
    # The identifying fields first; every field, the image's included, folded away.
    every = [e.get_attribute("textContent") for e in css(browser, "#all-fields dt")]
    assert "image" in every and "image" not in fields and set(fields) < set(every)
    assert css(browser, "#all-fields")[0].get_attribute("open") is None
    link = css(browser, "#wikipedia-link")[0]
    assert link.get_attribute("href") == "https://en.wikipedia.org/wiki/The_Son_of_Tarzan"


def test_keyboard_picks_a_page_and_shows_the_books_about_it(browser, server, rec):
    open_page(browser, server.url)
    box = css(browser, "#search")[0]
    box.send_keys("SCIENCE FICTIO")
    page = "Science fiction"  # Wikipedia's title of the build's key "science fiction"
    wait(browser, lambda d: page in titles_in(d, "#suggestions li.suggestion"))
    items = css(browser, "#suggestions li.suggestion")
    position = [i.get_attribute("data-title") for i in items].index(page)
    assert items[position].get_attribute("data-kind") == "page"
    from selenium.webdriver.common.keys import Keys

    box.send_keys(Keys.ARROW_DOWN * (position + 1), Keys.ENTER)
    wait(browser, lambda d: [e.text for e in css(d, "#page-title")] == [page])
    wait_for_about(browser, rec, page)


def test_open_a_recommendation_and_follow_its_why_links(browser, server, rec):
    open_page(browser, server.url, "#/book/" + quote(TARZAN))
    wait_for_book(browser, TARZAN)
    similar = names(rec.most_similar(TARZAN, topn=10))
    expected_why = [[page for page, *_ in rec.why([Book(TARZAN)], title)] for title in similar]
    assert any(expected_why)  # the p15 build explains some recommendations
    wait(browser, lambda d: len(css(d, "#similar .why")) == len(similar))
    assert shown_why(browser, "#similar") == expected_why

    row, pages = next((i, p) for i, p in enumerate(expected_why) if p)
    chip = css(browser, "#similar li.result")[row].find_elements("css selector", ".why-link")[0]
    assert chip.get_attribute("title").startswith(TARZAN)  # says how each book meets the page
    chip.click()
    wait(browser, lambda d: [e.text for e in css(d, "#page-title")] == [pages[0]])
    wait_for_about(browser, rec, pages[0])

    browser.back()
    wait_for_book(browser, TARZAN)
    wait_for_titles(browser, "#similar li.result", similar)
    click(browser, "#similar li.result a.title")
    wait_for_book(browser, similar[0])
    wait_for_titles(browser, "#similar li.result", names(rec.most_similar(similar[0], topn=10)))


def test_build_a_liked_list_push_a_book_away_and_keep_it(browser, server, rec):
    open_page(browser, server.url, "#/book/" + quote(TARZAN))
    wait_for_book(browser, TARZAN)
    click(browser, "article .actions button.like")
    first = names(rec.most_similar(TARZAN, topn=10))[0]
    wait_for_titles(browser, "#similar li.result", names(rec.most_similar(TARZAN, topn=10)))
    click(browser, "#similar li.result button.like")
    liked = [TARZAN, first]
    wait_for_titles(browser, "#liked-list li", liked)

    expected = names(rec.recommend_for_liked(liked))
    wait_for_titles(browser, "#liked-results li.result", expected)
    wait(browser, lambda d: len(css(d, "#liked-results .why")) == len(expected))
    assert shown_why(browser, "#liked-results") == [
        [page for page, *_ in rec.why([Book(t) for t in liked], title)] for title in expected
    ]

    pushed = expected[0]
    click(browser, "#liked-results li.result button.push")
    wait_for_titles(browser, "#minus-list li", [pushed])
    after = names(rec.most_similar([Book(t) for t in liked], [pushed], topn=10))
    wait_for_titles(browser, "#liked-results li.result", after)
    assert pushed not in after

    browser.refresh()  # the list is the browser's own (local storage), not the server's
    wait(browser, lambda d: d.find_element("tag name", "body").get_attribute("data-ready"))
    wait_for_book(browser, TARZAN)
    wait_for_titles(browser, "#liked-list li", liked)
    wait_for_titles(browser, "#liked-results li.result", after)
    click(browser, "#minus-list li button.remove")
    wait_for_titles(browser, "#minus-list li", [])
    wait_for_titles(browser, "#liked-results li.result", expected)

    like = css(browser, "article .actions button.like")[0]
    assert like.get_attribute("aria-pressed") == "true"
    like.click()  # a pressed button undoes itself
    wait_for_titles(browser, "#liked-list li", [first])
    assert like.get_attribute("aria-pressed") == "false"
    wait_for_titles(browser, "#liked-results li.result", names(rec.recommend_for_liked([first])))


def test_an_unknown_title_shows_the_suggestions(browser, server, rec):
    open_page(browser, server.url, "#/book/" + quote("The Son of Tarzn"))
    with pytest.raises(UnknownTitleError) as caught:
        rec.index("The Son of Tarzn")
    wait(browser, lambda d: [e.text for e in css(d, "#error")] == [str(caught.value)])
    links = css(browser, "#view .chips a")
    assert [a.text for a in links] == caught.value.suggestions
    links[0].click()
    wait_for_book(browser, caught.value.suggestions[0])


def test_a_view_never_prints_a_left_out_part_as_null(browser, server, rec):
    """Issue 26 item 3: the landing page of a model without maps, and an error with no
    suggestions, printed the literal text "null" where the part was left out."""
    assert not server_info(server)["maps"]  # this model has no map: the part is left out
    open_page(browser, server.url, "#/")
    wait(browser, lambda d: css(d, "#view h1"), "the landing page never showed")
    assert "null" not in css(browser, "#view")[0].text
    title = "Zzqx Vvvw Kkkj"
    with pytest.raises(UnknownTitleError) as caught:
        rec.index(title)
    assert caught.value.suggestions == []  # the case where the chips are left out
    open_page(browser, server.url, "#/book/" + quote(title))
    wait(browser, lambda d: [e.text for e in css(d, "#error")] == [str(caught.value)])
    assert "null" not in css(browser, "#view")[0].text


def test_a_book_reads_as_wikipedia_writes_it(browser, reader):
    """Issue 26: a byline and the article's first sentences under the title; the why
    chips and the pages closest in Wikipedia's titles, not the build's folded keys;
    categories as tags without their namespace; hubs (pages many books meet) last."""
    server, service = reader
    farm = service.book("Animal Farm")
    assert farm["lead"].startswith("Animal Farm is an allegorical and dystopian novella")
    open_page(browser, server.url, "#/book/" + quote("Animal Farm"))
    wait_for_book(browser, "Animal Farm")
    wait(browser, lambda d: [e.text for e in css(d, "#lead")] == [farm["lead"]])
    assert "George Orwell" in css(browser, "#byline")[0].text

    open_page(browser, server.url, "#/book/" + quote(TARZAN))
    wait_for_book(browser, TARZAN)
    assert not css(browser, "#lead")  # a record holds no text: no lead, and no "null"
    similar = [r["title"] for r in service.similar(TARZAN, k=10)["results"]]
    wait(browser, lambda d: len(css(d, "#similar .why")) == len(similar))
    why = service.why([TARZAN], similar, k=5)["results"]
    shared = [s for result in why for s in result["shared"]]
    tags = [s["page"] for s in shared if s["category"]]
    assert tags and not any(s["page"].startswith("category:") for s in shared)
    chips = css(browser, "#similar .why-link")
    assert [c.get_attribute("data-page") for c in chips] == [s["page"] for s in shared]
    for chip, page in zip(chips, shared, strict=True):
        is_tag = "tag" in chip.get_attribute("class").split()
        assert is_tag == page["category"]
        # a tag shows the category's name: "Category:Tarzan novels" reads "Tarzan novels"
        assert chip.text.split("\n")[0].rstrip("\u2190\u2192\u2194") == (
            page["page"].split(":", 1)[1] if is_tag else page["page"])  # fmt: skip
    assert any(c != c.lower() for c in [chip.text for chip in chips])  # not folded keys

    # pages closest to a book whose best pages include hubs: the hubs come last
    candidates = ["Animal Farm", *service.rec.titles["books"].titles]
    answers = ((b, service.links(b, k=10)["results"]) for b in candidates)
    book, pages = next((b, r) for b, r in answers if any(x["hub"] for x in r))
    hubs = [r["hub"] for r in pages]
    assert hubs == sorted(hubs) and not all(hubs)
    open_page(browser, server.url, "#/book/" + quote(book))
    wait_for_book(browser, book)
    wait_for_titles(browser, "#pages li.result", [r["title"] for r in pages])
    rows = css(browser, "#pages li.result")
    assert ["hub" in row.get_attribute("class").split() for row in rows] == hubs


def test_the_page_follows_the_readers_dark_mode(browser, server):
    """Issue 26 item 7: `prefers-color-scheme` was ignored. Under an emulated dark
    preference the page, its header and its search box are dark with light text; back
    to light, they are light again."""

    def colours() -> dict:
        return browser.execute_script(
            "const of = (q, p) => getComputedStyle(document.querySelector(q))[p];"
            "return {body: of('body', 'backgroundColor'), ink: of('body', 'color'),"
            " header: of('header', 'backgroundColor'), search: of('#search', 'backgroundColor')};"
        )

    def luminance(css_colour: str) -> float:
        inside = css_colour[css_colour.index("(") + 1 : css_colour.index(")")]  # rgb(a) form
        red, green, blue = (float(v) for v in inside.split(",")[:3])
        return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255

    try:
        for scheme in ("dark", "light"):
            browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {
                "features": [{"name": "prefers-color-scheme", "value": scheme}]})  # fmt: skip
            open_page(browser, server.url, "#/")
            wait(browser, lambda d: css(d, "#view h1"), "the landing page never showed")
            shown = colours()
            backgrounds = [luminance(shown[part]) for part in ("body", "header", "search")]
            if scheme == "dark":
                assert max(backgrounds) < 0.25 and luminance(shown["ink"]) > 0.75, shown
            else:
                assert min(backgrounds) > 0.9 and luminance(shown["ink"]) < 0.25, shown
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def server_info(server) -> dict:
    import json
    from urllib.request import urlopen

    with urlopen(server.url + "api/info", timeout=30) as answer:
        return json.loads(answer.read())


def test_the_plotly_map_opens_from_the_map_view_with_the_book_starred(
    browser, rec, p15_graph_model, tmp_path
):
    """The page `wikirec plot` wrote is still a link, second to the page's own map: here
    a model with the HTML page but no cached reduction (drawn with --no-cache)."""
    from wikirec.plot import Groups, interactive_html

    model = tmp_path / "model"  # a copy: the session's model folder stays as trained
    shutil.copytree(p15_graph_model, model, ignore=shutil.ignore_patterns("checkpoint"))
    titles = rec.titles["books"].titles
    coords = np.random.default_rng(0).normal(size=(len(titles), 2))
    groups = Groups(field=None, names=[], codes=np.full(len(titles), -1), counts=[])
    (model / "plots").mkdir()
    (model / "plots" / "books-umap-genre.html").write_text(
        interactive_html(coords, groups, titles, title="map"), encoding="utf-8"
    )
    with BackgroundServer(create_app(ModelService.load(model))) as server:
        open_page(browser, server.url, "#/book/" + quote(TARZAN))
        wait_for_book(browser, TARZAN)
        link = css(browser, "#map-link")[0]
        assert link.get_attribute("href") == server.url + "#/map/" + quote(TARZAN, safe="")
        link.click()
        wait(browser, lambda d: css(d, "#map-missing"), "the map view never showed")
        full = css(browser, "#map-page-link")[0]
        assert full.get_attribute("href") == (
            server.url + "maps/books-umap-genre.html#find=" + quote(TARZAN, safe="")
        )
        home = browser.current_window_handle
        full.click()
        wait(browser, lambda d: len(d.window_handles) == 2)
        browser.switch_to.window(next(h for h in browser.window_handles if h != home))
        try:
            wait(browser, lambda d: [e.text for e in css(d, "#status")] == ["1 match, starred"])
            assert css(browser, "#q")[0].get_attribute("value") == TARZAN
        finally:
            browser.close()
            browser.switch_to.window(home)


def test_the_maps_star_labels_meet_no_other_label_and_no_star(browser, p15_graph_model,
                                                              tmp_path):  # fmt: skip
    """Issue 26: the HTML map `wikirec plot` draws of the p15 model with its 20 most
    linked-to books starred, as the browser lays it out: no star label's box meets
    another's or covers a star, though stars pile up (same book series)."""
    from wikirec.cli import main
    from wikirec.plot.page import STAR_PX

    model = tmp_path / "model"  # a copy: the plot caches its reduction in the folder
    shutil.copytree(p15_graph_model, model, ignore=shutil.ignore_patterns("checkpoint"))
    out = tmp_path / "plots"
    argv = ["plot", str(model), "--out", str(out), "--method", "tsne", "--tsne-iter", "250"]
    assert main([*argv, "--highlight-top", "20", "--quiet"]) == 0
    browser.get((out / "books-tsne-genre.html").as_uri())
    labels = "text.annotation-text"
    wait(browser, lambda d: len(css(d, labels)) >= 15, "the star labels never drew")
    boxes, stars = browser.execute_script(
        """const boxes = [...document.querySelectorAll(arguments[0])].map(label => {
             const r = label.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom];
           });
           const map = document.getElementById("wikirec-map"), page = map._fullLayout;
           const origin = map.querySelector(".main-svg").getBoundingClientRect();
           const starred = map._fullData.find(trace => trace.name === "starred");
           const stars = Array.from(starred.x).map((x, i) => [
             origin.left + page.xaxis._offset + page.xaxis.l2p(x),
             origin.top + page.yaxis._offset + page.yaxis.l2p(starred.y[i])]);
           return [boxes, stars];""",
        labels,
    )
    assert len(stars) == 20
    boxes = np.array(boxes)
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        others = boxes[i + 1 :]
        meets = (
            (others[:, 0] < x1) & (x0 < others[:, 2]) & (others[:, 1] < y1) & (y0 < others[:, 3])
        )
        assert not meets.any(), (boxes[i], others[meets])
        nearest = np.clip(stars, [x0, y0], [x1, y1])
        assert np.hypot(*(nearest - np.array(stars)).T).min() >= STAR_PX / 2


# --------------------------------------------------------------------------- the page's map


@pytest.fixture(scope="module")
def map_server(p15_graph_model, tmp_path_factory):
    """The app over a copy of the model whose books' map `wikirec plot` cached."""
    model = model_with_map(p15_graph_model, tmp_path_factory.mktemp("serve-map-browser"))
    with BackgroundServer(create_app(ModelService.load(model))) as running:
        yield running


def api_get(server, path: str) -> dict:
    import json
    from urllib.request import urlopen

    with urlopen(server.url + path, timeout=30) as answer:
        return json.loads(answer.read())


def open_map(browser, url: str, fragment: str) -> None:
    open_page(browser, url, fragment)
    wait_for_map(browser)


def wait_for_map(browser) -> None:
    wait(browser, lambda d: css(d, "#map-canvas[data-drawn]"), "the map was never drawn")


def map_state(browser) -> dict:
    """What the page drew: its view (data to CSS pixels: x_px = x + scale * x_data,
    y_px = y - scale * y_data), its labels ([index, x0, y0, x1, y1]) and its size."""
    return browser.execute_script(
        "const c = document.getElementById('map-canvas'), box = c.getBoundingClientRect();"
        "return {view: JSON.parse(c.dataset.transform), labels: JSON.parse(c.dataset.labels),"
        " width: box.width, height: box.height};"
    )


def map_draws(browser) -> int:
    """How many times the page has drawn the map on its canvas."""
    return int(css(browser, "#map-canvas")[0].get_attribute("data-draws"))


def on_screen(state: dict, points: dict) -> np.ndarray:
    """Every point's position in CSS pixels from the canvas's top left, (n, 2)."""
    view = state["view"]
    return np.column_stack([view["x"] + view["scale"] * np.asarray(points["x"]),
                            view["y"] - view["scale"] * np.asarray(points["y"])])  # fmt: skip


def isolated(state: dict, xy: np.ndarray, among=None, apart: float = 18.0) -> list[int]:
    """Points well inside the canvas with no other point within ``apart`` pixels (a
    click or hover on them can mean no other), among ``among`` (default: all)."""
    inside = (xy[:, 0] > 20) & (xy[:, 0] < state["width"] - 20)
    inside &= (xy[:, 1] > 20) & (xy[:, 1] < state["height"] - 20)
    found = []
    for i in range(len(xy)) if among is None else among:
        distance = np.hypot(*(xy - xy[i]).T)
        distance[i] = np.inf
        if inside[i] and distance.min() > apart:
            found.append(int(i))
    return found


def pixel(browser, x: float, y: float) -> tuple[int, int, int]:
    """The colour drawn at CSS pixel (x, y) of the map."""
    return tuple(browser.execute_script(
        "const c = document.getElementById('map-canvas');"
        "const ratio = c.width / c.getBoundingClientRect().width;"
        "const at = c.getContext('2d').getImageData(Math.floor(arguments[0] * ratio),"
        " Math.floor(arguments[1] * ratio), 1, 1).data;"
        "return [at[0], at[1], at[2]];", x, y)[:3])  # fmt: skip


def css_colour(browser, variable: str) -> tuple[int, int, int]:
    """A CSS variable's colour as the canvas draws it."""
    return tuple(browser.execute_script(
        "const c = document.createElement('canvas').getContext('2d');"
        "c.fillStyle = getComputedStyle(document.documentElement).getPropertyValue(arguments[0]);"
        "c.fillRect(0, 0, 1, 1); return Array.from(c.getImageData(0, 0, 1, 1).data.slice(0, 3));",
        variable))  # fmt: skip


def hex_colour(text: str) -> tuple[int, int, int]:
    return tuple(int(text[i : i + 2], 16) for i in (1, 3, 5))


def near_colour(a, b, tolerance: int = 6) -> bool:
    return all(abs(int(p) - int(q)) <= tolerance for p, q in zip(a, b, strict=True))


def pointer(browser, state: dict, x: float, y: float, click: bool = False) -> None:
    """Move the mouse to CSS pixel (x, y) of the map (and click there)."""
    from selenium.webdriver.common.action_chains import ActionChains

    canvas = css(browser, "#map-canvas")[0]
    # Selenium's offsets are from the element's centre, in whole pixels.
    dx, dy = round(x - state["width"] / 2), round(y - state["height"] / 2)
    actions = ActionChains(browser).move_to_element_with_offset(canvas, dx, dy)
    (actions.click() if click else actions).perform()


def test_the_map_draws_every_book_in_its_genre_groups_colour(browser, map_server):
    """Issue 26: the map inside the app. From the header's link, every book is a point
    in its genre group's colour (the legend's), and hovering one names it."""
    open_page(browser, map_server.url, "#/")
    click(browser, "#nav-map")
    wait_for_map(browser)
    points = api_get(map_server, "api/map")
    legend = [e.text for e in css(browser, "#map-legend li")]
    assert legend == [f"{g['name']} ({g['count']:,})" for g in points["groups"]] + [
        f"other or no genre ({points['other']:,})"
    ]
    state = map_state(browser)
    xy = on_screen(state, points)
    lonely = isolated(state, xy)
    colours = [hex_colour(g["colour"]) for g in points["groups"]]
    other = css_colour(browser, "--map-other")
    checked = set()
    for i in lonely:
        group = points["group"][i]
        expected = colours[group] if group >= 0 else other
        assert near_colour(pixel(browser, *xy[i]), expected), points["titles"][i]
        checked.add(group)
    assert len(checked) >= 4  # several groups' colours seen where their books are

    book = lonely[len(lonely) // 2]
    pointer(browser, state, *xy[book])
    tooltip = css(browser, "#map-tooltip")[0]
    wait(browser, lambda d: tooltip.is_displayed(), "hovering a point showed no title")
    assert tooltip.get_attribute("data-title") == points["titles"][book]
    assert tooltip.find_element("css selector", "strong").text == points["titles"][book]


def test_clicking_a_point_opens_its_book_and_back_returns_to_the_map(browser, map_server, rec):
    open_map(browser, map_server.url, "#/map")
    points = api_get(map_server, "api/map")
    state = map_state(browser)
    xy = on_screen(state, points)
    book = isolated(state, xy)[0]
    title = points["titles"][book]
    pointer(browser, state, *xy[book], click=True)
    wait_for_book(browser, title)
    wait_for_titles(browser, "#similar li.result", names(rec.most_similar(title, topn=10)))
    browser.back()
    wait_for_map(browser)
    assert browser.execute_script("return location.hash") == "#/map"


def test_the_maps_wheel_zooms_about_the_pointer_and_a_drag_pans(browser, map_server):
    """Zoom keeps the point under the pointer where it is; a drag moves the map by as
    much as the mouse, and opens no book."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    open_map(browser, map_server.url, "#/map")
    points = api_get(map_server, "api/map")
    before = map_state(browser)
    book = isolated(before, on_screen(before, points))[0]
    x, y = on_screen(before, points)[book]
    dx, dy = round(x - before["width"] / 2), round(y - before["height"] / 2)
    canvas = css(browser, "#map-canvas")[0]
    origin = ScrollOrigin.from_element(canvas, dx, dy)
    ActionChains(browser).scroll_from_origin(origin, 0, -300).perform()
    wait(browser, lambda d: map_state(d)["view"]["scale"] > before["view"]["scale"], "no zoom")
    zoomed = map_state(browser)
    # The pointer stands within a pixel of the point, a distance the zoom multiplies.
    assert np.hypot(*(on_screen(zoomed, points)[book] - (x, y))) < 3
    assert zoomed["view"]["scale"] > 1.2 * before["view"]["scale"]
    drag = ActionChains(browser).move_to_element_with_offset(canvas, dx, dy).click_and_hold()
    drag.move_by_offset(40, 25).move_by_offset(40, 25).release().perform()

    def shift(driver) -> tuple[float, float]:
        moved = map_state(driver)["view"]
        assert moved["scale"] == zoomed["view"]["scale"]
        return moved["x"] - zoomed["view"]["x"], moved["y"] - zoomed["view"]["y"]

    wait(browser, lambda d: shift(d) == pytest.approx((80, 50)), "the map did not follow the drag")
    assert browser.execute_script("return location.hash") == "#/map"
    click(browser, "#map-reset")
    wait(browser, lambda d: map_state(d)["view"] == before["view"], "reset did not go back")


def wheel_view(view: dict, whole: float, px: float, py: float, delta_y: float) -> dict:
    """The view one wheel event at CSS pixel (px, py) leads to, as the page computes it:
    zoom about the pointer, between half the whole map's scale and MAP.maxZoom (40) times it."""
    scale = min(whole * 40, max(whole / 2, view["scale"] * math.exp(-delta_y * 0.0015)))
    f = scale / view["scale"]
    return {"scale": scale, "x": px - (px - view["x"]) * f, "y": py - (py - view["y"]) * f}


def test_wheel_events_within_a_frame_draw_the_map_once(browser, map_server):
    """A wheel sends events faster than frames, and each drawing repaints every book:
    twenty events in one go are one drawing, at the next frame, of the view all twenty
    make (each zooming about the pointer), not twenty."""
    open_map(browser, map_server.url, "#/map")
    points = api_get(map_server, "api/map")
    before = map_state(browser)  # the whole map: its scale is the zoom's unit
    book = isolated(before, on_screen(before, points))[0]
    x, y = on_screen(before, points)[book]
    deltas = [-30.0] * 15 + [20.0] * 5  # in, then back out a little: within the zoom's bounds
    sent = browser.execute_script(
        "const [deltas, x, y] = arguments, c = document.getElementById('map-canvas');"
        "const box = c.getBoundingClientRect();"
        "const at = [Math.round(box.left + x), Math.round(box.top + y)];"
        "const drawn = () => [Number(c.dataset.draws), JSON.parse(c.dataset.transform)];"
        "const first = drawn();"
        "for (const deltaY of deltas) c.dispatchEvent(new WheelEvent('wheel',"
        " {clientX: at[0], clientY: at[1], deltaY, bubbles: true, cancelable: true}));"
        "return {first, last: drawn(), pointer: [at[0] - box.left, at[1] - box.top]};",
        deltas, float(x), float(y))  # fmt: skip
    draws, drawn = sent["first"]
    assert drawn == before["view"]
    assert sent["last"] == [draws, drawn]  # the events drew nothing themselves
    wait(browser, lambda d: map_draws(d) > draws, "the wheel events were never drawn")
    assert map_draws(browser) == draws + 1  # one task's events: one frame, one drawing
    px, py = sent["pointer"]
    expected = before["view"]
    for delta_y in deltas:
        expected = wheel_view(expected, before["view"]["scale"], px, py, delta_y)
    zoomed = map_state(browser)
    assert zoomed["view"] == pytest.approx(expected, rel=1e-9)
    assert zoomed["view"]["scale"] > 1.5 * before["view"]["scale"]
    # The book under the pointer stays under it (within the pixel the pointer was rounded to).
    assert np.hypot(*(on_screen(zoomed, points)[book] - (px, py))) < 2


def test_a_books_map_highlights_it_and_its_nearest_books(browser, map_server, rec):
    """Projector-style: the book (starred) and its 10 nearest books in the model (ringed,
    joined to it, labelled without overlaps, listed below) stand out, the rest dimmed."""
    open_page(browser, map_server.url, "#/book/" + quote(TARZAN))
    wait_for_book(browser, TARZAN)
    click(browser, "#map-link")
    wait_for_map(browser)
    assert browser.execute_script("return location.hash") == "#/map/" + quote(TARZAN, safe="")
    nearest = names(rec.most_similar(TARZAN, topn=10))
    highlighted = css(browser, "#map-highlighted")[0]
    assert highlighted.get_attribute("data-title") == TARZAN
    assert titles_in(browser, "#map-neighbours li") == nearest
    assert [e.text for e in css(browser, "#map-neighbours li a.title")] == nearest

    points = api_get(map_server, "api/map")
    index = {title: i for i, title in enumerate(points["titles"])}
    current = index[TARZAN]
    assert highlighted.get_attribute("data-current") == str(current)
    shown = {current, *(index[t] for t in nearest)}
    state = map_state(browser)
    labels = state["labels"]
    assert labels[0][0] == current and {label[0] for label in labels} <= shown
    assert len(labels) > len(shown) // 2
    boxes = [label[1:] for label in labels]
    for n, (x0, y0, x1, y1) in enumerate(boxes):
        assert 0 <= x0 < x1 <= state["width"] and 0 <= y0 < y1 <= state["height"]
        for a0, b0, a1, b1 in boxes[n + 1 :]:
            assert x1 <= a0 or a1 <= x0 or y1 <= b0 or b1 <= y0, "two labels overlap"

    xy = on_screen(state, points)
    paper = css_colour(browser, "--surface")
    colour = [hex_colour(g["colour"]) for g in points["groups"]]
    colour.append(css_colour(browser, "--map-other"))  # group -1
    apart = [i for i in isolated(state, xy, apart=30) if i not in shown]
    far = [i for i in apart if np.hypot(*(xy[list(shown)] - xy[i]).T).min() > 60]
    assert far
    for i in far:  # dimmed: nearer the background than the group's colour
        drawn, full = pixel(browser, *xy[i]), colour[points["group"][i]]
        assert np.abs(np.subtract(drawn, paper)).sum() < np.abs(np.subtract(drawn, full)).sum()
    ringed = [index[t] for t in nearest]
    clear = isolated(state, xy, among=ringed, apart=0)
    clear = [i for i in clear if np.hypot(*(xy[list(shown - {i})] - xy[i]).T).min() > 16]
    assert clear
    for i in clear:  # each neighbour in its own colour, undimmed
        assert near_colour(pixel(browser, *xy[i]), colour[points["group"][i]])


def test_a_model_without_a_map_says_how_to_make_one(browser, server):
    """A model whose plot stage has not run: a sentence, never "null" or an empty box."""
    open_page(browser, server.url, "#/book/" + quote(TARZAN))
    wait_for_book(browser, TARZAN)
    click(browser, "#map-link")
    wait(browser, lambda d: css(d, "#map-missing"), "the map view never showed")
    message = css(browser, "#map-missing")[0].text
    assert message.startswith("no map of the books yet")
    assert "wikirec plot MODEL_DIR" in message and "wikirec run" in message
    assert "null" not in css(browser, "#view")[0].text
    assert css(browser, "#map-canvas") == []
    browser.back()
    wait_for_book(browser, TARZAN)


def empty_spot(state: dict, xy: np.ndarray, away: float = 15.0) -> tuple[int, int]:
    """A pixel of the map with no point within ``away`` pixels: the bare background."""
    for x in range(10, int(state["width"]) - 10, 10):
        for y in range(10, int(state["height"]) - 10, 10):
            if np.hypot(*(xy - (x, y)).T).min() > away:
                return x, y
    raise AssertionError("no empty spot on the map")


def luminance(rgb) -> float:
    red, green, blue = rgb[:3]
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def test_the_map_follows_the_readers_dark_mode(browser, map_server):
    """The map's background, its "other" points and its labels take the page's colours:
    dark under a dark preference, light under a light one."""
    points = api_get(map_server, "api/map")
    try:
        for scheme in ("dark", "light"):
            browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {
                "features": [{"name": "prefers-color-scheme", "value": scheme}]})  # fmt: skip
            open_map(browser, map_server.url, "#/map")
            state = map_state(browser)
            xy = on_screen(state, points)
            paper = luminance(pixel(browser, *empty_spot(state, xy)))
            other = [i for i in isolated(state, xy) if points["group"][i] < 0]
            assert other
            grey = css_colour(browser, "--map-other")
            assert all(near_colour(pixel(browser, *xy[i]), grey) for i in other)
            ink = browser.execute_script(
                "return getComputedStyle(document.querySelector('#map-legend li')).color")
            ink = luminance([float(v) for v in ink[ink.index("(") + 1 : -1].split(",")[:3]])
            # The book's label, drawn on the canvas: its brightest and darkest pixels.
            open_map(browser, map_server.url, "#/map/" + quote(TARZAN))
            x0, y0, x1, y1 = map_state(browser)["labels"][0][1:]
            shades = [luminance(rgb) for rgb in browser.execute_script(
                "const c = document.getElementById('map-canvas');"
                "const r = c.width / c.getBoundingClientRect().width, [x0, y0, x1, y1] = arguments;"
                "const d = c.getContext('2d').getImageData(Math.ceil(x0 * r), Math.ceil(y0 * r),"
                " Math.floor((x1 - x0) * r), Math.floor((y1 - y0) * r)).data, rgb = [];"
                "for (let i = 0; i < d.length; i += 4) rgb.push([d[i], d[i + 1], d[i + 2]]);"
                "return rgb;", x0, y0, x1, y1)]  # fmt: skip
            if scheme == "dark":
                assert paper < 0.2 and luminance(grey) < 0.4 and ink > 0.75
                assert max(shades) > 0.75  # light letters on the dark map
            else:
                assert paper > 0.9 and luminance(grey) > 0.8 and ink < 0.25
                assert min(shades) < 0.25  # dark letters on the light map
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


# --------------------------------------------------------------------------- hostile data


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    model = make_hostile_model(tmp_path_factory.mktemp("serve-hostile-browser"))
    add_reduction(model)  # its map too
    with BackgroundServer(create_app(ModelService.load(model))) as running:
        yield running, Recommender.load(model)


def test_hostile_titles_and_fields_render_as_text(browser, hostile_server):
    server, rec = hostile_server
    open_page(browser, server.url)
    browser.get_log("browser")  # start the log afresh
    box = css(browser, "#search")[0]
    box.send_keys("<script")
    wait(browser, lambda d: titles_in(d, "#suggestions li.suggestion")[:1] == [SCRIPT_TITLE])
    suggestion = css(browser, "#suggestions li.suggestion .title")[0]
    assert suggestion.text == SCRIPT_TITLE
    click(browser, "#suggestions li.suggestion")
    for title in HOSTILE_TITLES:
        if title != SCRIPT_TITLE:
            browser.get(server.url + "#/book/" + quote(title, safe=""))
        wait_for_book(browser, title)
        assert browser.title == f"{title} \u00b7 wikirec"
        authors = wait(browser, lambda d: [e.text for e in css(d, "#infobox dd")])
        assert HOSTILE_FIELD in authors and '"); alert(1); ("' in authors
        wait_for_titles(browser, "#similar li.result", names(rec.most_similar(title, topn=10)))
        shown = [e.text for e in css(browser, "#similar li.result a.title")]
        assert shown == names(rec.most_similar(title, topn=10))
        wait_for_titles(browser, "#pages li.result", names(rec.links_for(title)))
        click(browser, "article .actions button.like")
    wait_for_titles(browser, "#liked-list li", HOSTILE_TITLES)
    assert [e.text for e in css(browser, "#liked-list li a.title")] == HOSTILE_TITLES
    page = rec.titles["links"].titles[0]  # the <svg onload=...> page, as the build wrote it
    assert page.startswith("<svg")
    browser.get(server.url + "#/page/" + quote(page, safe=""))
    wait(browser, lambda d: [e.text for e in css(d, "#page-title")] == [page])
    wait_for_about(browser, rec, page)

    # Nothing ran and nothing was parsed as markup: no payload's counter, no element
    # but the page's own, no script but app.js, no policy violation reported.
    assert browser.execute_script("return window.__xss === undefined")
    assert css(browser, "img, svg, b, textarea, iframe") == []
    scripts = [s.get_attribute("src") for s in css(browser, "script")]
    assert scripts == [server.url + "static/app.js"]
    logs = [entry["message"] for entry in browser.get_log("browser")]
    assert not [m for m in logs if "Content Security Policy" in m or "Uncaught" in m]


def test_hostile_titles_on_the_page_map_are_text(browser, hostile_server):
    """The page's map of the hostile model: titles in the heading, the list, the
    tooltip and the labels (drawn on the canvas) run nothing and add no element."""
    server, rec = hostile_server
    open_map(browser, server.url, "#/map/" + quote(SCRIPT_TITLE, safe=""))
    assert css(browser, "#view h1")[0].text == SCRIPT_TITLE + " on the map"
    assert css(browser, "#map-highlighted")[0].get_attribute("data-title") == SCRIPT_TITLE
    nearest = names(rec.most_similar(SCRIPT_TITLE, topn=10))
    assert [e.text for e in css(browser, "#map-neighbours li a.title")] == nearest
    assert css(browser, "#map-legend")[0].text.startswith("One colour")  # no genre groups
    points = api_get(server, "api/map")
    state = map_state(browser)
    xy = on_screen(state, points)
    for title in HOSTILE_TITLES:
        pointer(browser, state, *xy[points["titles"].index(title)])
        wait(browser, lambda d, t=title: css(d, "#map-tooltip")[0].get_attribute("data-title") == t)
        assert css(browser, "#map-tooltip strong")[0].text == title
    assert browser.execute_script("return window.__xss === undefined")
    assert css(browser, "img, svg, b, textarea, iframe") == []


def test_the_map_draws_hostile_titles_as_text_and_its_search_works(browser, tmp_path):
    import pandas as pd

    from wikirec.plot import Groups, interactive_html
    from wikirec.plot.colours import short_label

    opener = "<!--<script>"  # left the map's last <script> unterminated: no search
    titles = [opener, *HOSTILE_TITLES, "<b>Bold</b> & co", "Plain"]
    n = len(titles)
    groups = Groups(field="genre", names=["<i>Slanted</i>"], codes=np.arange(n) % 2 - 1,
                    counts=[n // 2])  # fmt: skip
    hover = pd.DataFrame({"author": [HOSTILE_FIELD] * n})
    page = tmp_path / "map.html"
    coords = np.arange(2 * n, dtype=float).reshape(n, 2)
    html = interactive_html(coords, groups, titles, hover, highlight=range(n), title="<b>map")
    page.write_text(html, encoding="utf-8")
    browser.get(page.as_uri())

    def texts(selector: str) -> list[str]:
        return [e.get_attribute("textContent") for e in css(browser, selector)]

    wait(browser, lambda d: len(texts(".annotation-text")) == n, "the starred labels never drew")
    assert texts(".annotation-text") == [short_label(title) for title in titles]
    assert "<i>Slanted</i> (3)" in texts(".legendtext") and texts(".gtitle") == ["<b>map"]
    browser.execute_script("Plotly.Fx.hover('wikirec-map', [{curveNumber: 2, pointNumber: 0}])")
    wait(browser, lambda d: texts(".hoverlayer .nums"), "no hover card")
    assert texts(".hoverlayer .nums") == [f"{opener}author: {HOSTILE_FIELD}"]
    box = css(browser, "#q")[0]
    box.send_keys(opener)
    box.send_keys("\n")
    wait(browser, lambda d: [e.text for e in css(d, "#status")] == ["1 match, starred"])
    assert texts(".textpoint text")[-1] == opener  # the search's star, labelled as text
    assert browser.execute_script("return window.__xss === undefined")
    assert css(browser, "img, b, i") == []


def test_the_page_loads_nothing_from_elsewhere(browser, server):
    open_page(browser, server.url, "#/book/" + quote(TARZAN))
    wait_for_book(browser, TARZAN)
    wait(browser, lambda d: len(css(d, "#similar .why")) == 10)
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert resources and all(name.startswith(server.url) for name in resources)
