"""An installed copy (wheel, `pip install .`) carries every file of the top-level resources/
folder as desktop_registry/resources/, and finds its catalog and suites there.

setuptools' build_py output is exactly what bdist_wheel packs, so the test builds that (in half a
second, offline) from a copy of the build inputs, never touching the checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "desktop_registry", "resources")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The importable tree a wheel would install (site-packages), built from a clean copy."""
    root = tmp_path_factory.mktemp("packaging")
    source, lib = root / "source", root / "lib"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    done = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(lib)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return lib


def test_every_file_under_resources_ships_inside_the_package(built: Path) -> None:
    shipped = REPO / "resources"
    expected = sorted(
        p.relative_to(shipped).as_posix()
        for p in shipped.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    inside = built / "desktop_registry" / "resources"
    got = sorted(p.relative_to(inside).as_posix() for p in inside.rglob("*") if p.is_file())
    assert expected and got == expected
    assert "library/catalog.json" in got and "eval_suites/general_qa.prompt.yml" in got
    # same bytes, not placeholders
    catalog = "library/catalog.json"
    assert (inside / catalog).read_bytes() == (shipped / catalog).read_bytes()


def test_an_installed_copy_finds_its_catalog_and_suites(built: Path) -> None:
    # -S: no site-packages, so the editable install of the checkout cannot answer instead
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from desktop_registry.resources_path import resource, resources_dir;"
        "print(resources_dir());"
        "print(resource('library', 'catalog.json').is_file(),"
        " resource('eval_suites', 'json_extraction.prompt.yml').is_file())"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code, str(built)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    where, found = done.stdout.splitlines()
    assert Path(where) == built / "desktop_registry" / "resources"
    assert found == "True True"


def test_the_wheel_leaves_out_tests_and_benchmarks(built: Path) -> None:
    assert sorted(p.name for p in built.iterdir()) == ["desktop_registry"]
