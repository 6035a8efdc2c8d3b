"""bench/compat.py over lmms-eval's real task tree: listed, resolved, blocked by cause (a fresh process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from assay.env.settings import load_settings
from assay.tasks import TaskRegistry
from assay.tasks.registry.check import check_tasks

REPO = Path(__file__).resolve().parents[1]


def test_compat_bench_table_adds_up(lmms_tree: Path, tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(REPO / "bench" / "compat.py"), "--tree", str(lmms_tree),
                          "--no-listing"], capture_output=True, text=True, timeout=600, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1",
                              "LMMS_EVAL_HOME": str(tmp_path / "home")})
    assert out.returncode == 0, out.stderr[-2000:]
    rows = {}
    for line in out.stdout.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 2 and cells[1][:1].isdigit():
            rows[cells[0]] = int(cells[1].split()[0])
    listed, resolved, blocked = rows.pop("listed"), rows.pop("resolved"), rows.pop("blocked")
    skipped = rows.pop("files skipped at discovery")
    assert listed > 1600 and resolved + blocked == listed
    assert sum(rows.values()) == blocked + skipped  # every blocked task has exactly one cause
    assert rows["refused: output_type generate_visual_cot"] == 31  # refused by name, never silently run


def test_popular_tasks_resolve_and_refusals_name_their_cause(lmms_tree: Path, settings: object) -> None:
    settings = load_settings(environ={}, discover_dotenv=False)
    registry = TaskRegistry.discover(settings, include_paths=[lmms_tree])
    popular = ["mme", "ai2d", "chartqa", "docvqa_val", "textvqa_val", "pope", "ocrbench", "scienceqa_img",
               "realworldqa", "mmstar", "seedbench", "videomme", "mmbench_en_dev", "gsm8k"]
    report = check_tasks(registry, settings, popular)
    assert report.blocked == {} and sorted(report.resolved) == sorted(popular)
    assert not registry.problems  # every file of the tree indexes
