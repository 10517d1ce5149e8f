"""Screenshots of the Library view (fit badges) and the compare table, for a person to look at.

Usage: xvfb-run -a python bench/library_screenshots.py --out screenshots/
Uses a throwaway registry and a described machine (32 GB RAM, 12 GB GPU); last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtWidgets import QApplication

    from desktop_registry.domain import (
        ModelDetails,
        ModelRecord,
        PerformanceMetric,
        Serving,
        Source,
    )
    from desktop_registry.services.library.catalog import LibraryService
    from desktop_registry.services.library.comparison import ComparisonService
    from desktop_registry.services.library.compatibility import CompatibilityService
    from desktop_registry.services.library.hardware import HardwareProbe, HardwareProfile
    from desktop_registry.services.library.recommend import RecommendationService
    from desktop_registry.storage import Database, ModelRepository
    from desktop_registry.storage.library_index import LibraryIndex
    from desktop_registry.ui.library_view import LibraryView

    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(Path(tmp) / "registry.db")
        repo = ModelRepository(db)
        installed = repo.register(
            ModelRecord(
                name="qwen2.5-coder:7b", source=Source.OLLAMA, serving=Serving.LOCAL,
                capabilities=["completion", "tools", "insert"], size_bytes=4_683_087_332,
                details=ModelDetails(family="qwen2", parameter_size="7.6B", quantization_level="Q4_K_M"),
            )
        )  # fmt: skip
        repo.record_performance(
            installed.id or 0, [PerformanceMetric(metric="humaneval_pass_rate", value=0.81)]
        )
        library = LibraryService(LibraryIndex(db), repo)
        compatibility = CompatibilityService(HardwareProbe(), library)
        recommendations = RecommendationService(library, compatibility)
        comparison = ComparisonService(library, compatibility, recommendations)
        hardware = HardwareProfile.describe(
            ram_gb=32, gpu_vram_gb=12, gpu_name="NVIDIA GeForce RTX 4070"
        )
        view = LibraryView(library, compatibility, recommendations, comparison, hardware=hardware)
        view.resize(1280, 760)
        view.show()
        view.search.setText("qwen")
        view.refresh()
        app.processEvents()
        library_png = args.out / "library_view.png"
        view.grab().save(str(library_png))

        names = ["qwen2.5-coder:7b", "qwen2.5:14b", "qwen2.5:32b", "llama3.1:8b"]
        result = comparison.compare(names, context_length=8192, hardware=hardware)
        view.compare_table.show_comparison(result)
        view.compare_table.setVisible(True)
        view.compare_table.resize(1200, 560)
        app.processEvents()
        compare_png = args.out / "compare_table.png"
        view.compare_table.grab().save(str(compare_png))
        dialog = view.open_recommend()
        app.processEvents()
        recommend_png = args.out / "recommend_dialog.png"
        dialog.grab().save(str(recommend_png))
        dialog.close()
        view.close()
        db.dispose()
    print(json.dumps({"screenshots": [str(library_png), str(compare_png), str(recommend_png)]}))


if __name__ == "__main__":
    main()
