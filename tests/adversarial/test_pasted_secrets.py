"""A key pasted where something else goes (an address, a version, a number, a stray argument) is masked in
every message about it: the setting's or flag's error, `assay doctor`'s table, argparse's usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.cli import main
from tests.adversarial.scan import leaks

PASTED = "sk-proj-PASTEDkey0123456789abcdefXYZ"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize("argv", [
    ["run", "--model", "openai", "--model_args", f"model=m,base_url={PASTED}", "--tasks", "assay_colors"],
    ["run", "--model", "openai", "--model_args", f"model=m,timeout={PASTED}", "--tasks", "assay_colors"],
    ["run", "--model", "openai", "--model_args", f"model=m num_concurrent={PASTED}", "--tasks", "assay_colors"],
    ["run", "--model", "local", "--tasks", "assay_arith_mc", "--limit", PASTED],
    ["run", "--model", "local", "--tasks", "assay_arith_mc", "--max_cost", PASTED],
    ["run", "--model", "local", "--tasks", "assay_arith_mc", "--seed", PASTED],
    ["run", "--model", "local", "--tasks", "assay_arith_mc", "--limit", "1", "--gen_kwargs",
     f"max_new_tokens={PASTED}"],
    ["run", "--model", "local", "--tasks", "assay_arith_mc", "--verbosity", PASTED],
    ["run", "--model", "local", "--tasks", "assay_arith_mc", PASTED],
    [PASTED, "--model", "openai"],
])
def test_a_pasted_key_is_not_echoed_by_the_error(argv: list[str], run_dir: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, text = _run(capsys, *argv)
    assert code != 0 and "error" in text, text
    assert leaks([PASTED], [text]) == [], text


@pytest.mark.parametrize("variable", ["OPENAI_BASE_URL", "OPENAI_API_BASE"])
def test_a_key_in_the_base_url_variable_is_hidden(variable: str, run_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(variable, PASTED)
    code, text = _run(capsys, "run", "--model", "openai", "--model_args", "model=m,api_key=k-123456789",
                      "--tasks", "assay_colors", "--limit", "1")
    assert code == 2 and "<hidden" in text, text
    assert leaks([PASTED], [text]) == []


@pytest.mark.parametrize("variable", ["HF_ENDPOINT", "AZURE_API_VERSION", "AZURE_OPENAI_API_VERSION", "API_TYPE",
                                      "WANDB_MODE", "DEPLOYMENT_NAME"])
def test_doctor_masks_a_key_pasted_into_a_plain_setting(variable: str, cli_env: dict[str, str],
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(variable, PASTED)
    code, text = _run(capsys, "doctor", "--json")
    assert leaks([PASTED], [text]) == [], text
    if code == 0:
        row = next(r for r in json.loads(text)["settings"] if variable in (r["name"], r["alias"]))
        assert row["set"] and PASTED[-4:] in str(row["value"]) and PASTED not in str(row["value"])


@pytest.mark.parametrize("where", ["variable", "model_args"])
def test_a_short_key_is_masked_where_it_is_set_as_a_credential(where: str, run_dir: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from tests.emulators import OpenAIEmulator

    short = "Zq9x7"  # below the 6 characters free text can be searched for
    with OpenAIEmulator(key=short) as emu:
        args = f"model=m,base_url={emu.base_url}/v1"
        if where == "variable":
            monkeypatch.setenv("OPENAI_API_KEY", short)
        else:
            args += f",api_key={short}"
        code, text = _run(capsys, "run", "--model", "openai", "--model_args", args, "--tasks", "assay_colors",
                          "--limit", "2", "--log_samples", "--use_cache", "--report", "--output_path",
                          str(run_dir / "out"))
        _, doctor = _run(capsys, "doctor", "--json")
    assert code == 0, text
    assert "shorter than 6 characters" in text  # warned about
    assert leaks([short], [text, doctor], [run_dir / "out", run_dir]) == []
