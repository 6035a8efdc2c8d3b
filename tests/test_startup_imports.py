"""`assay run` on a plain local JSON-lines task imports only what that run needs: every module below is
reached only by runs that use its feature (a retry, a judge, a batch API, a results reader, foreign task
code, a terminal), and importing each costs start-up time before the first request (issue #18)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fault_server import FaultServer

TASK_YAML = """\
task: plain_mc
dataset_path: json
dataset_kwargs:
  data_files:
    test: plain_mc.jsonl
test_split: test
output_type: generate_until
doc_to_text: "{{question}}\\nA. {{A}}\\nB. {{B}}\\nAnswer with the option letter."
doc_to_target: answer
generation_kwargs:
  max_new_tokens: 8
  temperature: 0
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
"""

#: Not imported by this run (top-level names stand for every submodule).
UNNEEDED = (
    "tenacity",  # only once a request is retried
    "assay.records.schema", "assay.records.read",  # results read back, not written
    "assay.providers.openai_batch", "assay.providers.batch",  # --batch only
    "assay.judge.parsers",  # once a judge has answered
    "yaml",  # task files this plain are read without PyYAML (assay.tasks.yaml.plain)
    "importlib.metadata", "importlib.abc",  # plain installs read by assay.env.installed
    "assay.metrics.scorers", "sqlite3", "csv",  # metrics of its own, a response cache, CSV data
    "html",  # a secret's HTML form is five replacements (assay.env.masking.html_escaped)
    "pydantic", "jinja2", "rich", "numpy", "datasets", "PIL", "av",
)

# The command as `python -m assay` runs it, then the modules it loaded.
PROBE = """\
import json, sys
from assay.cli import main
code = main(sys.argv[2:])
open(sys.argv[1], "w").write(json.dumps(sorted(sys.modules)))
sys.exit(code)
"""


def test_a_plain_local_task_imports_nothing_it_does_not_use(tmp_path: Path) -> None:
    from assay.env.settings import SPECS

    (tmp_path / "task").mkdir()
    (tmp_path / "task" / "plain_mc.yaml").write_text(TASK_YAML)
    docs = [{"question": f"What is {i} + 1?", "A": i + 1, "B": i, "answer": "A"} for i in range(5)]
    (tmp_path / "task" / "plain_mc.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    names = {n for spec in SPECS for n in spec.env_names}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(HOME=str(tmp_path), LMMS_EVAL_HOME=str(tmp_path / "home"), OPENAI_API_KEY="sk-probe-0123456789")
    loaded = tmp_path / "modules.json"
    with FaultServer(answer=lambda body: "A") as server:
        proc = subprocess.run(
            [sys.executable, "-c", PROBE, str(loaded), "run", "--model", "openai_compatible",
             "--model_args", f"model=t,base_url={server.base_url}", "--tasks", "plain_mc",
             "--include_path", str(tmp_path / "task"), "--log_samples", "--output_path", str(tmp_path / "out")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert server.count == len(docs)
    modules = set(json.loads(loaded.read_text()))
    assert "assay.run.execute" in modules and "aiohttp" in modules  # the probe saw the run itself
    imported = sorted(m for m in modules if m.split(".")[0] in UNNEEDED or m in UNNEEDED)
    assert imported == []
