"""Take the README's pictures of ``wikirec serve`` on the demo model, in headless
Chromium (Debian's chromium and chromedriver):

- ``book`` (the default): the book page of Animal Farm, with two books liked;
- ``map``: the map of the books with Animal Farm and its nearest books highlighted
  (the demo's plot stage cached its UMAP);
- ``liked``: the liked list alone, two books liked and one pushed away, with its
  recommendations.

``--dark`` takes it as a reader in dark mode sees it.

    .venv/bin/python docs/screenshot.py [artifacts/demo/train] [docs/serve-book.png]
    .venv/bin/python docs/screenshot.py artifacts/demo/train map.png --view map --dark
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from wikirec.serve.app import create_app  # noqa: E402
from wikirec.serve.server import BackgroundServer  # noqa: E402
from wikirec.serve.service import ModelService  # noqa: E402

BOOK = "Animal Farm"
VIEWS = ("book", "map", "liked")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1360,1000", "--hide-scrollbars",
)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", default=str(ROOT / "artifacts/demo/train"))
    parser.add_argument("out", nargs="?", help="the PNG (default: docs/serve-VIEW[-dark].png)")
    parser.add_argument("--view", choices=VIEWS, default="book")
    parser.add_argument("--dark", action="store_true", help="as in the reader's dark mode")
    args = parser.parse_args()
    dark = "-dark" if args.dark else ""
    out = Path(args.out or ROOT / f"docs/serve-{args.view}{dark}.png")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory() as profile, BackgroundServer(
        create_app(ModelService.load(args.model))
    ) as server:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        try:
            if args.dark:
                driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
                    "features": [{"name": "prefers-color-scheme", "value": "dark"}]})  # fmt: skip
            TAKE[args.view](driver, server.url, out)
        finally:
            driver.quit()
    print(f"wrote {out}")
    return 0


def found(driver, selector: str) -> list:
    return driver.find_elements("css selector", selector)


def like_two_books(driver, url: str) -> WebDriverWait:
    """The book page of BOOK, it and its nearest book liked; the wait used."""
    wait = WebDriverWait(driver, 30)
    driver.get(url + "#/book/" + quote(BOOK))
    wait.until(lambda d: len(found(d, "#similar .why")) == 10)
    found(driver, "article .actions button.like")[0].click()
    found(driver, "#similar li.result button.like")[0].click()
    wait.until(lambda d: len(found(d, "#liked-results .why")) > 0)
    return wait


def book_page(driver, url: str, out: Path) -> None:
    like_two_books(driver, url)
    driver.save_screenshot(str(out))


def map_view(driver, url: str, out: Path) -> None:
    driver.get(url + "#/map/" + quote(BOOK))
    WebDriverWait(driver, 30).until(lambda d: found(d, "#map-canvas[data-drawn], #map-missing"))
    driver.save_screenshot(str(out))


def liked_list(driver, url: str, out: Path) -> None:
    driver.set_window_size(1360, 1800)  # the list's recommendations whole, below the fold
    wait = like_two_books(driver, url)
    pushed = found(driver, "#liked-results li.result")[0].get_attribute("data-title")
    found(driver, "#liked-results li.result button.push")[0].click()
    titles = lambda d, where: [e.get_attribute("data-title") for e in found(d, where)]  # noqa: E731
    wait.until(lambda d: titles(d, "#minus-list li") == [pushed]
               and pushed not in titles(d, "#liked-results li.result")
               and found(d, "#liked-results .why"))  # fmt: skip
    found(driver, "#liked-panel")[0].screenshot(str(out))


TAKE = {"book": book_page, "map": map_view, "liked": liked_list}


if __name__ == "__main__":
    sys.exit(main())
