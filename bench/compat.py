"""lmms-eval's real task tree in assay: how fast it lists, and how many of its tasks resolve, and why not.

Two tables, both measured in this run:

1. Listing: ``assay tasks --include_path TREE`` (a fresh process, the user's command) and the index alone
   (``TaskRegistry.discover``), beside a named baseline, *lmms-eval-style indexing*: what lmms-eval's
   ``TaskManager`` does per file (``yaml.full_load`` with the pure-Python loader, every include re-read).
2. Coverage: every task loaded without its data (config, ``!function`` imports, metrics, filters), with
   the blocked ones counted by cause (``assay tasks --check``).

    python bench/compat.py                       # ../shared/lmms-eval-tasks/lmms_eval/tasks
    python bench/compat.py --tree PATH -n 5 --no-listing
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
#: ASSAY_LMMS_TASKS (lmms-eval's lmms_eval/tasks folder) first, then ../shared next to the clone or the worktree.
TREES = [*([Path(os.environ["ASSAY_LMMS_TASKS"]).expanduser()] if os.environ.get("ASSAY_LMMS_TASKS") else []),
         *(base / "shared" / "lmms-eval-tasks" / "lmms_eval" / "tasks" for base in (REPO.parent, REPO.parents[1]))]
TARGET_LIST_S = 1.0
TARGET_RESOLVED = 0.95


def default_tree() -> Path | None:
    return next((t for t in TREES if t.is_dir()), None)


def _median_s(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def lmms_eval_style_index(tree: Path) -> int:
    """The baseline: per file, PyYAML's pure-Python full loader, includes re-read each time (no cache)."""
    import yaml

    class Loader(yaml.FullLoader):
        pass

    Loader.add_constructor("!function", lambda loader, node: node)

    def load(path: Path) -> dict[str, Any]:
        with open(path, "rb") as f:
            config = yaml.load(f, Loader=Loader) or {}
        includes = config.pop("include", None)
        if includes is None:
            return dict(config)
        merged: dict[str, Any] = {}
        for item in reversed([includes] if isinstance(includes, str) else includes):
            target = Path(item) if Path(item).is_file() else path.parent / item
            merged.update(load(target))
        merged.update(config)
        return merged

    count = 0
    for root, _, files in os.walk(tree):
        for name in files:
            if name.endswith(".yaml"):
                try:
                    load(Path(root) / name)
                    count += 1
                except Exception:
                    continue
    return count


