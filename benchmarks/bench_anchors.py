"""Time to quality: the default model against the best anchor, side by side in one run.

    python benchmarks/bench_anchors.py BUILD [--anchor als] [--inputs out+in] [--seed 0]
                                       [--epochs 1,2,4,8,15,30]

On one held-out split of ``BUILD`` (``wikirec evaluate``'s, drawn by --seed):

- the anchor (``als`` by default, ``wikirec[anchors]``) as ``wikirec evaluate`` fits it:
  its grid tried on a validation slice, then fitted at the best setting; timed with the
  search (what a user pays to get it at its best) and its final fit alone;
- the default model (``link_mean``) trained from scratch for each of --epochs (each a
  run of its own, every one timed, after one untimed epoch that compiles the kernel),
  scored after each by the same code.

It prints each measure the evaluation's bar names (recall@50 and author, series and
category p@5) for both, and for each measure the first epoch count at which the
default model reaches the anchor's value, its seconds, and the ratio of those to the
anchor's seconds (search included and final fit alone). "not reached": no count of
--epochs reaches it. Results and commands: benchmarks/README.md, "Time to quality".
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from wikirec import evaluate as ev  # noqa: E402
from wikirec.built import load_training_data, parse_folder  # noqa: E402
from wikirec.recipes import DEFAULT_RECIPE  # noqa: E402

MEASURES = ("recall@50", "author p@5", "series p@5", "category p@5")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build")
    parser.add_argument("--anchor", default="als", choices=ev.ANCHORS)
    parser.add_argument("--inputs", default="out+in", choices=("out", "out+in"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", default="1,2,4,8,15,30")
    parser.add_argument("--work", default=str(ROOT / "artifacts" / "bench" / "anchors"))
    args = parser.parse_args()
    schedule = [int(e) for e in args.epochs.split(",")]

    data = load_training_data(args.build)
    split = ev.split_of(data, 0.1, 5, 100, args.seed)
    work = Path(args.work)
    split_dir = ev.write_split_build(data, split, work / "split")
    ctx = ev.Context(data, split, split_dir, work, dim=200, seed=args.seed, inputs=args.inputs)
    labels = ev.book_labels(data, parse_folder(data.summary, args.build))

    anchor = ev.measure(args.anchor, ctx, labels)
    chosen = {k: v for k, v in anchor["info"].items() if k != "validation"}
    started = time.perf_counter()
    ev.fit_anchor_at(ctx, args.anchor, _shares(args.anchor, chosen, ctx.dim))
    final_fit = time.perf_counter() - started
    search = anchor["train_seconds"]
    print(f"{args.anchor} ({args.inputs}), {chosen}: search and fit {search:.1f} s, "
          f"final fit alone {final_fit:.1f} s")  # fmt: skip
    print("  " + "  ".join(f"{m} {anchor[m]:.3f}" for m in MEASURES))

    ev.measure(DEFAULT_RECIPE, replace(ctx, epochs=1), labels)  # compiles the kernel: untimed
    trajectory = []
    for epochs in schedule:
        row = ev.measure(DEFAULT_RECIPE, replace(ctx, epochs=epochs), labels)
        trajectory.append((epochs, row))
        print(f"{DEFAULT_RECIPE}, {epochs} epochs: {row['train_seconds']:.1f} s  "
              + "  ".join(f"{m} {row[m]:.3f}" for m in MEASURES), flush=True)  # fmt: skip

    print(f"\ntime to reach {args.anchor}'s value (ratio: to its search and fit / final fit)")
    for measure in MEASURES:
        reached = [(e, r) for e, r in trajectory if r[measure] >= anchor[measure]]
        if not reached:
            print(f"  {measure}: not reached in {schedule[-1]} epochs")
            continue
        epochs, row = reached[0]
        seconds = row["train_seconds"]
        print(f"  {measure}: {epochs} epochs, {seconds:.1f} s "
              f"({seconds / search:.2f}x / {seconds / final_fit:.2f}x)")  # fmt: skip
    return 0


def _shares(anchor: str, chosen: dict, dim: int) -> dict:
    """The chosen setting as the grid states it (a scaled size as a share of ``dim``)."""
    params = {k: v for k, v in chosen.items() if k not in ("seed", "dim")}
    if anchor in ev.anchors.SCALED:
        key = ev.anchors.SCALED[anchor]
        params[key] = params[key] / dim
    return params


if __name__ == "__main__":
    sys.exit(main())
