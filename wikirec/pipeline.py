"""``wikirec run``: the stages in order, each in its own folder, redone only when needed.

A pipeline is a TOML file that gives every stage's parameters: a path, or the name of
one shipped with wikirec (``books``: ``pipelines/books.toml``, which the wheel carries
inside the package, so an installed ``wikirec run books`` finds it too). A relative
input path not found from the working folder is looked for beside the package
(:func:`find_input`): ``wikirec/data/...`` names the bundled data wherever wikirec is
installed. A run folder holds one sub-folder per stage and a
``manifest.json`` that records, per stage, the parameters, the fingerprint of its
inputs, the files it wrote (size and SHA-256), the library versions and the time
taken. A stage whose parameters and inputs are unchanged, and whose outputs are
still as recorded, is skipped; a stage that changed is redone with every stage after
it. An interrupted stage resumes at the granularity it offers (parse chunks,
training epochs).

Stages: ``parse`` (``wikirec parse``), ``build``, ``train``, then ``evaluate`` (the
metrics table of :func:`wikirec.evaluate.evaluate` on the run's build: by default
popularity, tfidf and the config's own model, to keep the demo quick), ``export`` (the
formats of :func:`wikirec.export.export`) and ``plot`` (:func:`wikirec.plot.make_plots`:
the maps, the report's example books starred, a neighbours map and bar chart of the
first example, the HTML map); each of the last three has ``enabled``.

A stage writes into ``RUN/.staging/NAME`` and the folder replaces ``RUN/NAME`` only
when the stage has finished, so a stage that fails (or is killed) leaves the previous
outputs and their manifest entry as they were; what it had done stays staged for the
next attempt with the same parameters to resume.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import importlib.metadata
import json
import math
import os
import shutil
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


from wikirec import __version__
from wikirec.cli import (
    MAX_HIGHLIGHTS,
    MAX_INT64,
    MAX_SEED,
    MAX_SEEDS,
    describe_os_error,
    fail,
)
from wikirec.errors import WikirecError, one_line
from wikirec.io import CannotRead, read_small_text, write_json_atomic
from wikirec.lock import LOCK, folder_lock
from wikirec.progress import write_line
from wikirec.titles import printable

PACKAGE = Path(__file__).resolve().parent


def _shipped(folder: str) -> Path:
    """A top-level folder of the project: inside the installed package, where the wheel
    carries it, else beside the package, in a source checkout."""
    inside = PACKAGE / folder
    return inside if inside.is_dir() else PACKAGE.parent / folder


PIPELINES = _shipped("pipelines")
NOTEBOOK = _shipped("notebooks") / "recommendation.ipynb"
STAGE_ORDER = ("parse", "build", "train", "evaluate", "export", "plot")
MANIFEST = "manifest.json"
STAGING = ".staging"
SCREEN_WIDTH = 100  # the run's summary: what fits a terminal beside an editor


class PipelineError(WikirecError):
    """Bad pipeline, bad option or bad run folder: the message is one line."""


# --------------------------------------------------------------------------- configs


def train_options(config: dict) -> dict:
    """The ``[train]`` table as keywords of :func:`wikirec.train.train`; a key left unset
    (None) takes the model's recipe, or the run default."""
    return {k: v for k, v in config["train"].items() if v is not None}


def _train_defaults() -> dict:
    """``[train]``: the model, its recipe's keys unset (None: the recipe's value), and
    the run settings with their defaults, all from :mod:`wikirec.recipes`."""
    from wikirec.recipes import DEFAULT_RECIPE, RECIPE_KEYS, run_defaults

    return {"model": DEFAULT_RECIPE, **dict.fromkeys(RECIPE_KEYS), **run_defaults()}


def _key_type(section: str, key: str, default) -> type:
    """The type a pipeline value must have: its default's, or for an unset recipe key,
    the type of that key in the recipes."""
    if default is not None:
        return type(default)
    from wikirec.recipes import DEFAULT_RECIPE, RECIPES

    return type(getattr(RECIPES[DEFAULT_RECIPE], key))


