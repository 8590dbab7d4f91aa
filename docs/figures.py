"""The figures the README and docs/ quote, from one place: ``docs/figures.json``.

    .venv/bin/python docs/figures.py measure [--runs 5] [--beside "COMMAND" [--beside-label TEXT]]
    .venv/bin/python docs/figures.py apply

``measure`` clones the repository's HEAD into a temporary folder and runs the README's
two commands there as a new user would (``make demo``, then ``make test``), ``--runs``
times, each from a new clone, with ``--beside`` (a shell command, started again each
time it ends) loading the machine meanwhile. From the last run it reads the times, the
test count, the size of ``.venv``, the demo's counts and summary, a ``wikirec
recommend --why`` and an ``/api/similar`` answer; it retakes the screenshots from the
demo's model (``docs/screenshot.py``: the book page, the map and the liked list, light
and dark), writes ``docs/figures.json``, then applies it.
A run that fails stops everything: no figure is written.

``apply`` writes the figures into the Markdown files where they are marked:
``<!--fig:NAME-->text<!--/fig-->`` in a sentence, or a line ``<!--fig:NAME-->`` just
before a fenced block, whose body it replaces. ``tests/test_pipeline.py`` checks that
``apply`` would change nothing, so a figure edited by hand fails the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures.json"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
WHY_COMMAND = 'wikirec recommend artifacts/demo/train "The Son of Tarzan" -k 3 --why'
SIMILAR_PATH = "/api/similar?title=Animal%20Farm&k=3"


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} minutes" if seconds >= 90 else f"{seconds:.0f} s"


def _runs(f: dict) -> str:
    runs = f["runs"]
    demo = [r["demo_seconds"] for r in runs]
    tests = [r["test_seconds"] for r in runs]
    passed = sorted({r["tests_passed"] for r in runs})
    beside = f" with {f['beside']} running beside them" if f["beside"] else ""

    def spread(values: list[float]) -> str:
        low, high = round(min(values)), round(max(values))
        return f"{low} s" if low == high else f"{low}-{high} s"

    return (
        f"{len(runs)} fresh clone{'s' if len(runs) > 1 else ''} of {f['commit']} on "
        f"{f['date']} ({f['cores']} cores{beside}, pip's cache warm): `make demo` "
        f"{spread(demo)}, `make test` {spread(tests)}, "
        f"{' / '.join(map(str, passed))} passed, no failure"
    )


# NAME -> the text a marker of that name holds, from the figures.
RENDER = {
    "venv_gb": lambda f: f"{f['venv_gb']:.1f} GB",
    "dev_gb": lambda f: f"{f['venv_dev_gb'] - f['venv_gb']:.1f} GB",
    "books": lambda f: f"{f['books']:,}",
    "demo_time": lambda f: _minutes(f["runs"][-1]["demo_seconds"]),
    "tests_passed": lambda f: f"{f['runs'][-1]['tests_passed']:,}",
    "test_time": lambda f: _minutes(f["runs"][-1]["test_seconds"]),
    "runs": _runs,
    "date": lambda f: f["date"],
    "stage_seconds": lambda f: ", ".join(
        f"{name} {_seconds(s)}" for name, s in f["stage_seconds"].items()
    ),
    "demo_output": lambda f: "\n".join(f["demo_output"]) + "\n",
    "why_output": lambda f: f"$ {WHY_COMMAND}\n" + "\n".join(f["why_output"]) + "\n",
    "similar_json": lambda f: f["similar_json"],
}
INLINE = re.compile(r"<!--fig:(\w+)-->([^<\n]*)<!--/fig-->")  # on one line
BLOCK = re.compile(r"^<!--fig:(\w+)-->\n(```[^\n]*\n)(.*?)(^```$)", re.S | re.M)


def apply(text: str, figures: dict) -> str:
    """``text`` with every marked figure rewritten from ``figures``."""

    def render(name: str) -> str:
        if name not in RENDER:
            raise KeyError(f"unknown figure {name!r} (known: {', '.join(RENDER)})")
        return RENDER[name](figures)

    text = BLOCK.sub(lambda m: f"<!--fig:{m[1]}-->\n{m[2]}{render(m[1])}{m[4]}", text)
    return INLINE.sub(lambda m: f"<!--fig:{m[1]}-->{render(m[1])}<!--/fig-->", text)


def apply_all(figures: dict) -> list[Path]:
    changed = []
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        new = apply(text, figures)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def _run(command: str, cwd: Path) -> tuple[float, str]:
    """Seconds and output of a shell command in ``cwd``; a failure stops the script."""
    started = time.perf_counter()
    done = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{command} failed in {cwd} (exit {done.returncode}):\n"
                 f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")  # fmt: skip
    return seconds, done.stdout


def _gigabytes(folder: Path) -> float:
    out = subprocess.run(["du", "-sb", str(folder)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0]) / 1e9


def one_run(clone: Path, commit: str) -> dict:
    """``make demo`` then ``make test`` in a new clone of ``commit`` at ``clone``."""
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", commit], check=True)
    demo_seconds, demo_out = _run("make demo", clone)
    venv_gb = _gigabytes(clone / ".venv")
    test_seconds, test_out = _run("make test", clone)
    passed = re.search(r"(\d+) passed", test_out)
    failed = re.search(r"(\d+) (failed|error)", test_out)
    if passed is None or failed is not None:
        sys.exit(f"make test in {clone}: no pass count, or failures:\n{test_out[-3000:]}")
    return {
        "demo_seconds": round(demo_seconds, 1), "test_seconds": round(test_seconds, 1),
        "tests_passed": int(passed[1]), "venv_gb": round(venv_gb, 2),
        "venv_dev_gb": round(_gigabytes(clone / ".venv"), 2), "demo_out": demo_out,
    }  # fmt: skip


def demo_output(printed: str) -> list[str]:
    """The lines of the demo's summary the README quotes: from ``train:`` on, without the
    export and notebook lines (said in prose) and the second example."""
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("train: "))
    kept, skipping = [], False
    for line in lines[start:]:
        if not line.startswith("    "):
            skipping = line.startswith(("export: ", "notebook: ")) or (
                line.startswith("books like") and any(k.startswith("books like") for k in kept)
            )
        if not skipping:
            kept.append(line)
    return kept


def demo_figures(clone: Path) -> dict:
    """Counts, stage times and answers of the demo model in ``clone``."""
    python = clone / ".venv" / "bin" / "python"
    manifest = json.loads((clone / "artifacts/demo/manifest.json").read_text())
    stages = manifest["stages"]
    build = json.loads((clone / "artifacts/demo/build/build.json").read_text())
    _, why = _run(f".venv/bin/{WHY_COMMAND}", clone)
    code = (
        "import sys, urllib.request\n"
        "from wikirec.serve.app import create_app\n"
        "from wikirec.serve.server import BackgroundServer\n"
        "from wikirec.serve.service import ModelService\n"
        "with BackgroundServer(create_app(ModelService.load('artifacts/demo/train'))) as s:\n"
        f"    print(urllib.request.urlopen(s.url + {SIMILAR_PATH[1:]!r}).read().decode())\n"
    )
    _, similar = _run(f"{python} -c {shlex.quote(code)}", clone)
    return {
        "books": build["books"]["kept"],
        "parse_kept": stages["parse"]["summary"]["kept"],
        "stage_seconds": {name: round(entry["seconds"], 1) for name, entry in stages.items()},
        "why_output": why.rstrip("\n").splitlines(),
        "similar_json": _similar_json(json.loads(similar)),
    }


def _similar_json(answer: dict) -> str:
    """The ``/api/similar`` answer as JSON, a line per result."""
    results = ",\n  ".join(json.dumps(r) for r in answer["results"])
    rest = {k: v for k, v in answer.items() if k != "results"}
    return json.dumps(rest)[:-1] + f',\n "results": [\n  {results}\n ]}}\n'


class Beside:
    """A shell command run again and again in the background until closed."""

    def __init__(self, command: str | None) -> None:
        self.command, self.proc, self.stopped = command, None, False

    def __enter__(self) -> Beside:
        if self.command:
            loop = f"while true; do {self.command} >/dev/null 2>&1; done"
            self.proc = subprocess.Popen(["bash", "-c", loop], start_new_session=True)
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, 15)
            self.proc.wait()


def measure(runs: int, beside: str | None, label: str | None) -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory(prefix="wikirec-figures-") as tmp, Beside(beside):
        for i in range(runs):
            clone = Path(tmp) / f"clone-{i}"
            result = one_run(clone, commit)
            results.append(result)
            print(f"run {i + 1}/{runs}: make demo {result['demo_seconds']:.0f} s, make test "
                  f"{result['test_seconds']:.0f} s, {result['tests_passed']} passed", flush=True)
        last = results[-1]
        figures = {
            "date": date.today().isoformat(), "commit": commit, "cores": os.cpu_count(),
            "beside": label or "", "venv_gb": last["venv_gb"],
            "venv_dev_gb": last["venv_dev_gb"], **demo_figures(clone),
            "demo_output": demo_output(last["demo_out"]),
            "runs": [{k: v for k, v in r.items() if k != "demo_out"} for r in results],
        }  # fmt: skip
        take_screenshots(clone)
    return figures


SCREENSHOTS = ("book", "map", "liked")  # docs/serve-VIEW.png and docs/serve-VIEW-dark.png


def take_screenshots(clone: Path) -> None:
    """Every view of ``docs/screenshot.py`` on the clone's demo model, light and dark."""
    for view in SCREENSHOTS:
        for dark in ("", "-dark"):
            command = [str(clone / ".venv/bin/python"), str(ROOT / "docs/screenshot.py"),
                       "--view", view, *(["--dark"] if dark else []),
                       str(clone / "artifacts/demo/train"),
                       str(ROOT / f"docs/serve-{view}{dark}.png")]  # fmt: skip
            # from the clone: train.json names its build relative to the run's folder,
            # found from the working folder first
            subprocess.run(command, check=True, cwd=clone)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    take = sub.add_parser("measure", help="fresh clones, make demo and make test; then apply")
    take.add_argument("--runs", type=int, default=1)
    take.add_argument("--beside", help="a shell command to keep running meanwhile")
    take.add_argument("--beside-label", help="how the README names it (default: itself)")
    sub.add_parser("apply", help="write docs/figures.json's figures into the Markdown files")
    args = parser.parse_args()
    if args.command == "measure":
        figures = measure(args.runs, args.beside, args.beside_label or args.beside)
        FIGURES.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    figures = json.loads(FIGURES.read_text(encoding="utf-8"))
    for path in apply_all(figures):
        print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
