"""The .deb: it builds from the bundle, its desktop entry validates, it declares the xcb
libraries Qt needs, `dpkg -i` installs a launcher that passes --self-test, `dpkg -r` removes
every file it installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.conftest import TEST_DEB_LEVEL
from tests.packaging.test_bundle import self_test
from tests.servers.ollama_emulator import OllamaEmulator, standard_models

ROOT = Path(__file__).resolve().parents[2]
INSTALLED = [
    Path("/usr/bin/desktop-registry"),
    Path("/opt/desktop-registry"),
    Path("/usr/share/applications/desktop-registry.desktop"),
    Path("/usr/share/icons/hicolor/256x256/apps/desktop-registry.png"),
    Path("/usr/share/icons/hicolor/scalable/apps/desktop-registry.svg"),
]


def field(deb: Path, name: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_the_deb_names_the_app_its_version_and_the_xcb_libraries_qt_needs(deb: Path):
    from importlib.metadata import version

    assert field(deb, "Package") == "desktop-registry"
    assert field(deb, "Version") == version("desktop-registry")
    depends = field(deb, "Depends")
    for library in ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxkbcommon-x11-0"):
        assert library in depends
    contents = subprocess.run(
        ["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    for path in INSTALLED:
        assert f".{path}" in contents, path


def test_the_deb_is_compressed_with_zstd(deb: Path):
    members = subprocess.run(["ar", "t", str(deb)], capture_output=True, text=True, check=True)
    assert "data.tar.zst" in members.stdout.split()


def test_an_unchanged_tree_reuses_its_deb_instead_of_packing_it_again(deb: Path, tmp_path: Path):
    sys.path.insert(0, str(ROOT / "installer" / "linux"))
    from build_deb import build_or_reuse_deb

    bundle = Path(str(deb)).parents[1] / "desktop-registry"
    copied, reused = build_or_reuse_deb(bundle, tmp_path, level=TEST_DEB_LEVEL)
    assert reused
    assert copied.read_bytes() == deb.read_bytes() and copied.parent == tmp_path


def test_a_release_deb_is_packed_at_zstd_19_and_a_faster_level_is_another_package(
    tmp_path: Path,
):
    """A stand-in bundle (a launcher script and a data file) packed by the release command
    line: its default is zstd -19; a -3 package of the same tree is cached apart from it."""
    sys.path.insert(0, str(ROOT / "installer" / "linux"))
    from build_deb import deb_key

    bundle = tmp_path / "key" / "desktop-registry"
    bundle.mkdir(parents=True)
    (bundle / "desktop-registry").write_text("#!/bin/sh\necho stand-in\n")
    (bundle / "desktop-registry").chmod(0o755)
    (bundle / "data.txt").write_text("registry " * 20000)
    report = {}
    for level in (None, TEST_DEB_LEVEL):
        extra = [] if level is None else ["--level", str(level)]
        done = subprocess.run(
            [sys.executable, "installer/linux/build_deb.py", "--bundle", str(bundle),
             "--out", str(tmp_path / f"out-{level}"), *extra],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        report[level] = json.loads(done.stdout.strip().splitlines()[-1])
    assert (report[None]["compression"], report[None]["level"]) == ("zstd", 19)
    assert report[TEST_DEB_LEVEL]["level"] == TEST_DEB_LEVEL
    assert not report[TEST_DEB_LEVEL]["reused"]  # not the -19 one handed back
    assert deb_key(bundle, "zstd") == deb_key(bundle, "zstd", 19) != deb_key(bundle, "zstd", 3)
    for level, made in report.items():
        members = subprocess.run(["ar", "t", made["deb"]], capture_output=True, text=True)
        assert "data.tar.zst" in members.stdout.split(), level


def test_the_desktop_entry_in_the_deb_validates(deb: Path, tmp_path: Path):
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path)], check=True)
    entry = tmp_path / "usr/share/applications/desktop-registry.desktop"
    checked = subprocess.run(
        ["desktop-file-validate", str(entry)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("dpkg") is None, reason="installs a package: root + dpkg"
)
def test_dpkg_installs_a_launcher_that_passes_its_self_test_and_removes_everything(deb: Path):
    subprocess.run(["dpkg", "-i", str(deb)], check=True, capture_output=True)
    try:
        for path in INSTALLED:
            assert path.exists(), path
        with OllamaEmulator(standard_models()) as emulator:
            code, summary, err = self_test(INSTALLED[0], "--ollama-url", emulator.url)
        assert code == 0, (summary.get("failed"), err[-3000:])
        assert summary["checks"]["ollama_sync"]["ok"]
    finally:
        removed = subprocess.run(["dpkg", "-r", "desktop-registry"], capture_output=True)
    assert removed.returncode == 0, removed.stderr
    for path in INSTALLED:
        assert not path.exists(), f"{path} was left behind"
    status = subprocess.run(
        ["dpkg-query", "-W", "-f=${db:Status-Status}", "desktop-registry"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert status.stdout.strip() in ("", "not-installed"), status.stdout