def listing_rows(tree: Path, runs: int, lmms_python: str | None) -> list[tuple[str, float]]:
    import tempfile

    from assay.env.settings import load_settings
    from assay.tasks import TaskRegistry

    settings = load_settings()
    cli = [sys.executable, "-m", "assay", "tasks", "--include_path", str(tree)]
    subprocess.run(cli, capture_output=True, check=False)  # warm the OS file cache and the index

    def run_cli(env: dict[str, str] | None = None) -> None:
        subprocess.run(cli, capture_output=True, check=False, env=env)

    def cold() -> None:
        with tempfile.TemporaryDirectory() as home:  # no index cache: every YAML parsed
            run_cli({**os.environ, "LMMS_EVAL_HOME": home})

    rows = [
        ("assay tasks --include_path TREE (fresh process)", _median_s(run_cli, runs)),
        ("the same, first run (no index cache yet)", _median_s(cold, runs)),
        ("TaskRegistry.discover (in process)", _median_s(lambda: TaskRegistry.discover(settings, [tree]), runs)),
        ("baseline: lmms-eval-style indexing (in process)",
         _median_s(lambda: lmms_eval_style_index(tree), max(1, runs // 2))),
    ]
    if lmms_python:
        code = f"from lmms_eval.tasks import TaskManager; TaskManager(include_path={str(tree)!r})"
        rows.append(("baseline: lmms-eval 0.7.3 TaskManager (fresh process)", _median_s(
            lambda: subprocess.run([lmms_python, "-c", code], capture_output=True, check=False), max(1, runs // 2))))
    return rows


def coverage(tree: Path) -> tuple[Any, float]:
    from assay.env.settings import load_settings
    from assay.tasks import TaskRegistry
    from assay.tasks.registry.check import check_tasks

    settings = load_settings()
    start = time.perf_counter()
    registry = TaskRegistry.discover(settings, include_paths=[tree])
    names = [n for n in registry.task_names() if registry.task_entry(n).source != "builtin"]
    report = check_tasks(registry, settings, names)
    return report, time.perf_counter() - start


LMMS_LOADABLE = """
import json, sys
from lmms_eval.tasks import TaskManager
from lmms_eval import utils
ok = []
for name, info in TaskManager(include_path=sys.argv[1], include_defaults=False).task_index.items():
    if info["type"] == "task":
        try:
            utils.load_yaml_config(info["yaml_path"], mode="full")  # imports every !function, as at load
            ok.append(name)
        except BaseException:
            pass
print("LOADABLE " + json.dumps(ok))
"""


def lmms_eval_loadable(lmms_python: str, tree: Path) -> set[str]:
    """The tree's tasks lmms-eval itself loads (config and helper imports; no data) in its own environment."""
    proc = subprocess.run([lmms_python, "-c", LMMS_LOADABLE, str(tree)], capture_output=True, text=True,
                          check=False, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    line = next((x for x in proc.stdout.splitlines() if x.startswith("LOADABLE ")), "LOADABLE []")
    return set(json.loads(line.removeprefix("LOADABLE ")))


def render(tree: Path, rows: list[tuple[str, float]] | None, report: Any, check_s: float) -> str:
    lines = [f"# lmms-eval task tree: {tree}"]
    if rows is not None:
        lines += ["", f"## listing (median; target < {TARGET_LIST_S:g} s for the command)", "",
                  "| what | seconds |", "|---|---:|"]
        lines += [f"| {what} | {seconds:.3f} |" for what, seconds in rows]
    total = report.total
    share = len(report.resolved) / total if total else 0.0
    lines += ["", f"## coverage (checked in {check_s:.1f} s; target >= {TARGET_RESOLVED:.0%} resolve)", "",
              "| | tasks |", "|---|---:|", f"| listed | {total} |", f"| resolved | {len(report.resolved)} "
              f"({share:.1%}) |", f"| blocked | {len(report.blocked)} |",
              f"| files skipped at discovery | {len(report.skipped_files)} |", "",
              "| blocked by cause | tasks |", "|---|---:|"]
    lines += [f"| {cause} | {n} |" for cause, n in report.by_cause()]
    return "\n".join(lines)


def render_against(report: Any, loadable: set[str]) -> str:
    resolved = set(report.resolved)
    both = len(loadable & resolved)
    return "\n".join([
        "", "## against lmms-eval itself (pip install lmms-eval==0.7.3, its own dependencies, same machine)", "",
        "| | tasks |", "|---|---:|",
        f"| lmms-eval loads (config + helper imports) | {len(loadable)} |",
        f"| assay resolves | {len(resolved)} |",
        f"| of lmms-eval's, assay resolves | {len(loadable & resolved)} ({both / max(1, len(loadable)):.1%}) |",
        f"| assay resolves, lmms-eval does not | {len(resolved - loadable)} |",
        f"| lmms-eval loads, assay does not | {len(loadable - resolved)} |",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, default=None, help="an lmms_eval/tasks folder")
    parser.add_argument("-n", "--runs", type=int, default=5)
    parser.add_argument("--no-listing", action="store_true", help="coverage only")
    parser.add_argument("--lmms-python", help="a python with lmms-eval installed: time its TaskManager too")
    args = parser.parse_args(argv)
    tree = args.tree or default_tree()
    if tree is None or not tree.is_dir():
        print("error: lmms-eval's task tree not found (pass --tree)", file=sys.stderr)
        return 2
    rows = None if args.no_listing else listing_rows(tree, args.runs, args.lmms_python)
    report, check_s = coverage(tree)
    print(render(tree, rows, report, check_s))
    if args.lmms_python:
        print(render_against(report, lmms_eval_loadable(args.lmms_python, tree)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
