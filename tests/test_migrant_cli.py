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

    timers: list[threading.Timer] = []

    def interrupt_soon(body: dict[str, object]) -> str:
        if not timers:  # one Ctrl-C: a second one must not reach the next test
            timers.append(threading.Timer(0.05, signal.raise_signal, (signal.SIGINT,)))
            timers[0].start()
        return "1"

    with OpenAIEmulator(key=KEY, answer=interrupt_soon) as emu:
        emu.queue(*[{"delay": 0.5}] * 40)
        argv = ["run", "--model", "openai", "--model_args", f"model=m,base_url={emu.base_url}/v1,api_key={KEY},"
                "num_concurrent=1", "--tasks", "assay_colors", "--limit", "20"]
        code = main(argv + (["--use_cache"] if cached else []))
    timers[0].join()
    err = capsys.readouterr().err
    assert code == 130, err
    hint = next(line for line in err.splitlines() if line.startswith("hint:"))
    if cached:
        assert "rerun the same command" in hint and "from the cache" in hint
    else:
        assert "the cache was off" in hint and "--use_cache" in hint


def test_a_base_url_without_v1_shows_the_url_called_and_the_fix(run_dir: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with OpenAIEmulator(key=KEY) as emu:
        code = main(["run", "--model", "openai", "--model_args", f"model=m,base_url={emu.base_url},api_key={KEY}",
                     "--tasks", "assay_colors", "--limit", "2"])
    err = capsys.readouterr().err
    assert code == 1, err
    error = next(line for line in err.splitlines() if line.startswith("error:"))
    assert f"(POST {emu.base_url}/chat/completions)" in error and "404" in error
    assert f"try base_url={emu.base_url}/v1" in err


def test_a_full_chat_completions_url_is_taken_as_meant(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with OpenAIEmulator(key=KEY) as emu:
        code = main(["run", "--model", "openai", "--model_args",
                     f"model=m,base_url={emu.base_url}/v1/chat/completions,api_key={KEY}", "--tasks", "assay_colors",
                     "--limit", "2"])
        paths = {seen.path for seen in emu.requests}
    assert code == 0, capsys.readouterr().err
    assert paths == {"/v1/chat/completions"}


def test_an_lmms_eval_task_name_says_which_include_path_it_needs(run_dir: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--model", "local", "--tasks", "mme"]) == 2
    err = capsys.readouterr().err
    assert "error: unknown task 'mme': it is an lmms-eval task" in err
    assert "hint: add --include_path" in err and "lmms_eval/tasks" in err
    assert main(["run", "--model", "local", "--tasks", "mmeee_not_a_task"]) == 2
    assert "lmms-eval task" not in capsys.readouterr().err


def test_costs_read_as_dollars() -> None:
    from assay.cli.render import usd_text

    assert [usd_text(v) for v in (7e-05, 0.0123, 0.5, 5, 1234.5, 0)] == [
        "$0.00007", "$0.0123", "$0.5", "$5", "$1,234.50", "$0"]


def test_result_paths_are_never_cut_when_stdout_is_not_a_terminal(run_dir: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    deep = run_dir / ("a-rather-long-folder-name-" * 6) / "out"
    with OpenAIEmulator(key=KEY) as emu:
        code = main(["run", "--model", "openai", "--model_args", f"model=m,base_url={emu.base_url}/v1,api_key={KEY}",
                     "--tasks", "assay_colors", "--limit", "1", "--log_samples", "--output_path", str(deep)])
    out = capsys.readouterr().out
    assert code == 0
    paths = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith(("results: ", "samples ("))]
    assert len(paths) == 2 and all(Path(p).is_file() for p in paths)


@pytest.mark.parametrize("value", ["sk-...", "<your key>", "your-api-key", "sk-xxxxxxxxxxxxxxxx"])
def test_doctor_does_not_call_the_readme_placeholder_ok(value: str, cli_env: dict[str, str],
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", value)
    main(["doctor", "--model", "openai", "--model_args", "model=m"])
    out = capsys.readouterr().out
    assert "placeholder" in out and " ok " not in out


def test_doctor_reads_lmms_eval_names_and_variables(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-key-0123456789abcdef")
    monkeypatch.setenv("AZURE_OPENAI_API_BASE", "https://resource.openai.azure.com")
    assert main(["doctor", "--model", "openai", "--model_args", "model_version=gpt-4o,azure_openai=True"]) == 0
    out = capsys.readouterr().out
    assert "model `azure_openai`" in out and "env AZURE_OPENAI_API_BASE" in out
    assert main(["doctor", "--model", "openai", "--model_args", "model=m,num_concurent=2"]) == 2
    assert "did you mean num_concurrent?" in capsys.readouterr().err
