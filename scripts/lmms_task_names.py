"""Write the names of every task, group and tag in lmms-eval's task tree to
``src/assay/tasks/registry/lmms_task_names.txt`` (one a line), so that an unknown task name that is an
lmms-eval task can say which ``--include_path`` it needs. Re-run when the tree is updated:

    python scripts/lmms_task_names.py [TREE]

(default: ASSAY_LMMS_TASKS, else ../shared/lmms-eval-tasks/lmms_eval/tasks)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from assay.env.settings import load_settings
from assay.tasks import TaskRegistry

ROOT = Path(__file__).resolve().parent.parent
TREE = ROOT.parent / "shared" / "lmms-eval-tasks" / "lmms_eval" / "tasks"
OUT = ROOT / "src" / "assay" / "tasks" / "registry" / "lmms_task_names.txt"


def main() -> None:
    given = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ASSAY_LMMS_TASKS")
    tree = Path(given).expanduser() if given else TREE
    settings = load_settings(environ={}, discover_dotenv=False)
    def every_name(registry: TaskRegistry) -> set[str]:
        return {*registry.task_names(), *registry.group_names(), *registry.tag_names()}

    builtin = every_name(TaskRegistry.discover(settings))
    names = sorted(every_name(TaskRegistry.discover(settings, include_paths=[tree])) - builtin)
    commit_file = tree.parent.parent / "COMMIT"
    commit = commit_file.read_text().split()[0] if commit_file.is_file() else "?"
    OUT.write_text(f"# lmms-eval task, group and tag names (tree at commit {commit[:7]}; scripts/lmms_task_names.py)\n"
                   + "".join(f"{name}\n" for name in names), encoding="utf-8")
    print(f"{len(names)} names -> {OUT}")


if __name__ == "__main__":
    main()
