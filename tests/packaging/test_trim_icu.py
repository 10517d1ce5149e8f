"""installer/trim_icu.py: Qt's ICU data library cut to root and English still serves Qt (collation,
case mapping), is skipped with a message when icupkg is absent, and the bundle carries the cut one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "installer"))
from trim_icu import TOOLS, embedded_data, list_items, removable  # noqa: E402

needs_tools = pytest.mark.skipif(
    not sys.platform.startswith("linux") or any(shutil.which(t) is None for t in TOOLS),
    reason="trimming needs Linux and icupkg, genccode (apt-get install icu-devtools) and ld",
)
# Run against the library given in LD_LIBRARY_PATH (it wins over Qt's RUNPATH): what ICU
# answers to Qt, and which libicudata the process really mapped.
QT_PROBE = """
import functools, json
from PySide6.QtCore import QCollator, QLocale
english = QCollator(QLocale("en_US"))
english.setNumericMode(True)
german = QCollator(QLocale("de_DE"))
words = ["file10", "banana", "Apple", "file9", "apple"]
maps = [line.split()[-1] for line in open("/proc/self/maps") if "libicu" in line]
print(json.dumps({
    "en": sorted(words, key=functools.cmp_to_key(english.compare)),
    "de": sorted(["Zebra", "apfel", "Apfel"], key=functools.cmp_to_key(german.compare)),
    "upper_tr": QLocale("tr_TR").toUpper("istanbul"),
    "libraries": sorted(set(maps)),
}))
"""


def qt_library() -> Path:
    import PySide6

    found = sorted((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
    if not found:
        pytest.skip("this PySide6 has no libicudata of its own")
    return found[0]


def probe(library_dir: Path) -> dict[str, object]:
    env = dict(os.environ, LD_LIBRARY_PATH=str(library_dir), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", QT_PROBE], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_only_other_languages_locale_bundles_are_removable():
    items = ["root.res", "en.res", "en_GB.res", "de.res", "coll/de__PHONEBOOK.res",
             "zh_Hant_TW.res", "curr/fr.res", "curr/en_001.res", "coll/root.res", "pool.res",
             "curr/pool.res", "supplementalData.res", "brkitr/word.brk", "brkitr/cjdict.dict",
             "brkitr/ja.res", "nfkc.nrm", "ibm-943_P15A-2003.cnv", "zone/tzdbNames.res"]  # fmt: skip
    assert removable(items) == [
        "de.res", "coll/de__PHONEBOOK.res", "zh_Hant_TW.res", "curr/fr.res", "brkitr/ja.res",
    ]  # fmt: skip
    assert "curr/fr.res" not in removable(items, keep=("en", "fr"))


@needs_tools
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/maps")
def test_a_trimmed_library_keeps_root_and_english_and_still_serves_qt(tmp_path: Path):
    library = tmp_path / qt_library().name
    shutil.copy2(qt_library(), library)
    common = tmp_path / qt_library().name.replace("libicudata", "libicuuc")
    shutil.copy2(qt_library().with_name(common.name), common)  # stripped beside it
    untrimmed = probe(tmp_path)
    done = subprocess.run(
        [sys.executable, str(ROOT / "installer" / "trim_icu.py"), str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["trimmed"] is True
    assert report["stripped"] == [common.name]
    assert common.stat().st_size < qt_library().with_name(common.name).stat().st_size
    assert library.stat().st_size < 0.6 * qt_library().stat().st_size
    entry, data = embedded_data(library)
    assert entry.startswith("icudt")
    dat = tmp_path / f"{entry}l.dat"  # icupkg wants the name the items are prefixed with
    dat.write_bytes(data)
    items = set(list_items(dat))
    assert {"root.res", "en.res", "en_GB.res", "coll/root.res", "brkitr/word.brk"} <= items
    assert {"de.res", "ja.res", "coll/de.res", "curr/fr.res"}.isdisjoint(items)
    trimmed = probe(tmp_path)
    assert {str(library), str(common)} <= set(trimmed["libraries"])  # these, not Qt's own
    assert trimmed["en"] == ["apple", "Apple", "banana", "file9", "file10"]
    assert trimmed["upper_tr"] == "İSTANBUL"  # locale case mapping lives in ICU's code
    assert {k: v for k, v in trimmed.items() if k != "libraries"} == {
        k: v for k, v in untrimmed.items() if k != "libraries"
    }
    again = subprocess.run(
        [sys.executable, str(ROOT / "installer" / "trim_icu.py"), str(library)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert json.loads(again.stdout.strip().splitlines()[-1])["reason"] == "already trimmed"


def test_without_icupkg_the_library_is_left_whole_and_the_message_says_what_to_install(
    tmp_path: Path,
):
    library = tmp_path / "bundle" / "_internal" / "libicudata.so.73"
    library.parent.mkdir(parents=True)
    library.write_bytes(b"\x7fELF not really a library")
    done = subprocess.run(
        [sys.executable, str(ROOT / "installer" / "trim_icu.py"), str(tmp_path / "bundle")],
        capture_output=True, text=True, check=False,
        env=dict(os.environ, PATH=str(tmp_path / "no-tools")),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["trimmed"] is False
    assert "icupkg" in report["reason"] and "apt-get install icu-devtools" in report["reason"]
    assert "not trimmed" in done.stderr
    assert library.read_bytes() == b"\x7fELF not really a library"


@needs_tools
def test_the_bundle_carries_the_trimmed_icu_data(bundle: Path):
    library = next((bundle / "_internal").rglob("libicudata.so*"))
    library = library.resolve()
    assert library.stat().st_size < 20_000_000, library.stat().st_size
    report = json.loads((bundle.parent / "trim-icu.json").read_text())
    assert report["trimmed"] is True and report["kept_languages"] == ["root", "en"]
    assert any(name.startswith("libicuuc") for name in report["stripped"])
    sections = subprocess.run(
        ["readelf", "-S", str(library.with_name(report["stripped"][0]))],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert ".symtab" not in sections.stdout
