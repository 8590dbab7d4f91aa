"""Where the bar stands, from `wikirec evaluate` reports: docs/quality.md's bar tables.

    python docs/bar.py NAME=REPORT.json[,REPORT.json...] [NAME=...]

For each data set (a name and one or more reports of the same build and split, their
rows pooled) and each column of the bar (recall@50 and author, series and category
p@5), the default model's row against the best other row: **met** when the default
model is ahead by more than the larger of the two rows' spreads (largest minus
smallest over the seeds; 0 for a method without seeds); a **tie met** when both are
within 0.03 of the column's ceiling (the score of a perfect neighbour list, computed
from the build's labels) and within each other's spread; else not met.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLUMNS = ("recall@50", "author p@5", "series p@5", "category p@5")
TIE = 0.03  # within this of the ceiling, a tie counts as met (issue 24)


def main(argv: list[str]) -> int:
    print("| data | " + " | ".join(COLUMNS) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    for given in argv:
        name, _, paths = given.partition("=")
        reports = [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths.split(",")]
        print(f"| {name} | " + " | ".join(verdict(reports, c) for c in COLUMNS) + " |")
    return 0


def verdict(reports: list[dict], column: str) -> str:
    from wikirec.evaluate import row_label

    default_name = reports[0]["params"]["default_model"]
    rows = [row for report in reports for row in report["rows"] if row.get(column) is not None]
    default = next(row for row in rows if row["method"] == default_name)
    others = [row for row in rows if row["method"] != default_name]
    best = max(others, key=lambda row: row[column])
    mine, theirs = default[column], best[column]
    spread = max(_spread(default, column), _spread(best, column))
    text = f"{mine:.3f} ±{_spread(default, column) / 2:.3f} against {row_label(best)} {theirs:.3f}"
    if mine - theirs > spread:
        return f"**met**: {text}"
    ceiling = column_ceiling(reports[0], column)
    if ceiling is not None and ceiling - max(mine, theirs) <= TIE and abs(mine - theirs) <= spread:
        return f"**tie met** (ceiling {ceiling:.3f}): {text}"
    return f"not met: {text}"


def _spread(row: dict, column: str) -> float:
    return row.get("spread", {}).get(column, 0.0)


def column_ceiling(report: dict, column: str) -> float | None:
    """The score of a perfect neighbour list for a ``FIELD p@k`` column (each book's k
    nearest all share its value, as far as enough books do); None for other columns."""
    import numpy as np

    from wikirec.built import load_training_data, parse_folder
    from wikirec.evaluate import book_labels, eligible_books

    field, _, k = column.partition(" p@")
    if not k:
        return None
    k = int(k)
    data_dir = report["params"]["data_dir"]
    data = load_training_data(data_dir)
    labels = book_labels(data, parse_folder(data.summary, data_dir))[field]
    holders: dict = {}
    for book, values in enumerate(labels):
        for value in values:
            holders.setdefault(value, []).append(book)
    scores = []
    for book in np.flatnonzero(eligible_books(labels)):
        sharing: set = set()
        for value in labels[book]:  # enough once k other books share a value
            sharing.update(holders[value][: k + 1])
            if len(sharing - {book}) >= k:
                break
        scores.append(min(len(sharing - {book}), k) / k)
    return float(np.mean(scores)) if scores else None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
