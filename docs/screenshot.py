"""Take the README's picture of ``wikirec serve``: the book page of Animal Farm on the
demo model, with two books liked, in headless Chromium (Debian's chromium and
chromedriver).

    .venv/bin/python docs/screenshot.py [artifacts/demo/train] [docs/serve-book.png]
"""

from __future__ import annotations

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
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1360,1000", "--hide-scrollbars",
)  # fmt: skip


def main() -> int:
    model = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "artifacts/demo/train")
    out = Path(sys.argv[2] if len(sys.argv) > 2 else ROOT / "docs/serve-book.png")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory() as profile, BackgroundServer(
        create_app(ModelService.load(model))
    ) as server:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        try:
            wait = WebDriverWait(driver, 30)
            driver.get(server.url + "#/book/" + quote(BOOK))
            wait.until(lambda d: len(d.find_elements("css selector", "#similar .why")) == 10)
            driver.find_element("css selector", "article .actions button.like").click()
            second = driver.find_elements("css selector", "#similar li.result button.like")[0]
            second.click()
            wait.until(lambda d: len(d.find_elements("css selector", "#liked-results .why")) > 0)
            driver.save_screenshot(str(out))
        finally:
            driver.quit()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