def _defaults() -> dict[str, dict]:
    """Every stage's parameters with their defaults: the reference recipe for books.
    A pipeline file may set any of these and nothing else."""
    from wikirec.build import DEFAULT_MIN_LINK_COUNT

    return {
        "pipeline": {"name": "", "description": ""},
        "parse": {"dumps": [], "templates": [], "workers": 0, "limit": 0, "chunk_mb": 16.0,
                  "scheduler": ""},
        "build": {"min_link_count": DEFAULT_MIN_LINK_COUNT, "stop_links": "",
                  "keep_case": False, "links": "wikilinks", "inlinks": True,
                  "category_links": True},
        "train": _train_defaults(),
        "evaluate": {"enabled": True, "models": [], "epochs": 0, "seed": 0, "seeds": 1,
                     "optimizer": "", "max_books": 0},
        "export": {"enabled": True, "formats": ["projector", "word2vec", "parquet"]},
        "plot": {"enabled": True, "methods": ["umap"], "color": "genre", "top": 10,
                 "highlight_top": 5, "html": True},
        "report": {"examples": [], "k": 5},
    }  # fmt: skip


def find_pipeline(name: str) -> Path:
    """A pipeline by path (a ``.toml`` file) or by name (``books``: the shipped
    ``pipelines/books.toml``)."""
    path = Path(name)
    if path.suffix == ".toml" and os.path.lexists(path):
        return path  # read_small_text says what is wrong with it, if anything
    candidate = PIPELINES / f"{name}.toml"
    if candidate.is_file():
        return candidate
    known = ", ".join(sorted(p.stem for p in PIPELINES.glob("*.toml")))
    raise PipelineError(f"no pipeline {name!r} (known: {known}; or give a .toml path)")


PIPELINE_MAX_BYTES = 2**20  # the shipped pipelines are under 4 KB


