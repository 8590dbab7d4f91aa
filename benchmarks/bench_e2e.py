"""End to end, dump to book vectors, against wikipedia2vec on the same dump.

    python benchmarks/bench_e2e.py [--scale 1.0] [--wikipedia2vec PATH] [--workers 2]

Generates (once, cached under artifacts/bench/) a synthetic multistream dump of the
reference's shape with ``wikirec.synth``: at ``--scale 1`` 37,020 book pages (the
reference's count) in 1.7 GB of XML among 464,880 other pages (half of them
redirects; authors, series, genres, awards, lists, topics, filler articles), which
``wikirec build`` turns into 753,228 (book, link) pairs (the reference: 772,798) over
4,596 links (the reference: 41,758; the generator plants fewer distinct link targets).
``--scale`` multiplies both the books and the XML bytes. The planted truth (each
book's author, genre, country, publisher, series, awards, lists, and the pages that
link to it) is written beside the dump by the generator.

Then, in one run, each stage in a process of its own, timed from outside (wall clock,
the peak RSS of its largest process from ``os.wait4``, and the peak of the summed RSS of its whole
process tree, sampled every 0.2 s, since both tools fork workers):

- wikirec: ``parse``, ``build``, ``train``, with the parameters of
  ``pipelines/books.toml`` (read through ``wikirec.pipeline.load_config``, so the
  benchmark follows the config; the dump list is replaced, ``parse.workers`` is
  ``--workers``), run through the ``wikirec parse / build / train`` command lines;
- wikipedia2vec (``--wikipedia2vec PATH``, its executable; without it the install
  command is printed and wikirec runs alone): ``build-dump-db``, ``build-dictionary``
  (``--min-entity-count 1``: its default of 5 incoming anchor links would leave out
  most book pages, each linked from 2.3 planted pages on average: its author's, often
  a list, sometimes its series', an award's, its genre's or a filler article),
  ``build-link-graph``, ``train-embedding`` (link graph on, ``--dim-size`` = the
  config's ``train.dim``, otherwise its defaults), ``save-text``; both tools get the
  same ``--workers``. At ``--scale 0.01`` wikipedia2vec 2.0.0's ``train-embedding``
  stops with an ``IndexError`` early in its first iteration (its bug, seen on this
  dump); at 0.15 it runs to the end.

Quality, by the same code for both (:func:`wikirec.nearest.cosine_top_k` for each
book's 10 nearest books by cosine, :func:`wikirec.evaluate.precision_at_k` for the
share of them sharing the planted value), on the book pages both tools have a vector
for (wikipedia2vec's ``ENTITY/Title`` names and wikirec's book titles both mapped
through :func:`wikirec.titles.normalize_title` to the truth's titles): author, genre,
country, publisher and series p@5 / p@10, averaged over the books whose value some
other book in the set shares. The coverage of each tool is printed too.

Prints a table (stage, seconds, peak RSS), the totals and the ratios
wikirec / wikipedia2vec, the load average before and after each stage (the machine is
shared), and writes everything to ``OUT/e2e.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from wikirec.evaluate import precision_at_k
from wikirec.io import write_json_atomic
from wikirec.nearest import cosine_top_k
from wikirec.pipeline import PipelineError, load_config
from wikirec.synth import generate_dump, load_truth, truth_path_for
from wikirec.titles import normalize_title

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "artifacts" / "bench"

# The reference's shape: its 37,020 book pages; 1.7 GB of generated XML puts 464,880
# other pages around them ("several hundred thousand"; measured at scale 1).
REF_BOOKS = 37_020
REF_XML_BYTES = 1_700_000_000
FIELDS = ("author", "genre", "country", "publisher", "series")
KS = (5, 10)
W2V_INSTALL = (
    "python3 -m venv artifacts/bench/venv-wikipedia2vec && "
    "artifacts/bench/venv-wikipedia2vec/bin/pip install wikipedia2vec==2.0.0\n"
    "then: --wikipedia2vec artifacts/bench/venv-wikipedia2vec/bin/wikipedia2vec"
)


def dump_path(scale: float, seed: int) -> Path:
    """The cached dump of this scale: its name says what it holds."""
    return BENCH / f"synth-e2e-x{scale:g}-s{seed}-pages-articles-multistream.xml.bz2"


def ensure_dump(scale: float, seed: int) -> tuple[Path, dict]:
    """Generate the dump (and its truth, written last) unless both are cached."""
    path = dump_path(scale, seed)
    if not truth_path_for(path).is_file():
        xml_bytes, books = round(REF_XML_BYTES * scale), round(REF_BOOKS * scale)
        print(f"generating {path.name}: {xml_bytes / 1e6:,.0f} MB of XML, {books:,} books")
        stats = generate_dump(path, xml_bytes=xml_bytes, n_books=books, seed=seed, progress=True)
        print(f"generated in {stats['seconds']:,.0f} s", flush=True)
    return path, load_truth(truth_path_for(path))


def _tree_rss(proc) -> int:
    """Summed RSS in bytes of a psutil process and its descendants (0 once it is gone)."""
    import psutil

    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass  # a worker that exited between the listing and the read
    return total


# Starts the stage and reports its peak RSS (and, in FILE.cpu, its CPU seconds). Why a
# launcher: Linux carries the RSS high-water mark of the process that execs into the
# new program's ru_maxrss, so a stage started straight from this (200+ MB) process
# would report at least that; the launcher is small. wait4's ru_maxrss covers the stage
# and the workers it waited for: the largest single process; its user and system
# times, the stage's and those of every process it waited for.
LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
with open(sys.argv[1] + ".cpu", "w") as f:
    f.write(str(usage.ru_utime + usage.ru_stime))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_stage(name: str, cmd: list[str], log: Path) -> dict:
    """Run one stage as a child process; its time, peak RSS and the load around it.

    Returns ``{stage, seconds, cpu_seconds (user + system of the stage and every
    process it waited for), rss_mb (the largest single process, from wait4), tree_mb
    (peak summed RSS of the process tree, sampled every 0.2 s), load_before,
    load_after, stdout}``. A failing stage raises with the tail of its log.
    """
    load_before = os.getloadavg()[0]
    rss_file = log.with_suffix(".maxrss")
    with open(log, "wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER, str(rss_file), *cmd],
            stdout=subprocess.PIPE,
            stderr=err,
            cwd=ROOT,
        )
        peak = [0]
        stop = threading.Event()

        def sample() -> None:
            try:
                import psutil

                proc = psutil.Process(child.pid)
            except Exception:  # no psutil, or already gone: wait4's figure alone
                return
            while not stop.wait(0.2):
                peak[0] = max(peak[0], _tree_rss(proc))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out = child.stdout.read()  # until the child closes it (at exit)
        child.wait()
        seconds = time.perf_counter() - start
        stop.set()
        sampler.join()
    if child.returncode != 0:
        tail = log.read_bytes()[-2000:].decode("utf-8", "replace")
        raise RuntimeError(f"{name} failed (exit {child.returncode}), {log}:\n{tail}")
    rss_mb = int(rss_file.read_text()) / 1024  # kB on Linux
    return {
        "stage": name,
        "seconds": seconds,
        "cpu_seconds": float(Path(f"{rss_file}.cpu").read_text()),
        "rss_mb": rss_mb,
        "tree_mb": max(peak[0] / 2**20, rss_mb),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "stdout": out.decode("utf-8", "replace").strip()[-2000:],
    }


def stage_commands(dump: Path, out: Path, config: dict) -> dict[str, list[str]]:
    """The ``wikirec parse / build / train`` command lines of the pipeline ``config`` (the
    CLI, the stable interface; a config key the CLI does not know fails the stage)."""
    wikirec = [sys.executable, "-c", "import sys; from wikirec.cli import main; sys.exit(main())"]
    parse, build = config["parse"], config["build"]
    parse_cmd = [
        *wikirec,
        "parse",
        str(dump),
        "--out",
        str(out / "parse"),
        "--quiet",
        "--workers",
        str(parse["workers"]),
        "--chunk-mb",
        str(parse["chunk_mb"]),
    ]
    for template in parse["templates"]:
        parse_cmd += ["--template", template]
    if parse["limit"]:
        parse_cmd += ["--limit", str(parse["limit"])]
    if parse.get("scheduler"):
        parse_cmd += ["--scheduler", parse["scheduler"]]
    build_cmd = [
        *wikirec,
        "build",
        str(out / "parse"),
        "--out",
        str(out / "build"),
        "--quiet",
        "--min-link-count",
        str(build["min_link_count"]),
        "--links",
        build["links"],
    ]
    if build["stop_links"]:
        build_cmd += ["--stop-links", build["stop_links"]]
    if build["keep_case"]:
        build_cmd.append("--keep-case")
    train_cmd = [*wikirec, "train", str(out / "build"), "--out", str(out / "train"), "--quiet"]
    for key, value in config["train"].items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            train_cmd += [flag] if value else []
        else:
            train_cmd += [flag, str(value)]
    return {"parse": parse_cmd, "build": build_cmd, "train": train_cmd}


def run_wikirec(dump: Path, out: Path, config: dict) -> list[dict]:
    """parse, build, train of the pipeline ``config`` on ``dump`` into ``out``."""
    rows = []
    for stage, cmd in stage_commands(dump, out, config).items():
        row = run_stage(f"wikirec {stage}", cmd, out / f"{stage}.log")
        print(_row_line(row), flush=True)
        for line in row["stdout"].splitlines():
            if line.startswith("pages read"):  # parse's summary: pages, kept, MB/s of XML
                print(f"    {line}", flush=True)
        rows.append(row)
    return rows


def run_wikipedia2vec(exe: str, dump: Path, out: Path, dim: int, workers: int) -> list[dict]:
    """wikipedia2vec's four stages and save-text on ``dump`` into ``out``."""
    db, dic, graph, model = (out / n for n in ("dump.db", "dic", "link_graph", "model"))
    pool = ["--pool-size", str(workers)]
    stages = [
        ("build-dump-db", [str(dump), str(db), *pool]),
        ("build-dictionary", [str(db), str(dic), "--min-entity-count", "1", *pool]),
        ("build-link-graph", [str(db), str(dic), str(graph), *pool]),
        (
            "train-embedding",
            [
                str(db),
                str(dic),
                str(model),
                "--link-graph",
                str(graph),
                "--dim-size",
                str(dim),
                *pool,
            ],
        ),
        ("save-text", [str(model), str(out / "vectors.txt")]),
    ]
    rows = []
    for name, args in stages:
        row = run_stage(f"wikipedia2vec {name}", [exe, name, *args], out / f"{name}.log")
        print(_row_line(row), flush=True)
        rows.append(row)
    return rows


