"""W&B through the real `wandb` client in offline mode: what lands in the run's transaction log (.wandb),
its table files and staged artifacts, for `assay push` of a real finished run."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from assay.cli import main
from tests.sinks_support import WANDB_KEY, by_kind, make_run, wandb_dirs, wandb_records, wandb_run_dirs

pytest.importorskip("wandb")
__all__ = ["wandb_dirs"]  # the fixture, used by name


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("wandb-run"))


def _config(records: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for run in by_kind(records, "run"):
        out.update({item.key: json.loads(item.value_json) for item in run.config.update})
    for config in by_kind(records, "config"):
        out.update({item.key: json.loads(item.value_json) for item in config.update})
    return out


def _summary(records: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for summary in by_kind(records, "summary"):
        out.update({item.key: json.loads(item.value_json) for item in summary.update if item.key})
    return out


def test_push_logs_config_summary_tables_and_artifacts(
    finished: Path, wandb_dirs: Path, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret_argv = "sk-typed-in-argv-0123456789abcdef"
    monkeypatch.setattr(sys, "argv", ["assay", "run", "--model_args", f"api_key={secret_argv}"])  # what wandb records
    code = main(["push", str(finished), "--wandb_args", "project=evals,name=my run,tags=nightly|vqa",
                 "--wandb_log_samples"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "W&B: offline run saved in" in out
    (run_dir,) = wandb_run_dirs(wandb_dirs)
    records = wandb_records(run_dir)
    results = json.loads(finished.read_text())
    (run,) = by_kind(records, "run")
    assert (run.project, run.run_id, run.display_name) == ("evals", results["run_id"], "my run")
    assert list(run.tags) == ["nightly", "vqa"]
    config = _config(records)
    assert config["cli_configs"]["tasks"] == ["assay_arith_mc", "assay_colors"]
    assert config["assay"] == {"run_id": results["run_id"], "status": "complete"}
    summary = _summary(records)
    for task in ("assay_arith_mc", "assay_colors"):
        assert summary[f"{task}/exact_match"] == results["results"][task]["metrics"]["exact_match"]["value"]
        assert summary[f"{task}/n_samples"] == 6
    artifacts = {(a.name, a.type) for a in by_kind(records, "artifact")}
    assert {("results", "eval_results"), ("assay_arith_mc", "samples_by_task"),
            ("assay_colors", "samples_by_task")} <= artifacts
    tables = {p.name.rsplit("_", 2)[0]: json.loads(p.read_text()) for p in run_dir.rglob("*.table.json")}
    assert set(tables) >= {"eval_results", "assay_arith_mc_eval_results", "assay_colors_eval_results"}
    rows = {(r[0], r[1]): r[2] for r in tables["eval_results"]["data"]}
    colors_metric = results["results"]["assay_colors"]["metrics"]["exact_match"]["value"]
    assert rows[("assay_colors", "exact_match")] == colors_metric
    colors = tables["assay_colors_eval_results"]
    assert colors["columns"][:3] == ["id", "input", "image"]
    assert sorted(row[0] for row in colors["data"]) == list(range(6))
    assert all(row[2] == "Image" for row in colors["data"])  # every row shows the image the model saw
    # The thumbnails themselves are staged for upload, byte for byte.
    thumbs = {p.read_bytes() for p in finished.parent.glob("*_media/*.jpg")}
    staged = {p.read_bytes() for p in (wandb_dirs / "data").rglob("*") if p.is_file()}
    assert thumbs and thumbs <= staged
    # wandb records sys.argv unless told not to; assay turns its metadata off.
    everything = b"".join(p.read_bytes() for p in wandb_dirs.rglob("*") if p.is_file())
    assert secret_argv.encode() not in everything


def test_pushing_the_same_run_again_targets_the_same_wandb_run(
    finished: Path, wandb_dirs: Path, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str],
) -> None:
    for _ in range(2):
        assert main(["push", str(finished.parent.parent), "--wandb_args", "project=evals"]) == 0
    ids = {by_kind(wandb_records(d), "run")[0].run_id for d in wandb_run_dirs(wandb_dirs)}
    assert ids == {json.loads(finished.read_text())["run_id"]}


def test_disabled_mode_logs_nothing_and_says_so(finished: Path, wandb_dirs: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["push", str(finished), "--wandb_args", "project=p,mode=disabled"]) == 0
    assert "W&B: disabled" in capsys.readouterr().out
    assert not wandb_run_dirs(wandb_dirs)


def test_unknown_wandb_arg_is_a_usage_error(finished: Path, wandb_dirs: Path, cli_env: dict[str, str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["push", str(finished), "--wandb_args", "project=p,colour=blue"])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: --wandb_args: unknown key colour" in err and "hint: wandb.init accepts" in err
    assert not wandb_run_dirs(wandb_dirs)


def test_online_mode_with_a_refused_key_fails_before_logging(
    finished: Path, wandb_dirs: Path, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, credential_server: Any,
) -> None:
    monkeypatch.setenv("WANDB_API_KEY", WANDB_KEY)
    monkeypatch.setenv("WANDB_BASE_URL", credential_server.url("deny"))
    before = {p: p.read_bytes() for p in finished.parent.iterdir() if p.is_file()}
    code = main(["push", str(finished), "--wandb_args", "project=p,mode=online"])
    err = capsys.readouterr().err
    assert code == 3
    assert "WANDB_API_KEY was refused (401)" in err
    assert "hint: run `wandb login` or set WANDB_API_KEY" in err
    assert WANDB_KEY not in err
    assert not wandb_run_dirs(wandb_dirs)
    assert before == {p: p.read_bytes() for p in finished.parent.iterdir() if p.is_file()}  # untouched


def test_online_mode_without_a_key_is_caught_by_preflight(
    finished: Path, wandb_dirs: Path, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WANDB_MODE")
    code = main(["push", str(finished), "--wandb_args", "project=p"])
    err = capsys.readouterr().err
    assert code == 3
    assert "WANDB_API_KEY" in err and "wandb login" in err


def test_an_unreachable_wandb_server_is_given_up_on_within_the_bound(
    finished: Path, wandb_dirs: Path, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket
    import time

    with socket.socket() as probe:  # a loopback port nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    key = WANDB_KEY + "0" * 40  # wandb checks the length before it connects
    monkeypatch.setenv("WANDB_API_KEY", key)
    monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("WANDB_INIT_TIMEOUT", "3")
    started = time.monotonic()
    code = main(["push", str(finished), "--wandb_args", "project=p,mode=online"])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 5, err
    assert elapsed < 20, elapsed  # wandb's own default is 90 s of silence
    assert f"W&B: connecting to http://127.0.0.1:{port} (giving up after 3s: WANDB_INIT_TIMEOUT)" in err
    error = next(line for line in err.splitlines() if line.startswith("error:"))
    assert "W&B" in error and "hint: " in err
    assert WANDB_KEY not in err