def load_config(name: str, overrides: list[str] = ()) -> dict[str, dict]:
    """The pipeline's parameters over the defaults, then ``--set section.key=value``
    overrides; an unknown key or a wrong type is one line naming the key."""
    path = find_pipeline(name)
    try:
        raw = tomllib.loads(read_small_text(path, PIPELINE_MAX_BYTES, "pipeline file"))
    except CannotRead as exc:
        raise PipelineError(str(exc)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise PipelineError(f"{path}: not valid TOML ({one_line(exc, 200)})") from exc
    except RecursionError as exc:
        raise PipelineError(f"{path}: not a pipeline file (nested too deeply)") from exc
    config = _defaults()
    _merge(config, raw, str(path))
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise PipelineError(f"--set {item!r}: expected section.key=value, e.g. train.dim=64")
        section, _, name_ = key.strip().partition(".")
        _merge(config, {section: {name_: _parse_value(value.strip())}}, "--set")
    config["pipeline"]["name"] = config["pipeline"]["name"].strip() or path.stem
    _check_run_name(config["pipeline"]["name"], str(path))
    return config


def _check_run_name(name: str, where: str) -> None:
    """``pipeline.name`` names the default run folder, ``artifacts/NAME``: a plain folder
    name, so that a pipeline file cannot point a run at a folder elsewhere (only
    ``--out`` can)."""
    if name in (".", "..") or any(c in name for c in "/\\\0:"):
        raise PipelineError(
            f"{where}: pipeline.name {name[:80]!r} must be a plain folder name "
            "(the run folder is artifacts/NAME; --out puts a run elsewhere)"
        )


def _parse_value(text: str):
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word is a string


def _merge(config: dict, raw: dict, where: str) -> None:
    for section, values in raw.items():
        if section not in config:
            raise PipelineError(
                f"{where}: unknown section [{section}] (known: {', '.join(config)})"
            )
        if not isinstance(values, dict):
            raise PipelineError(f"{where}: [{section}] must be a table")
        for key, value in values.items():
            if key not in config[section]:
                raise PipelineError(
                    f"{where}: unknown key {section}.{key} (known: {', '.join(config[section])})"
                )
            expected = _key_type(section, key, config[section][key])
            config[section][key] = _checked(value, expected, f"{section}.{key}", where)


def _checked(value, expected: type, key: str, where: str):
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is list and isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise PipelineError(
            f"{where}: {key} must be {expected.__name__}, not {type(value).__name__} "
            f"({printable(repr(value))[:60]})"
        )
    if expected is list and not all(isinstance(item, str) for item in value):
        bad = next(item for item in value if not isinstance(item, str))
        raise PipelineError(f"{where}: {key} must be a list of strings, not one holding "
                            f"{type(bad).__name__} ({printable(repr(bad))[:60]})")  # fmt: skip
    # No parameter is negative (0 means "the default" where one is), and TOML can
    # write nan and inf.
    if expected in (int, float) and not (math.isfinite(value) and value >= 0):
        raise PipelineError(f"{where}: {key} must be a finite number, 0 or more, not {value!r}")
    high = _maxima().get(key, MAX_INT64)
    if expected in (int, float) and value > high:
        raise PipelineError(f"{where}: {key} must be at most {high:,}, not {value:,}")
    return value


def _maxima() -> dict[str, int]:
    """The upper bounds of the pipeline's numbers (any other: int64's)."""
    from wikirec.recipes import LIMITS

    return {**{f"train.{name}": high for name, high in LIMITS.items()},
            "evaluate.epochs": LIMITS["epochs"], "evaluate.seed": MAX_SEED,
            "evaluate.seeds": MAX_SEEDS, "plot.highlight_top": MAX_HIGHLIGHTS}  # fmt: skip


def find_input(path: str) -> str:
    """``path`` as given when it exists; else a relative path is looked for beside the
    wikirec package, so that ``wikirec/data/...`` names the bundled data wherever
    wikirec is installed and whatever the working folder. Returned as given when
    found nowhere (the caller says so)."""
    if Path(path).exists() or Path(path).is_absolute():
        return path
    bundled = PACKAGE.parent / path
    return str(bundled) if bundled.exists() else path


# --------------------------------------------------------------------------- manifest


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_outputs(folder: Path) -> dict[str, dict]:
    """Size and SHA-256 of every file a stage wrote (checkpoints and chunk parts,
    which exist to resume, are left out)."""
    files = {}
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        resumable = parts[0] == "chunks" or "checkpoint" in parts
        if path.is_file() and not resumable and not parts[0].startswith("."):
            relative = "/".join(parts)
            files[relative] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
    return files


def input_fingerprint(paths: list[Path]) -> str:
    """Dumps are fingerprinted by path, size and modification time (hashing 100 GB
    to decide whether to skip a stage would cost more than the stage)."""
    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            stat = file.stat()
            digest.update(f"{file.resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    names = [
        "wikirec",
        "mwparserfromhell",
        "numpy",
        "pandas",
        "pyarrow",
        "tensorflow-cpu",
        "tensorflow",
        "keras",
        "scikit-learn",
        "umap-learn",
    ]
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


MANIFEST_MAX_BYTES = 64 * 2**20  # a run's manifest is kilobytes; the parse's a few MB


def read_manifest(run_dir: Path) -> dict:
    """The run folder's manifest, or a new one where the folder has none. Anything but
    a regular file of the shape wikirec writes is one line, and nothing is changed."""
    path = run_dir / MANIFEST
    if not os.path.lexists(path):
        return {"version": __version__, "stages": {}}
    if path.is_symlink():
        raise PipelineError(f"{path}: not a regular file; use another --out (nothing was changed)")
    try:
        manifest = json.loads(read_small_text(path, MANIFEST_MAX_BYTES, "wikirec manifest"))
    except CannotRead as exc:
        raise PipelineError(f"{exc}; use another --out (nothing was changed)") from exc
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else one_line(exc, 120)
        raise PipelineError(f"{path}: unreadable manifest ({reason})") from exc
    if not isinstance(manifest, dict) or "version" not in manifest:
        raise PipelineError(f"{path}: not a wikirec manifest; use another --out")
    if manifest.get("version") != __version__:
        raise PipelineError(
            f"{run_dir}: made by wikirec {str(manifest.get('version'))[:40]}, this is "
            f"{__version__}; use another --out (nothing here was changed)"
        )
    _check_manifest_shape(manifest, path)
    return manifest


def _check_manifest_shape(manifest: dict, path: Path) -> None:
    """Every part the run reads back, of the type it was written with."""
    stages, pending = manifest.get("stages"), manifest.get("pending", {})
    ok = isinstance(stages, dict) and isinstance(pending, dict)
    ok = ok and all(isinstance(v, str) for v in pending.values())
    for entry in stages.values() if ok else ():
        ok = ok and isinstance(entry, dict) and isinstance(entry.get("key"), str)
        outputs = entry.get("outputs") if ok else None
        ok = ok and isinstance(outputs, dict) and all(
            isinstance(o, dict) and isinstance(o.get("bytes"), int) for o in outputs.values()
        )
        ok = ok and isinstance(entry.get("summary"), dict)
    if not ok:
        raise PipelineError(
            f"{path}: a manifest of the wrong shape (edited by hand?); use another --out "
            "or delete it to redo every stage"
        )


def claim_run_folder(run_dir: Path) -> None:
    """Create ``run_dir``, or accept it when it is empty or a wikirec run folder (it has
    a manifest). Anything else is refused, untouched: a stage replaces its folder
    whole, so a run in a folder of other files could remove some of them."""
    if run_dir.exists() and not run_dir.is_dir():
        raise PipelineError(f"{run_dir}: not a folder; give --out a new or empty folder")
    if os.path.lexists(run_dir / MANIFEST):
        read_manifest(run_dir)  # a folder of another version or shape is refused untouched
    elif run_dir.is_dir():
        found = sorted(printable(p.name)[:40] for p in run_dir.iterdir() if p.name != LOCK)
        if found:
            raise PipelineError(
                f"{run_dir}: not a wikirec run folder (no {MANIFEST}) and not empty "
                f"({', '.join(found[:3])}{', ...' if len(found) > 3 else ''}); "
                "give --out a new or empty folder (nothing was changed)"
            )
    run_dir.mkdir(parents=True, exist_ok=True)


def _refuse_foreign_stage_folders(run_dir: Path, manifest: dict, names: list[str]) -> None:
    """A stage folder the manifest does not know of was not written by wikirec: a
    stage would replace it whole, so the run stops before any stage, untouched."""
    known = set(manifest["stages"]) | set(manifest.get("pending", {}))
    for name in names:
        if os.path.lexists(run_dir / name) and name not in known:
            raise PipelineError(
                f"{run_dir / name}: not written by wikirec ({MANIFEST} does not record it); "
                "move it away or use another --out (nothing was changed)"
            )


# --------------------------------------------------------------------------- stages


@dataclass
class Stage:
    name: str
    inputs: Callable[[Path, dict], list[Path]]  # what the stage reads
    # (run_dir, config, state) -> summary; writes into state["out"] (the staging folder)
    run: Callable[[Path, dict, dict], dict]


def _stage_parse(run_dir: Path, config: dict, state: dict) -> dict:
    from wikirec.parse import BOOK_TEMPLATES, parse_dumps

    params = config["parse"]
    # Only passed when set, so that configs without a scheduler run on any parse_dumps.
    extra = {"scheduler": params["scheduler"]} if params["scheduler"] else {}
    summary = parse_dumps(
        params["dumps"], state["out"], templates=params["templates"] or BOOK_TEMPLATES,
        workers=params["workers"] or None, limit=params["limit"] or None,
        chunk_bytes=max(int(params["chunk_mb"] * 2**20), 1 << 16), progress=state["progress"],
        on_error=lambda line: fail("run", f"parse: {line}"), **extra,
    )  # fmt: skip
    if summary.pages == 0:
        raise PipelineError(f"parse: nothing usable was read from {params['dumps']}")
    return {"line": summary.line(), "kept": summary.kept, "redirects": summary.redirects}


def _stage_build(run_dir: Path, config: dict, state: dict) -> dict:
    from wikirec.build import build_training_data, summary_lines

    params = config["build"]
    summary = build_training_data(
        run_dir / "parse", state["out"], min_link_count=params["min_link_count"],
        stop_links=params["stop_links"] or None, keep_case=params["keep_case"],
        progress=state["progress"], links=params["links"], inlinks=params["inlinks"],
        category_links=params["category_links"],
    )  # fmt: skip
    return {"lines": summary_lines(summary)}


HELDOUT = "heldout"  # RUN/train/heldout: the model the evaluation measures (_stage_train)


def _stage_train(run_dir: Path, config: dict, state: dict) -> dict:
    """The [train] model on the build. When the evaluation measures that model too, it
    is first trained on the training part of the evaluation's split (RUN/train/heldout,
    which the evaluation then reads instead of training it again: it never saw the
    held-out pairs), and the delivered model continues it on every pair for
    FINISH_EPOCHS epochs: one training instead of two."""
    from wikirec.recipes import FINISH_EPOCHS
    from wikirec.train import train

    params = train_options(config)
    out = state["out"]
    resume = state["resume"] and (out / "checkpoint").is_dir()
    extra, found = {}, {}
    if _trains_heldout_first(config):
        from wikirec.evaluate import train_heldout

        model = config["train"]["model"]
        heldout = train_heldout(
            run_dir / "build", out / HELDOUT, seed=config["evaluate"]["seed"],
            resume=state["resume"], progress=state["progress"], model=model,
            **_method_options(config)[model],
        )  # fmt: skip
        extra = {"epochs": min(FINISH_EPOCHS, heldout["epochs_run"]),
                 "init_from": out / HELDOUT / "model"}  # fmt: skip
        found = {"heldout_epochs": heldout["epochs_run"],
                 "heldout_seconds": heldout["total_seconds"]}  # fmt: skip
    summary = train(
        run_dir / "build",
        out,
        resume=resume,
        overwrite=not resume,
        progress=state["progress"],
        **{**params, **extra},
    )
    return {
        "epochs_run": summary["epochs_run"],
        "loss": summary["loss"],
        "seconds": summary["total_seconds"],
        **found,
    }


def _check_optimizer(name: str) -> None:
    from wikirec.recipes import OPTIMIZERS

    if name and name not in OPTIMIZERS:
        raise PipelineError(
            f"evaluate.optimizer {name[:40]!r}: expected one of {', '.join(OPTIMIZERS)} "
            "(or \"\": each recipe's own)"
        )


def _trains_heldout_first(config: dict) -> bool:
    """Whether the train stage trains the evaluation's model first: the evaluation runs
    and measures the [train] model, at its own epochs."""
    return (
        _enabled(config, "evaluate")
        and config["train"]["model"] in evaluate_methods(config)
        and not config["evaluate"]["epochs"]
    )


def _method_options(config: dict) -> dict[str, dict]:
    """The evaluation's options by method: the pipeline's own model as [train] sets it
    (but its seed: the evaluation's), the other trained ones by their recipe but for
    ``evaluate.optimizer``, and the category weight, which the baselines weigh alike."""
    from wikirec.evaluate import weigh_categories_alike
    from wikirec.recipes import RECIPE_NAMES

    model = config["train"]["model"]
    optimizer = config["evaluate"]["optimizer"]
    others = {name: {"optimizer": optimizer} for name in RECIPE_NAMES if optimizer}
    own = {k: v for k, v in train_options(config).items() if k not in ("model", "seed")}
    return weigh_categories_alike({**others, model: own})


def evaluate_methods(config: dict) -> list[str]:
    """``evaluate.models``, or by default two cheap baselines and the config's model
    (lsa, doc2vec and the other recipes take longer; name them to add them)."""
    from wikirec.evaluate import METHODS

    chosen = config["evaluate"]["models"] or ["popularity", "tfidf", config["train"]["model"]]
    unknown = [m for m in chosen if m not in METHODS]
    if unknown and config["evaluate"]["models"]:
        raise PipelineError(
            f"evaluate.models: unknown {unknown[0]!r} (known: {', '.join(METHODS)})"
        )
    return [m for m in dict.fromkeys(chosen) if m in METHODS]


def _stage_evaluate(run_dir: Path, config: dict, state: dict) -> dict:
    from wikirec.evaluate import SUMMARY_COLUMNS, evaluate, leaders_line, report_table, write_report

    params = config["evaluate"]
    heldout = run_dir / "train" / HELDOUT
    report = evaluate(
        run_dir / "build", methods=evaluate_methods(config), seed=params["seed"],
        articles_dir=run_dir / "parse", progress=state["progress"],
        epochs=params["epochs"] or None, seeds=params["seeds"],
        options=_method_options(config), max_books=params["max_books"] or None,
        heldout={config["train"]["model"]: heldout} if heldout.is_dir() else None,
    )  # fmt: skip
    markdown, _ = write_report(report, state["out"] / "report.md")
    table = report_table(report, columns=SUMMARY_COLUMNS).splitlines()
    return {"lines": [*table, leaders_line(report)], "report": markdown.name}


EXPORT_NAMES = {
    "projector": "projector",
    "tensorboard": "tensorboard",
    "word2vec": "vectors.word2vec.txt",
    "parquet": "vectors.parquet",
}


def _stage_export(run_dir: Path, config: dict, state: dict) -> dict:
    from wikirec.export import FORMATS, export
    from wikirec.trained import read_trained

    formats = config["export"]["formats"]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise PipelineError(f"export.formats: unknown {unknown[0]!r} (known: {', '.join(FORMATS)})")
    trained = read_trained(run_dir / "train", run_dir / "build")
    written = {}
    for fmt in formats:
        export(trained, fmt, state["out"] / EXPORT_NAMES[fmt])
        written[fmt] = EXPORT_NAMES[fmt]
    return {"files": written}


def _stage_plot(run_dir: Path, config: dict, state: dict) -> dict:
    from wikirec.plot import PlotOptions, make_plots
    from wikirec.trained import BOOKS, read_trained

    params = config["plot"]
    trained = read_trained(run_dir / "train", run_dir / "build")
    examples = []
    for title in config["report"]["examples"]:
        try:
            trained.find(title)
            examples.append(title)
        except (KeyError, ValueError):  # not a book of this run: nothing to draw for it
            continue
    options = PlotOptions(
        methods=tuple(params["methods"]), color_by=params["color"] or None, top=params["top"],
        highlight=examples, highlight_top=params["highlight_top"], neighbours=examples[:1],
        bars=examples[:1], k=max(1, min(10, len(trained.titles[BOOKS]) - 1)),
        html=params["html"],
    )  # fmt: skip
    manifest = make_plots(trained, state["out"], options, progress=state["progress"])
    return {"files": manifest["files"], "notes": manifest["notes"]}


STAGES: dict[str, Stage] = {
    "parse": Stage(
        "parse", lambda run, cfg: [Path(p) for p in cfg["parse"]["dumps"]], _stage_parse
    ),
    "build": Stage("build", lambda run, cfg: [run / "parse"], _stage_build),
    "train": Stage("train", lambda run, cfg: [run / "build"], _stage_train),
    "evaluate": Stage(
        "evaluate", lambda run, cfg: [run / "parse", run / "build", run / "train"], _stage_evaluate
    ),
    "export": Stage("export", lambda run, cfg: [run / "build", run / "train"], _stage_export),
    "plot": Stage("plot", lambda run, cfg: [run / "build", run / "train"], _stage_plot),
}


def _upstream_fingerprint(stage: Stage, run_dir: Path, config: dict, manifest: dict) -> str:
    """Fingerprint of what the stage reads: dumps by path/size/mtime; a stage folder by
    the hashes its manifest entry recorded."""
    digest = hashlib.sha256()
    for path in stage.inputs(run_dir, config):
        entry = manifest["stages"].get(path.name) if path.parent == run_dir else None
        if entry is not None:
            digest.update(json.dumps(entry["outputs"], sort_keys=True).encode())
        else:
            digest.update(input_fingerprint([path]).encode())
    return digest.hexdigest()


def _stage_params(name: str, config: dict) -> dict:
    """What a stage's result depends on besides its inputs: its section, and for the
    stages that name report titles or train a model, those too."""
    params = dict(config[name])
    if name == "train" and _trains_heldout_first(config):
        from wikirec.recipes import FINISH_EPOCHS

        params["heldout"] = {"evaluate_seed": config["evaluate"]["seed"],
                             "finish_epochs": FINISH_EPOCHS}  # fmt: skip
    if name == "evaluate":
        params["methods"] = evaluate_methods(config)
        params["train"] = train_options(config)
    if name == "plot":
        params["examples"] = config["report"]["examples"]
    return params


def _stage_key(name: str, config: dict, upstream: str) -> str:
    params = {"params": _stage_params(name, config), "upstream": upstream,
              "version": __version__}  # fmt: skip
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def _still_valid(entry: dict | None, key: str, folder: Path) -> bool:
    if entry is None or entry.get("key") != key:
        return False
    for relative, recorded in entry["outputs"].items():
        path = folder / relative
        if not path.is_file() or path.stat().st_size != recorded["bytes"]:
            return False
    return True


# --------------------------------------------------------------------------- run


def run_pipeline(
    pipeline: str,
    out: str | os.PathLike | None = None,
    dumps: list[str] | None = None,
    start: str | None = None,
    until: str | None = None,
    overrides: list[str] = (),
    progress: bool = False,
    log: Callable[[str], None] = lambda line: None,
) -> dict:
    """Run a pipeline's stages into ``out`` (default ``artifacts/<pipeline>``), skipping
    the ones whose inputs and parameters are unchanged. ``start`` forces that stage and
    the ones after it; ``until`` stops after that stage. Returns the manifest."""
    config = load_config(pipeline, list(overrides))
    if dumps:
        config["parse"]["dumps"] = list(dumps)
    names = [n for n in STAGE_ORDER if n in STAGES]
    for option, value in (("--from", start), ("--until", until)):
        if value is not None and value not in names:
            raise PipelineError(f"{option} {value}: no such stage (stages: {', '.join(names)})")
    if not config["parse"]["dumps"]:
        raise PipelineError(f"{pipeline}: no dump given (--dump PATH or parse.dumps)")
    _check_optimizer(config["evaluate"]["optimizer"])
    config["parse"]["dumps"] = [find_input(dump) for dump in config["parse"]["dumps"]]
    if config["build"]["stop_links"]:
        config["build"]["stop_links"] = find_input(config["build"]["stop_links"])
    for dump in config["parse"]["dumps"]:
        if not (Path(dump).is_file() or Path(dump).is_dir()):
            from wikirec.dump import what_is_there

            raise PipelineError(f"{dump}: {what_is_there(Path(dump))}")
    run_dir = Path(out or Path("artifacts") / config["pipeline"]["name"])
    claim_run_folder(run_dir)
    with folder_lock(run_dir, log):
        return _run_stages(run_dir, config, names, start, until, progress, log)


def _run_stages(
    run_dir: Path, config: dict, names: list[str], start: str | None, until: str | None,
    progress: bool, log: Callable[[str], None],
) -> dict:  # fmt: skip
    manifest = read_manifest(run_dir)
    manifest["pipeline"] = config["pipeline"]["name"]
    stop_at = names.index(until) if until else len(names) - 1
    _refuse_foreign_stage_folders(run_dir, manifest, names[: stop_at + 1])
    forced = False
    for name in names[: stop_at + 1]:
        stage = STAGES[name]
        if name != "parse" and not _enabled(config, name):
            continue
        forced = forced or name == start
        upstream = _upstream_fingerprint(stage, run_dir, config, manifest)
        key = _stage_key(name, config, upstream)
        entry = manifest["stages"].get(name)
        if not forced and _still_valid(entry, key, run_dir / name):
            log(f"{name}: unchanged, skipped ({run_dir / name})")
            continue
        forced = True  # everything after a redone stage is redone too
        log(f"{name}: running ...")
        # Started before with the same key and not finished: the stage may resume from
        # what it left staged; anything else staged is another attempt's and goes.
        resume = manifest.get("pending", {}).get(name) == key
        staging = run_dir / STAGING / name
        if not resume:
            shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True, exist_ok=True)
        state = {"progress": progress, "resume": resume, "out": staging}
        manifest.setdefault("pending", {})[name] = key
        write_json_atomic(manifest, run_dir / MANIFEST)
        started = time.perf_counter()
        try:
            summary = stage.run(run_dir, config, state)
        except PipelineError:
            raise
        except (ValueError, OSError) as exc:
            # One line naming the stage; RUN/NAME and its manifest entry are untouched.
            message = " ".join(str(exc).split())
            raise PipelineError(f"{name} failed, earlier outputs kept: {message}") from exc
        _commit(staging, run_dir / name)
        manifest["stages"][name] = {
            "key": key,
            "params": _stage_params(name, config),
            "inputs": upstream,
            "outputs": describe_outputs(run_dir / name),
            "versions": _versions(),
            "seconds": round(time.perf_counter() - started, 3),
            "summary": summary,
        }
        manifest["pending"].pop(name, None)
        write_json_atomic(manifest, run_dir / MANIFEST)
        log(f"{name}: done in {manifest['stages'][name]['seconds']:.1f} s")
    manifest["config"] = copy.deepcopy(config)
    manifest["run_dir"] = str(run_dir)
    write_json_atomic(manifest, run_dir / MANIFEST)
    return manifest