def wikirec_vectors(train_dir: Path) -> dict[str, np.ndarray]:
    """wikirec's book vectors by normalised title."""
    titles = json.loads((train_dir / "book_titles.json").read_text(encoding="utf-8"))
    vectors = np.load(train_dir / "book_vectors.npy")
    return {normalize_title(t): vectors[i] for i, t in enumerate(titles)}


def wikipedia2vec_vectors(path: Path, wanted: set[str]) -> dict[str, np.ndarray]:
    """wikipedia2vec's entity vectors (``save-text`` default format: ``ENTITY/Title``,
    a tab, the numbers) by normalised title, for the titles in ``wanted``."""
    found = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("ENTITY/"):
                continue
            name, _, numbers = line.partition("\t")
            title = normalize_title(name[len("ENTITY/") :])
            if title in wanted:
                found[title] = np.array(numbers.split(), dtype=np.float32)
    return found


def labels_of(entities: list[dict], field: str) -> list[frozenset]:
    """One set per book: its planted value (empty when it has none, e.g. no series)."""
    return [frozenset([e[field]]) if e.get(field) else frozenset() for e in entities]


def quality(entities: list[dict], vectors: dict[str, np.ndarray]) -> dict:
    """p@5 / p@10 of each planted field over the books in ``vectors`` (same code for
    both tools): {"<field> p@k": value, "<field> books": n}."""
    rows = [e for e in entities if e["key"] in vectors]
    matrix = np.stack([vectors[e["key"]] for e in rows]).astype(np.float32)
    neighbours, _ = cosine_top_k(matrix, k=max(KS))
    result: dict[str, float] = {"books": len(rows)}
    for field in FIELDS:
        scores, n = precision_at_k(neighbours, labels_of(rows, field), KS)
        for k in KS:
            result[f"{field} p@{k}"] = scores[k]
        result[f"{field} books"] = n
    return result


