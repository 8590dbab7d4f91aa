"""notebooks/recommendation.ipynb: stored without outputs, and runs end to end on a model
trained on the p15 records."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import nbformat

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "recommendation.ipynb"


def test_notebook_is_stored_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)


def _warm_cache(model_dir: Path) -> None:
    """The reductions the notebook draws, computed here and cached in the model folder
    (this process has compiled UMAP already when the plot tests ran first)."""
    from wikirec import plot
    from wikirec.trained import read_trained

    model = read_trained(model_dir)
    params = plot.ReduceParams(tsne_iter=250, umap_epochs=50)  # the notebook's FAST
    for kind, links, method in [
        ("books", "all", "umap"),
        ("books", "all", "tsne"),
        ("links", "categories", "umap"),
    ]:
        points = plot.select_points(model, kind, links)
        plot.reduce_points(model, points, replace(params, method=method))


def test_notebook_runs_end_to_end(p15_model, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    model_dir = tmp_path / "model"
    shutil.copytree(p15_model, model_dir, ignore=shutil.ignore_patterns("checkpoint"))
    _warm_cache(model_dir)
    monkeypatch.setenv("WIKIREC_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("WIKIREC_FAST", "1")
    monkeypatch.setenv("WIKIREC_OUTPUT_DIR", str(tmp_path / "files"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=240,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    outputs = [out for cell in notebook.cells for out in cell.get("outputs", [])]
    assert not [out for out in outputs if out["output_type"] == "error"]
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) >= 7  # 3 book maps, neighbours, 2 bar charts, the link map
    text = "".join(out.get("text", "") for out in outputs if out["output_type"] == "stream")
    assert "Books like 'The Son of Tarzan'" in text and "reused the cached reduction" in text
    assert (tmp_path / "files" / "plots" / "books-umap-genre.html").is_file()
    assert (tmp_path / "files" / "exports" / "vectors.parquet").is_file()
