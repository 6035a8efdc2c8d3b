"""What an lmms-eval user types out of habit: a --config list of runs, `assay --model …` without `run`,
--verbosity DEBUG on a configuration error, and the hint after Ctrl-C."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.cli import main
from tests.emulators import OpenAIEmulator
from tests.helpers import write

KEY = "sk-migrant-0123456789abcdef"


def test_a_config_list_runs_every_run_in_order(run_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with OpenAIEmulator(key=KEY) as emu:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_API_BASE", f"{emu.base_url}/v1")
        write(run_dir, "runs.yaml", f"""\
            - model: openai
              model_args: model_version=first-model
              tasks: assay_colors
              limit: 2
            - model: openai
              model_args: model_version=second-model,num_concurent=2
              tasks: assay_colors
            - model: openai
              model_args: {{model: third-model}}
              tasks: assay_colors
              output_path: {run_dir / "third"}
        """)
        code = main(["run", "--config", str(run_dir / "runs.yaml"), "--limit", "1"])
        err = capsys.readouterr().err
        models = [body["model"] for body in emu.bodies]
    assert code == 2, err  # the worst: run 2's misspelled argument
    assert models == ["first-model", "third-model"]  # in order, --limit 1 from the command line over the file's
    assert "== run 1 of 3" in err and "== run 3 of 3" in err
    assert "error: --model_args num_concurent is not an argument" in err
    summary = err[err.index("runs:"):]
    assert summary.count("ok") == 2 and "exit 2" in summary
    docs = sorted(run_dir.rglob("*_results.json"))
    assert len(docs) == 2 and any(str(d).startswith(str(run_dir / "third")) for d in docs)
    assert all(json.loads(d.read_text())["status"] == "complete" for d in docs)


def test_a_config_list_must_hold_mappings(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(run_dir, "runs.yaml", "- model: openai\n- just a string\n")
    assert main(["run", "--config", str(run_dir / "runs.yaml")]) == 2
    err = capsys.readouterr().err
    assert "run 2: expected a mapping" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [["--model", "openai", "--tasks", "mme"], ["openai", "--tasks", "mme"],
                                  ["--tasks=mme", "--model=openai"]])
def test_a_forgotten_run_is_said(argv: list[str], cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "hint: put `run` first: assay run" in err and "invalid choice" not in err


def test_debug_shows_a_configuration_error_without_a_traceback(run_dir: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--model", "openai", "--model_args", "model=m,num_concurent=4", "--tasks", "assay_colors",
                 "--verbosity", "DEBUG"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "error: --model_args num_concurent is not an argument of the openai provider" in err
    assert "hint: did you mean num_concurrent?" in err


@pytest.mark.parametrize("cached", [False, True])
def test_the_interrupt_hint_is_true(run_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                    cached: bool) -> None:
    import signal
    import threading

    def interrupt_soon(body: dict[str, object]) -> str:
        threading.Timer(0.05, signal.raise_signal, (signal.SIGINT,)).start()
        return "1"

    with OpenAIEmulator(key=KEY, answer=interrupt_soon) as emu:
        emu.queue(*[{"delay": 0.5}] * 40)
        argv = ["run", "--model", "openai", "--model_args", f"model=m,base_url={emu.base_url}/v1,api_key={KEY},"
                "num_concurrent=1", "--tasks", "assay_colors", "--limit", "20"]
        code = main(argv + (["--use_cache"] if cached else []))
    err = capsys.readouterr().err
    assert code == 130, err
    hint = next(line for line in err.splitlines() if line.startswith("hint:"))
    if cached:
        assert "rerun the same command" in hint and "from the cache" in hint
    else:
        assert "the cache was off" in hint and "--use_cache" in hint