def _row_line(row: dict) -> str:
    return (
        f"  {row['stage']:<32} {row['seconds']:>9,.1f} s {row['rss_mb']:>8,.0f} MB"
        f" {row['tree_mb']:>8,.0f} MB   load {row['load_before']:.2f} -> {row['load_after']:.2f}"
    )


def print_report(result: dict) -> None:
    """The stage table, the totals and ratios, and the quality table."""
    print(f"\n{'stage':<34} {'seconds':>11} {'peak RSS':>11} {'tree RSS':>11}   load (1 min)")
    for row in result["stages"]:
        print(_row_line(row))
    totals = result["totals"]
    for tool, t in totals.items():
        print(
            f"  {tool + ' total':<32} {t['seconds']:>9,.1f} s {t['rss_mb']:>8,.0f} MB"
            f" {t['tree_mb']:>8,.0f} MB"
        )
    if "ratio" in result:
        r = result["ratio"]
        print(
            f"  {'wikirec / wikipedia2vec':<32} {r['seconds']:>11.3f} {r['rss_mb']:>11.3f}"
            f" {r['tree_mb']:>11.3f}"
        )
    print(
        f"\ncoverage of the {result['dump']['books']:,} book pages: "
        + ", ".join(f"{tool} {n:,}" for tool, n in result["coverage"].items())
    )
    q = result["quality"]
    tools = list(q)
    print(f"quality on the {q[tools[0]]['books']:,} books both have (same code for both):")
    print(
        f"  {'metric':<18}"
        + "".join(f"{t:>15}" for t in tools)
        + (f"{'ratio':>9}" if len(tools) == 2 else "")
    )
    for field in FIELDS:
        for k in KS:
            key = f"{field} p@{k}"
            values = [q[t][key] for t in tools]
            ratio = f"{values[0] / values[1]:>9.2f}" if len(tools) == 2 and values[1] else ""
            print(f"  {key:<18}" + "".join(f"{v:>15.3f}" for v in values) + ratio)
    print(
        "  (books with a value another book shares: "
        + ", ".join(f"{f} {q[tools[0]][f + ' books']:,}" for f in FIELDS)
        + ")"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="fraction of the reference shape (books and XML bytes)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pipeline", default="books", help="pipeline config (default: books)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, as wikirec run --set",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="processes for both tools (parse.workers, --pool-size)",
    )
    parser.add_argument("--wikipedia2vec", metavar="PATH", help="its executable")
    parser.add_argument(
        "--out", type=Path, default=None, help="work folder (default artifacts/bench/e2e-xSCALE)"
    )
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    exe = args.wikipedia2vec
    if exe is not None and not (shutil.which(exe) or Path(exe).is_file()):
        print(f"bench_e2e: --wikipedia2vec {exe}: no such executable", file=sys.stderr)
        return 2

    try:
        config = load_config(args.pipeline, args.set)
    except PipelineError as exc:
        print(f"bench_e2e: {exc}", file=sys.stderr)
        return 2
    config["parse"]["workers"] = args.workers
    out = args.out or BENCH / f"e2e-x{args.scale:g}"
    if out.exists() and any(out.iterdir()) and not (out / "wikirec").is_dir():
        print(f"bench_e2e: --out {out}: not empty and not a bench_e2e folder", file=sys.stderr)
        return 2
    if out.exists():
        shutil.rmtree(out)  # each run starts clean: no stage may be skipped or resumed
    (out / "wikirec").mkdir(parents=True)

    print(f"load average at start: {os.getloadavg()}; {os.cpu_count()} cores", flush=True)
    dump, truth = ensure_dump(args.scale, args.seed)
    counts = truth["counts"]
    dump_info = {
        "path": str(dump.relative_to(ROOT)),
        "file_mb": dump.stat().st_size / 1e6,
        "xml_mb": counts["xml_bytes"] / 1e6,
        "pages": counts["pages"],
        "redirects": counts["redirects"],
        "books": counts["books"],
    }
    print(
        f"dump {dump_info['path']}: {dump_info['file_mb']:,.0f} MB bz2, "
        f"{dump_info['xml_mb']:,.0f} MB XML, {dump_info['pages']:,} pages "
        f"({dump_info['redirects']:,} redirects, {dump_info['books']:,} books)",
        flush=True,
    )
    print(
        f"wikirec: pipeline {config['pipeline']['name']}, build {config['build']}, "
        f"train {config['train']}",
        flush=True,
    )

    stages = run_wikirec(dump, out / "wikirec", config)
    build = json.loads((out / "wikirec" / "build" / "build.json").read_text(encoding="utf-8"))
    vectors = {"wikirec": wikirec_vectors(out / "wikirec" / "train")}
    if exe is None:
        print(f"\nwikipedia2vec: not given (--wikipedia2vec PATH); to install it:\n{W2V_INSTALL}")
    else:
        (out / "wikipedia2vec").mkdir()
        stages += run_wikipedia2vec(
            exe, dump, out / "wikipedia2vec", int(config["train"]["dim"]), args.workers
        )
        wanted = {normalize_title(e["title"]) for e in truth["entities"]}
        vectors["wikipedia2vec"] = wikipedia2vec_vectors(
            out / "wikipedia2vec" / "vectors.txt", wanted
        )

    entities = [{**e, "key": normalize_title(e["title"])} for e in truth["entities"]]
    common = set.intersection(*(set(v) for v in vectors.values()))
    result = {
        "scale": args.scale,
        "workers": args.workers,
        "cpu_count": os.cpu_count(),
        "dump": dump_info,
        "build": {
            "books": build["books"]["kept"],
            "links": build["distinct_links"]["kept"],
            "pairs": build["pairs"]["kept"],
            "distinct_pairs": build["pairs"]["unique"],
        },
        "config": {"build": config["build"], "train": config["train"]},
        "stages": stages,
        "totals": {},
        "coverage": {tool: len(v) for tool, v in vectors.items()},
        "quality": {
            tool: quality(entities, {t: v[t] for t in common}) for tool, v in vectors.items()
        },
        "load_end": os.getloadavg(),
    }
    for tool in vectors:
        mine = [s for s in stages if s["stage"].startswith(tool + " ")]
        result["totals"][tool] = {
            "seconds": sum(s["seconds"] for s in mine),
            "rss_mb": max(s["rss_mb"] for s in mine),
            "tree_mb": max(s["tree_mb"] for s in mine),
        }
    if len(vectors) == 2:
        a, b = result["totals"]["wikirec"], result["totals"]["wikipedia2vec"]
        result["ratio"] = {key: a[key] / b[key] for key in ("seconds", "rss_mb", "tree_mb")}
    print_report(result)
    print(f"\nbuild: {result['build']}; load average at end: {result['load_end']}")
    print(f"wrote {write_json_atomic(result, out / 'e2e.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