def _commit(staging: Path, final: Path) -> None:
    """Put a finished stage's folder in place of the previous one: two renames on the
    same file system, the previous folder removed only once the new one is in place."""
    old = staging.parent / f"{final.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    shutil.rmtree(old, ignore_errors=True)


def _enabled(config: dict, name: str) -> bool:
    return bool(config.get(name, {}).get("enabled", True))


# --------------------------------------------------------------------------- CLI


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a pipeline: parse, build, train, evaluate, export, plot",
        description="Run a pipeline's stages into a run folder, redoing only what changed.",
    )
    parser.add_argument("pipeline", help="a pipeline name (books, films, ...) or a .toml path")
    parser.add_argument(
        "--dump",
        action="append",
        metavar="PATH",
        help="dump file or folder (repeatable; default: the pipeline's)",
    )
    parser.add_argument("--out", metavar="DIR", help="run folder (default: artifacts/NAME)")
    parser.add_argument("--from", dest="start", metavar="STAGE", help="redo from this stage")
    parser.add_argument("--until", metavar="STAGE", help="stop after this stage")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter, e.g. train.dim=64",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    def log(line: str) -> None:
        write_line(f"wikirec run: {line}")

    try:
        manifest = run_pipeline(
            args.pipeline, out=args.out, dumps=args.dump, start=args.start, until=args.until,
            overrides=args.overrides, progress=not args.quiet, log=log,
        )  # fmt: skip
    except ValueError as exc:  # a stage's own error is named by the stage
        return fail("run", exc)
    except OSError as exc:
        return fail("run", describe_os_error(exc))
    for line in report_lines(manifest, Path(manifest["run_dir"])):
        print(line)
    return 0


