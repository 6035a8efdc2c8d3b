"""`assay doctor`: the settings table and JSON, plan requirements, probes, exit codes — and a secret scan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay.cli import main
from assay.env.settings import SPECS
from assay.preflight import probe as probe_module
from tests.conftest import CredentialServer, closed_port

OPENAI = "sk-doctor-OPENAI-secret-7f3a9c"
HF = "hf_doctorHFsecret00000000b4d1"
WANDB = "doctorWANDBsecret0000000000000000000c0de"
ANTHROPIC = "sk-ant-doctor-ANTHROPIC-secret-e11a"
GOOGLE = "AIzaDoctorGOOGLEsecret000000000f00d"
XAI = "xai-doctor-XAI-secret-0000000000a1b2"
REKA = "reka-doctor-REKA-secret-0000000000c3d4"
AZURE = "azure-doctor-AZURE-secret-000000e5f6"
VIESCORE = "viescore-doctor-secret-0000000000a7b8"
SHORT = "tiny42"
ALL_SECRETS = (OPENAI, HF, WANDB, ANTHROPIC, GOOGLE, XAI, REKA, AZURE, VIESCORE)


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["doctor", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def doctor_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = doctor(capsys, "--json", *args)
    return code, json.loads(out)


def rows(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in doc["settings"]}


# -- settings -------------------------------------------------------------------------------------


def test_json_lists_every_setting_with_value_and_source(cli_env: dict[str, str], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    env = tmp_path / ".env"
    env.write_text(f"# keys\nOPENAI_API_KEY={OPENAI}\nHUGGING_FACE_HUB_TOKEN={HF}\nAPI_TYPE=azure\n")
    monkeypatch.setenv("OPENAI_API_BASE", "http://localhost:8000/v1")
    code, doc = doctor_json(capsys)
    assert code == 0
    assert doc["env_files"] == [str(env)]
    assert [r["name"] for r in doc["settings"]] == [s.env_name for s in SPECS]
    by_name = rows(doc)
    assert by_name["OPENAI_API_KEY"]["secret"] is True and by_name["OPENAI_API_KEY"]["set"] is True
    assert by_name["OPENAI_API_KEY"]["value"] == f"sk-…{OPENAI[-4:]}"
    assert by_name["OPENAI_API_KEY"]["source"] == f"dotenv {env}:2 (OPENAI_API_KEY)"
    assert by_name["HF_TOKEN"]["alias"] == "HUGGING_FACE_HUB_TOKEN"
    assert by_name["HF_TOKEN"]["source"] == f"dotenv {env}:3 (HUGGING_FACE_HUB_TOKEN)"
    assert (by_name["OPENAI_BASE_URL"]["value"], by_name["OPENAI_BASE_URL"]["alias"]) == (
        "http://localhost:8000/v1", "OPENAI_API_BASE")
    assert by_name["OPENAI_BASE_URL"]["source"] == "env OPENAI_API_BASE"
    assert (by_name["API_TYPE"]["value"], by_name["API_TYPE"]["set"]) == ("azure", True)
    assert (by_name["WANDB_API_KEY"]["value"], by_name["WANDB_API_KEY"]["set"]) == ("", False)
    assert by_name["WANDB_API_KEY"]["source"] == "default"
    assert by_name["LMMS_EVAL_USE_CACHE"]["value"] is False
    assert by_name["LMMS_EVAL_HOME"]["value"] == cli_env["LMMS_EVAL_HOME"]
    assert "model openai" in " ".join(by_name["OPENAI_API_KEY"]["used_by"])
    assert "W&B logging" in by_name["WANDB_API_KEY"]["used_by"]
    assert doc["requirements"] is None and doc["probes"] is None and doc["exit_code"] == 0


def test_table_shows_masked_values_and_sources(cli_env: dict[str, str], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={OPENAI}\n")
    monkeypatch.setenv("GEMINI_API_KEY", GOOGLE)
    code, out, err = doctor(capsys)
    assert code == 0 and err == ""
    assert f".env files read: {tmp_path / '.env'}" in out
    for text in ("OPENAI_API_KEY", f"sk-…{OPENAI[-4:]}", "GOOGLE_API_KEY (as GEMINI_API_KEY)",
                 f"AIza…{GOOGLE[-4:]}", "env GEMINI_API_KEY", "https://huggingface.co", "default"):
        assert text in out, text
    assert OPENAI not in out and GOOGLE not in out


def test_no_dotenv_is_said(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = doctor(capsys)
    assert code == 0
    assert ".env files read: none found" in out


# -- plan requirements ----------------------------------------------------------------------------


def test_missing_credential_exits_3(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = doctor(capsys, "--model", "openai", "--wandb_args", "project=x")
    assert code == 3
    assert "MISSING" in out
    assert (
        "missing 2 credentials: OPENAI_API_KEY (needed by model openai), WANDB_API_KEY (needed by W&B logging)"
    ) in out
    assert "hint: add OPENAI_API_KEY=… to .env or export it" in out


def test_satisfied_plan_exits_0(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI)
    monkeypatch.setenv("HF_TOKEN", HF)
    code, doc = doctor_json(capsys, "--model", "openai", "--wandb_args", "project=x,mode=offline",
                            "--hf_hub_log_args", "hub_results_org=me,push_results_to_hub=True")
    assert code == 0 and doc["exit_code"] == 0
    assert [(r["consumer"], r["satisfied"], r["satisfied_by"]) for r in doc["requirements"]] == [
        ("model `openai`", True, [{"credential": "OPENAI_API_KEY", "source": "env OPENAI_API_KEY"}]),
        ("push to Hugging Face Hub", True, [{"credential": "HF_TOKEN", "source": "env HF_TOKEN"}]),
    ]


def test_optional_credentials_do_not_fail(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = doctor(capsys, "--model", "openai_compatible", "--model_args", "base_url=http://localhost:8000/v1")
    assert code == 0
    assert "optional" in out


def test_local_model_needs_nothing(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = doctor(capsys, "--model", "local")
    assert code == 0
    assert "this run needs no credentials" in out


def test_unknown_model_is_a_usage_error(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = doctor(capsys, "--model", "opneai")
    assert code == 2 and out == ""
    assert "error: unknown model `opneai`" in err and "did you mean `openai`" in err


def test_tasks_flag_uses_the_task_registry(cli_env: dict[str, str], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "mytasks"
    folder.mkdir()
    (folder / "judged_gated.yaml").write_text(
        "task: doctor_judged_gated\n"
        "dataset_path: lmms-lab/doctor-test\n"
        "dataset_kwargs:\n  token: true\n"
        "test_split: test\n"
        "output_type: generate_until\n"
        "doc_to_text: question\n"
        "doc_to_target: answer\n"
        "metadata:\n  version: 0.0\n  gpt_eval_model_name: gpt-4o-mini\n"
    )
    code, doc = doctor_json(capsys, "--tasks", "doctor_judged_gated", "--include_path", str(folder))
    assert code == 3
    assert [(r["consumer"], r["required"], r["satisfied"]) for r in doc["requirements"]] == [
        ("judge for task `doctor_judged_gated`", True, False),
        ("gated dataset lmms-lab/doctor-test", True, False),
    ]


# -- probes ---------------------------------------------------------------------------------------


def _point_at(tmp_path: Path, server: CredentialServer, mode: str) -> None:
    (tmp_path / ".env").write_text(
        f"OPENAI_API_KEY={OPENAI}\nOPENAI_BASE_URL={server.url(mode)}/v1\n"
        f"HF_TOKEN={HF}\nHF_ENDPOINT={server.url(mode)}\n"
        f"WANDB_API_KEY={WANDB}\nWANDB_BASE_URL={server.url(mode)}\n"
    )


@pytest.mark.parametrize(("mode", "expected", "status"), [("ok", 0, "ok"), ("deny", 3, "refused"),
                                                          ("boom", 1, "error")])
def test_probe_exit_codes(cli_env: dict[str, str], tmp_path: Path, credential_server: CredentialServer,
                          capsys: pytest.CaptureFixture[str], mode: str, expected: int, status: str) -> None:
    _point_at(tmp_path, credential_server, mode)
    code, doc = doctor_json(capsys, "--probe")
    assert code == expected == doc["exit_code"]
    assert [(p["credential"], p["status"]) for p in doc["probes"]] == [
        ("OPENAI_API_KEY", status), ("HF_TOKEN", status), ("WANDB_API_KEY", status),
    ]


def test_probe_unreachable_exits_1(cli_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = f"http://127.0.0.1:{closed_port()}/v1"
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={OPENAI}\nOPENAI_BASE_URL={base}\n")
    code, out, _ = doctor(capsys, "--probe")
    assert code == 1
    assert "unreachable" in out and "connection refused" in out


def test_probe_with_a_plan_only_checks_its_credentials(cli_env: dict[str, str], tmp_path: Path,
                                                       credential_server: CredentialServer,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    _point_at(tmp_path, credential_server, "ok")
    code, doc = doctor_json(capsys, "--probe", "--model", "openai")
    assert code == 0
    assert [p["credential"] for p in doc["probes"]] == ["OPENAI_API_KEY"]
    assert [r["path"] for r in credential_server.requests] == ["/ok/v1/models"]


def test_probe_with_nothing_set(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = doctor(capsys, "--probe")
    assert code == 0
    assert "nothing to probe" in out


# -- the secret scan ------------------------------------------------------------------------------


def test_no_secret_leaks_anywhere(cli_env: dict[str, str], tmp_path: Path, credential_server: CredentialServer,
                                  monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                  caplog: pytest.LogCaptureFixture) -> None:
    """Distinctive secrets in .env; every doctor mode and a failing command; nothing may show them."""
    deny = credential_server.url("deny")
    for service in probe_module.SERVICE_URLS:  # never the real vendors
        monkeypatch.setitem(probe_module.SERVICE_URLS, service, f"{deny}/{service}")
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"OPENAI_API_KEY={OPENAI}\nOPENAI_BASE_URL={deny}/v1\nHF_TOKEN={HF}\nHF_ENDPOINT={deny}\n"
        f"WANDB_API_KEY={WANDB}\nWANDB_BASE_URL={deny}\nANTHROPIC_API_KEY={ANTHROPIC}\n"
        f"GEMINI_API_KEY={GOOGLE}\nXAI_API_KEY={XAI}\nREKA_API_KEY={REKA}\n"
        f"AZURE_OPENAI_API_KEY={AZURE}\nAZURE_ENDPOINT={deny}\nVIESCORE_API_KEY={VIESCORE}\n"
    )
    cli_secret = "sk-typed-on-the-command-line-9d8e"
    runs = [
        (["doctor"], 0),
        (["doctor", "--json"], 0),
        (["doctor", "--probe"], 3),
        (["doctor", "--probe", "--json"], 3),
        (["doctor", "--model", "openai", "--model_args", f"api_key={cli_secret}", "--probe"], 3),
        (["doctor", "--model", "claude", "--wandb_args", "project=x", "--hf_hub_log_args", f"token={SHORT}"], 0),
        (["doctor", "--model", "azure_openai", "--model_args", "model=gpt-4o,api_key", "--json"], 2),
        (["doctor", "--model", "nope"], 2),
    ]
    outputs: list[str] = []
    for argv, expected in runs:
        code = main(argv)
        captured = capsys.readouterr()
        assert code == expected, (argv, captured.err)
        outputs += [captured.out, captured.err]
    with pytest.MonkeyPatch.context() as patch:  # a crash whose text carries a key
        def boom(*args: object) -> int:
            raise RuntimeError(f"upstream said: invalid key {OPENAI} / {HF}")

        patch.setattr("assay.cli.doctor_cmd.run", boom)
        assert main(["doctor"]) == 1
        captured = capsys.readouterr()
        outputs += [captured.out, captured.err]
        assert "<redacted:OPENAI_API_KEY>" in captured.err

    outputs += [r.getMessage() for r in caplog.records] + [caplog.text]
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != dotenv:
            outputs.append(path.read_text(errors="replace"))
    everything = "\n".join(outputs)
    assert "refused" in everything  # the probes did run against the 401 server
    for secret in (*ALL_SECRETS, cli_secret):
        assert secret not in everything, secret
    assert f"={SHORT}" not in everything
    assert credential_server.requests, "the probes reached the loopback server"


def test_judge_flags_name_the_judges_credentials_apart(cli_env: dict[str, str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`assay doctor` takes the run's --judge_model: the judged task's judge needs Azure, the model nothing."""
    code, out, _ = doctor(capsys, "--model", "local", "--tasks", "assay_video_qa", "--judge_model", "azure_openai")
    assert code == 3
    assert ("missing 2 credentials: AZURE_API_KEY (needed by judge for task assay_video_qa), "
            "AZURE_ENDPOINT (needed by judge for task assay_video_qa)") in " ".join(out.split())
    code, out, _ = doctor(capsys, "--model", "local", "--tasks", "assay_video_qa")  # API_TYPE's default: openai
    assert code == 3 and "OPENAI_API_KEY (needed by judge for task assay_video_qa)" in " ".join(out.split())
