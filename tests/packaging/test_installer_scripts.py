"""The installer scripts that cannot run here (Windows, macOS) check their inputs in a dry run,
and the icon set made from the one SVG is what Windows and macOS read."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ICONS = ROOT / "resources" / "icons"


def test_the_windows_installer_dry_run_finds_its_script_icon_and_version():
    done = subprocess.run(
        [sys.executable, "installer/windows/build_installer.py", "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    from importlib.metadata import version

    assert report["version"] == version("desktop-registry")
    iss = Path(report["iss"]).read_text()
    assert "{group}\\{#AppName}" in iss and "{uninstallexe}" in iss  # Start menu + uninstaller


def test_the_macos_dry_run_passes_and_names_a_missing_input(tmp_path: Path):
    done = subprocess.run(
        ["bash", "installer/macos/build_app.sh", "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "inputs: ok" in done.stdout
    copy = tmp_path / "repo"
    for name in ("installer", "packaging.spec", "pyproject.toml", "desktop_registry"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    # resources/ left out: the .icns is missing
    done = subprocess.run(
        ["bash", "installer/macos/build_app.sh", "--dry-run"],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "resources/icons/desktop-registry.icns" in done.stderr


def test_the_ico_holds_every_windows_size_as_png():
    data = (ICONS / "desktop-registry.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    sizes = []
    for index in range(count):
        width, _h, _c, _r, _p, _b, length, offset = struct.unpack_from(
            "<BBBBHHII", data, 6 + 16 * index
        )
        assert data[offset : offset + 8] == b"\x89PNG\r\n\x1a\n"
        assert offset + length <= len(data)
        sizes.append(width or 256)
    assert {16, 32, 48, 256} <= set(sizes)


def test_the_icns_is_a_whole_apple_icon_family_with_retina_sizes():
    data = (ICONS / "desktop-registry.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack_from(">I", data, 4)[0] == len(data)
    kinds, offset = [], 8
    while offset < len(data):
        kind, length = data[offset : offset + 4], struct.unpack_from(">I", data, offset + 4)[0]
        assert data[offset + 8 : offset + 16] == b"\x89PNG\r\n\x1a\n"
        kinds.append(kind)
        offset += length
    assert offset == len(data)
    assert {b"ic07", b"ic08", b"ic09"} <= set(kinds)  # 128, 256, 512


def test_the_icon_script_renders_every_size_from_the_svg(tmp_path: Path, monkeypatch):
    sys.path.insert(0, str(ROOT / "installer"))
    import make_icons

    monkeypatch.setattr(make_icons, "ICONS", tmp_path)
    assert make_icons.main() == 0
    for size in make_icons.PNG_SIZES:
        png = (tmp_path / f"desktop-registry-{size}.png").read_bytes()
        assert struct.unpack(">II", png[16:24]) == (size, size)  # IHDR width, height
