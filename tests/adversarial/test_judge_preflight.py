"""Preflight knows which tasks judge — declared in YAML or found in the task's own code (and the task
modules it imports) — for `assay run` and `assay doctor --tasks` alike: MathVista with no judge key stops at
preflight (exit 3) before any model request; `doctor --tasks mmvet` lists the judge's credential."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.cli import main
from tests.fault_server import FaultServer
from tests.helpers import run_cli

#: Tasks whose helpers call a judge themselves (their YAML says nothing), and tasks that never judge.
JUDGED = ["mmvet", "mathvista_testmini_cot", "mathvista_testmini_format", "hallusion_bench_image",
          "activitynetqa", "wildvision_0617"]
NOT_JUDGED = ["mme", "ai2d", "chartqa", "mmmu_val", "scienceqa_img", "textvqa_val", "docvqa_val"]


@pytest.fixture
def model() -> Iterator[FaultServer]:
    with FaultServer(lambda body: "42") as server:
        yield server


def test_the_static_scan_over_lmms_evals_tree(lmms_tree: Path, isolated: dict[str, str]) -> None:
    from assay.env.settings import load_settings
    from assay.preflight.requirements import needs_judge
    from assay.tasks import TaskRegistry

    registry = TaskRegistry.discover(load_settings(environ=isolated, discover_dotenv=False), include_paths=[lmms_tree])
    assert [t for t in JUDGED if not needs_judge(registry.config(t))] == []
    assert [t for t in NOT_JUDGED if needs_judge(registry.config(t))] == []


@pytest.mark.parametrize("task", ["mathvista_testmini_cot", "hallusion_bench_image"])
def test_a_task_whose_code_judges_stops_at_preflight_without_the_judge_key(
        lmms_tree: Path, run_dir: Path, capsys: pytest.CaptureFixture[str], model: FaultServer, task: str) -> None:
    """Today: MathVista pays for the model's answers, then exits 4 on judge failures."""
    code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                           f"model=m,base_url={model.base_url}", "--tasks", task, "--include_path", str(lmms_tree),
                           "--limit", "5", "--output_path", str(run_dir))
    assert code == 3, err
    assert "OPENAI_API_KEY" in err and f"judge for task {task}" in err and "Traceback" not in err
    assert model.count == 0


def test_doctor_lists_the_judge_credential_of_a_task_whose_code_judges(
        lmms_tree: Path, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    main(["doctor", "--tasks", "mmvet", "--include_path", str(lmms_tree)])
    out = " ".join(capsys.readouterr().out.split())
    assert "judge for task `mmvet`" in out and "OPENAI_API_KEY" in out