def _fit(line: str, width: int = SCREEN_WIDTH) -> str:
    """``line`` wrapped to ``width`` columns, its continuation lines indented; words
    (and paths) are never broken."""
    return textwrap.fill(line, width, subsequent_indent="    ", break_long_words=False,
                         break_on_hyphens=False)  # fmt: skip


def report_lines(manifest: dict, run_dir: Path) -> list[str]:
    """What a run produced, for people, in lines of at most ``SCREEN_WIDTH`` columns:
    counts, the metrics table, where the plots, exports and notebook are, and example
    recommendations for the titles the pipeline names under ``[report]``."""
    # A stage turned off since an earlier run keeps its entry (and files) but is not shown.
    stages = {n: e for n, e in manifest["stages"].items() if _enabled(manifest["config"], n)}
    lines = [f"run folder: {run_dir}"]
    if "parse" in stages:
        lines.append(f"parse: {stages['parse']['summary']['line']}")
    if "build" in stages:
        books, _links, pairs = stages["build"]["summary"]["lines"][:3]  # links: in build.json
        lines += [f"build: {books}", f"build: {pairs}"]
    if "train" in stages:
        train = stages["train"]["summary"]
        first = ""
        if "heldout_epochs" in train:
            first = (f"{train['heldout_epochs']} epochs on the evaluation's training split "
                     f"({train['heldout_seconds']:.1f} s), then ")  # fmt: skip
        lines.append(
            f"train: {first}{train['epochs_run']} epochs on every pair, final loss "
            f"{train['loss'][-1]:.4f}, {train['seconds']:.1f} s"
        )
    if "evaluate" in stages:
        summary = stages["evaluate"]["summary"]
        lines.append(f"evaluate (higher is better, * = best; every column in "
                     f"{run_dir / 'evaluate' / summary['report']}):")  # fmt: skip
        lines.extend(f"  {line}" for line in summary["lines"])
    if "export" in stages:
        names = ", ".join(stages["export"]["summary"]["files"].values())
        lines.append(f"export: {names} in {run_dir / 'export'}")
    if "plot" in stages:
        files = stages["plot"]["summary"]["files"]
        lines.append(f"plot: {len(files)} files in {run_dir / 'plot'}")
        lines.extend(f"plot: {note}" for note in stages["plot"]["summary"]["notes"])
    if "train" in stages:
        lines.append(  # jupyterlab is not a dependency: say what to install first
            f"notebook: WIKIREC_MODEL_DIR={run_dir / 'train'} jupyter lab "
            f"{os.path.relpath(NOTEBOOK)}   (after: pip install jupyterlab)"
        )
    lines.extend(_example_lines(manifest, run_dir))
    return [_fit(line) for line in lines]


def _example_lines(manifest: dict, run_dir: Path) -> list[str]:
    if "train" not in manifest["stages"]:
        return []
    from wikirec.recommend import Recommender, RecommendError

    report = manifest["config"]["report"]
    recommender = Recommender.load(run_dir / "train")
    lines = []
    for title in report["examples"]:
        try:
            found = recommender.most_similar(title, topn=report["k"])
        except RecommendError as exc:
            lines.append(f"like {title!r}: {exc}")
            continue
        shown = ", ".join(f"{name} ({score:.2f})" for name, score in found)
        lines.append(f"books like {title!r}: {shown}")
    return lines
