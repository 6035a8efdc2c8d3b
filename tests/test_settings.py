"""Settings: precedence, .env discovery and provenance, aliases, strict parsing, LMMS_EVAL_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assay.cli import main
from assay.env.settings import SPECS, Source, load_settings, parse_bool
from assay.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- precedence -----------------------------------------------------------------------------------


def test_default_when_nothing_is_set(isolated: dict[str, str]) -> None:
    settings = load_settings(environ=isolated)
    assert settings.openai_api_key is None
    assert settings.source_of("openai_api_key") == Source("default")
    assert settings.hf_endpoint == "https://huggingface.co"
    assert str(settings.source_of("hf_endpoint")) == "default"


def test_dotenv_beats_default(isolated: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / ".env", "OPENAI_API_KEY=from-dotenv-123456\n")
    settings = load_settings(environ=isolated)
    assert settings.secret("openai_api_key") == "from-dotenv-123456"
    assert settings.source_of("openai_api_key").kind == "dotenv"


def test_env_beats_dotenv(isolated: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / ".env", "OPENAI_API_KEY=from-dotenv-123456\nVERBOSITY=DEBUG\n")
    settings = load_settings(environ={**isolated, "OPENAI_API_KEY": "from-env-123456"})
    assert settings.secret("openai_api_key") == "from-env-123456"
    assert settings.source_of("openai_api_key") == Source("env", "OPENAI_API_KEY")
    assert settings.verbosity == "DEBUG"  # a variable only in .env still comes from it


def test_cli_beats_env(isolated: dict[str, str]) -> None:
    settings = load_settings(
        environ={**isolated, "VERBOSITY": "ERROR"},
        overrides={"verbosity": "debug"},
        flag_names={"verbosity": "--verbosity"},
    )
    assert settings.verbosity == "DEBUG"
    assert str(settings.source_of("verbosity")) == "cli --verbosity"


def test_override_none_means_not_given(isolated: dict[str, str]) -> None:
    settings = load_settings(environ={**isolated, "VERBOSITY": "ERROR"}, overrides={"verbosity": None})
    assert settings.verbosity == "ERROR"


def test_an_empty_variable_still_wins_over_dotenv(isolated: dict[str, str], tmp_path: Path) -> None:
    """python-dotenv (and the README): a variable that is set wins, even set to nothing."""
    write(tmp_path / ".env", "HF_TOKEN=hf_from_dotenv_123\nVERBOSITY=DEBUG\n")
    settings = load_settings(environ={**isolated, "HF_TOKEN": "", "VERBOSITY": ""})
    assert settings.secret("hf_token") is None
    assert str(settings.source_of("hf_token")) == "env HF_TOKEN (empty)"
    assert settings.verbosity == "INFO"  # the default, not .env's DEBUG
    # An alias with a value beats the primary name set empty.
    settings = load_settings(environ={**isolated, "HF_TOKEN": "", "HUGGING_FACE_HUB_TOKEN": "hf_alias_12345678"})
    assert settings.secret("hf_token") == "hf_alias_12345678"


def test_dotenv_does_not_touch_os_environ(isolated: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / ".env", "ASSAY_TEST_ONLY_VARIABLE=1\nREKA_API_KEY=reka-123456789\n")
    load_settings(environ=isolated)
    assert "ASSAY_TEST_ONLY_VARIABLE" not in os.environ


def test_with_overrides_marks_cli(isolated: dict[str, str]) -> None:
    settings = load_settings(environ={**isolated, "OPENAI_API_KEY": "sk-env-1234567890"})
    changed = settings.with_overrides({"use_cache": "true"}, {"use_cache": "--use_cache"})
    assert changed.use_cache is True
    assert str(changed.source_of("use_cache")) == "cli --use_cache"
    assert changed.secret("openai_api_key") == "sk-env-1234567890"
    assert changed.source_of("openai_api_key") == Source("env", "OPENAI_API_KEY")


# -- .env files -----------------------------------------------------------------------------------


def test_dotenv_found_in_a_parent_folder(isolated: dict[str, str], tmp_path: Path) -> None:
    env = write(tmp_path / ".env", "OPENAI_API_KEY=sk-parent-123456\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    settings = load_settings(environ=isolated, cwd=deep)
    assert settings.secret("openai_api_key") == "sk-parent-123456"
    assert settings.env_files == (env,)


def test_nearest_dotenv_wins_and_only_one_is_read(isolated: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / ".env", "OPENAI_API_KEY=sk-outer-123456\nHF_TOKEN=hf_outer_123456\n")
    inner = write(tmp_path / "proj" / ".env", "OPENAI_API_KEY=sk-inner-123456\n")
    settings = load_settings(environ=isolated, cwd=tmp_path / "proj")
    assert settings.secret("openai_api_key") == "sk-inner-123456"
    assert settings.hf_token is None
    assert settings.env_files == (inner,)


def test_env_file_flag_repeatable_later_wins(isolated: dict[str, str], tmp_path: Path) -> None:
    first = write(tmp_path / "one.env", "OPENAI_API_KEY=sk-first-123456\nHF_TOKEN=hf_first_123456\n")
    second = write(tmp_path / "two.env", "OPENAI_API_KEY=sk-second-123456\n")
    write(tmp_path / ".env", "XAI_API_KEY=xai-not-read-123456\n")  # --env-file turns discovery off
    settings = load_settings(environ=isolated, env_files=[first, second])
    assert settings.secret("openai_api_key") == "sk-second-123456"
    assert settings.secret("hf_token") == "hf_first_123456"
    assert settings.xai_api_key is None
    assert settings.env_files == (first, second)
    assert str(settings.source_of("openai_api_key")) == f"dotenv {second}:1 (OPENAI_API_KEY)"


def test_missing_env_file_is_an_error(isolated: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(environ=isolated, env_files=[tmp_path / "nope.env"])


def test_provenance_names_file_and_line(isolated: dict[str, str], tmp_path: Path) -> None:
    env = write(
        tmp_path / ".env",
        "# credentials\n\nOPENAI_API_KEY=sk-line3-123456\n\n\n  \nexport HF_TOKEN='hf_line7_123456'\n",
    )
    settings = load_settings(environ=isolated)
    assert str(settings.source_of("openai_api_key")) == f"dotenv {env}:3 (OPENAI_API_KEY)"
    assert str(settings.source_of("hf_token")) == f"dotenv {env}:7 (HF_TOKEN)"
    assert settings.secret("hf_token") == "hf_line7_123456"


def test_malformed_dotenv_line_names_file_and_line(isolated: dict[str, str], tmp_path: Path) -> None:
    env = write(tmp_path / ".env", "OPENAI_API_KEY=sk-ok-123456\n\nthis is not a setting\n")
    with pytest.raises(ConfigError) as info:
        load_settings(environ=isolated)
    assert str(info.value) == f"{env}:3: malformed line in .env file"
    assert "KEY=value" in info.value.hint
    assert "sk-ok" not in str(info.value) + info.value.hint


def test_unrelated_dotenv_lines_are_ignored(isolated: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / ".env", "SOMETHING_ELSE=1\nDATABASE_URL=postgres://x\n")
    assert load_settings(environ=isolated).openai_api_key is None


# -- aliases --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "field"),
    [
        ("HUGGING_FACE_HUB_TOKEN", "hf_token"),
        ("GEMINI_API_KEY", "google_api_key"),
        ("AZURE_OPENAI_API_KEY", "azure_api_key"),
        ("AZURE_OPENAI_ENDPOINT", "azure_endpoint"),
        ("OPENAI_API_BASE", "openai_base_url"),
        ("OPENAI_API_VERSION", "azure_api_version"),
    ],
)
@pytest.mark.parametrize("where", ["env", "dotenv"])
def test_alias(isolated: dict[str, str], tmp_path: Path, variable: str, field: str, where: str) -> None:
    value = "alias-value-1234567"
    if where == "env":
        settings = load_settings(environ={**isolated, variable: value})
        assert settings.source_of(field) == Source("env", variable)
    else:
        env = write(tmp_path / ".env", f"{variable}={value}\n")
        settings = load_settings(environ=isolated)
        assert str(settings.source_of(field)) == f"dotenv {env}:1 ({variable})"
    raw = getattr(settings, field)
    assert (settings.secret(field) or raw) == value


def test_primary_name_beats_alias(isolated: dict[str, str]) -> None:
    settings = load_settings(
        environ={**isolated, "HF_TOKEN": "hf_primary_123456", "HUGGING_FACE_HUB_TOKEN": "hf_alias_123456"}
    )
    assert settings.secret("hf_token") == "hf_primary_123456"
    assert settings.source_of("hf_token") == Source("env", "HF_TOKEN")


def test_secret_values_are_keyed_by_primary_name(isolated: dict[str, str]) -> None:
    settings = load_settings(environ={**isolated, "GEMINI_API_KEY": "AIza-gemini-123456"})
    assert settings.secret_values() == {"GOOGLE_API_KEY": "AIza-gemini-123456"}
    assert "AIza-gemini-123456" not in repr(settings)


# -- parsing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), ("true", True), ("TRUE", True), ("Yes", True), ("on", True), (" true ", True),
     ("0", False), ("false", False), ("False", False), ("no", False), ("OFF", False)],
)
def test_bool_accepted_forms(isolated: dict[str, str], text: str, expected: bool) -> None:
    assert parse_bool(text) is expected
    assert load_settings(environ={**isolated, "LMMS_EVAL_USE_CACHE": text}).use_cache is expected


@pytest.mark.parametrize("text", ["maybe", "2", "enabled", "tru"])
def test_bool_rejects_other_values(isolated: dict[str, str], text: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={**isolated, "LMMS_EVAL_SHUFFLE_DOCS": text})
    message = str(info.value)
    assert message.startswith(f"LMMS_EVAL_SHUFFLE_DOCS={text!r} (from env LMMS_EVAL_SHUFFLE_DOCS) is not valid")
    assert "true/false" in message
    assert info.value.exit_code == 2


def test_bad_bool_in_dotenv_names_the_file(isolated: dict[str, str], tmp_path: Path) -> None:
    env = write(tmp_path / ".env", "\nLMMS_EVAL_USE_CACHE=sometimes\n")
    with pytest.raises(ConfigError, match=rf"from dotenv {env}:2"):
        load_settings(environ=isolated)


def test_choices_are_case_insensitive_and_checked(isolated: dict[str, str]) -> None:
    settings = load_settings(environ={**isolated, "API_TYPE": " Azure ", "VERBOSITY": "warning"})
    assert (settings.judge_api_type, settings.verbosity) == ("azure", "WARNING")
    with pytest.raises(ConfigError, match="API_TYPE='gcp'"):
        load_settings(environ={**isolated, "API_TYPE": "gcp"})


def test_plugins_are_split(isolated: dict[str, str]) -> None:
    settings = load_settings(environ={**isolated, "LMMS_EVAL_PLUGINS": "pkg_a, pkg_b,,"})
    assert settings.plugins == ("pkg_a", "pkg_b")


def _assert_clean_error(code: int, err: str, expected_code: int) -> None:
    assert code == expected_code
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("error: ")
    assert lines[1].startswith("hint: ")
    assert "Traceback" not in err


def test_cli_bad_bool_exits_2_with_one_line_error(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LMMS_EVAL_USE_CACHE", "maybe")
    code = main(["doctor"])
    captured = capsys.readouterr()
    _assert_clean_error(code, captured.err, 2)
    assert "LMMS_EVAL_USE_CACHE='maybe'" in captured.err
    assert captured.out == ""


def test_cli_malformed_dotenv_exits_2(cli_env: dict[str, str], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    env = write(tmp_path / ".env", "OPENAI_API_KEY=sk-dotenv-secret-123456\n!!! nonsense\n")
    code = main(["doctor"])
    err = capsys.readouterr().err
    _assert_clean_error(code, err, 2)
    assert f"{env}:2: malformed line" in err
    assert "sk-dotenv-secret-123456" not in err


def test_cli_missing_env_file_exits_2(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "--env-file", "nope.env"])
    _assert_clean_error(code, capsys.readouterr().err, 2)


def test_cli_env_file_flag_repeatable(cli_env: dict[str, str], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    import json

    write(tmp_path / "a.env", "XAI_API_KEY=xai-first-1234567890\nREKA_API_KEY=reka-first-1234567890\n")
    write(tmp_path / "b.env", "XAI_API_KEY=xai-second-123456abcd\n")
    assert main(["doctor", "--json", "--env-file", "a.env", "--env-file", "b.env"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["settings"]}
    assert rows["XAI_API_KEY"]["value"] == "xai-…abcd"
    assert rows["XAI_API_KEY"]["source"] == "dotenv b.env:1 (XAI_API_KEY)"
    assert rows["REKA_API_KEY"]["source"] == "dotenv a.env:2 (REKA_API_KEY)"


def test_every_spec_field_exists_on_settings() -> None:
    import dataclasses

    from assay.env.settings import Settings

    public = {f.name for f in dataclasses.fields(Settings) if not f.name.startswith("_")}
    assert {spec.field for spec in SPECS} == public


# -- LMMS_EVAL_HOME -------------------------------------------------------------------------------


def test_home_expands_tilde_from_given_environ(isolated: dict[str, str], tmp_path: Path) -> None:
    settings = load_settings(environ={"HOME": str(tmp_path / "me"), "LMMS_EVAL_HOME": "~/cache"})
    assert settings.home == tmp_path / "me" / "cache"


@pytest.mark.parametrize("form", ["$ROOT/lmms", "${ROOT}/lmms"])
def test_home_expands_variables_from_given_environ(isolated: dict[str, str], tmp_path: Path, form: str) -> None:
    settings = load_settings(environ={"ROOT": str(tmp_path / "root"), "LMMS_EVAL_HOME": form})
    assert settings.home == tmp_path / "root" / "lmms"


def test_home_unknown_variable_is_left_alone(isolated: dict[str, str]) -> None:
    settings = load_settings(environ={"LMMS_EVAL_HOME": "/data/$ASSAY_SURELY_UNSET_VAR/x"})
    assert settings.home == Path("/data/$ASSAY_SURELY_UNSET_VAR/x")


def test_home_from_dotenv_expands_too(isolated: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / ".env", "LMMS_EVAL_HOME=$ROOT/from-dotenv\n")
    settings = load_settings(environ={"ROOT": str(tmp_path)})
    assert settings.home == tmp_path / "from-dotenv"


def test_home_is_created_on_demand_only(isolated: dict[str, str], tmp_path: Path) -> None:
    settings = load_settings(environ=isolated)
    home = Path(isolated["LMMS_EVAL_HOME"])
    assert settings.home == home
    assert not home.exists()
    assert settings.ensure_home() == home
    assert home.is_dir()


def test_home_that_cannot_be_created_is_a_config_error(isolated: dict[str, str], tmp_path: Path) -> None:
    blocker = write(tmp_path / "file", "not a folder")
    settings = load_settings(environ={"LMMS_EVAL_HOME": str(blocker / "home")})
    with pytest.raises(ConfigError, match="cannot create LMMS_EVAL_HOME"):
        settings.ensure_home()


def test_doctor_does_not_create_home(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 0
    assert not Path(cli_env["LMMS_EVAL_HOME"]).exists()


# -- login files written by the vendors' own tools ----------------------------------------------


def test_huggingface_cli_login_token_is_used_last(tmp_path: Path) -> None:
    token_file = tmp_path / ".cache" / "huggingface" / "token"
    token_file.parent.mkdir(parents=True)
    token_file.write_text("hf_fromLoginFile0000\n")
    s = load_settings(environ={"HOME": str(tmp_path)}, discover_dotenv=False)
    assert s.secret("hf_token") == "hf_fromLoginFile0000"
    assert s.source_of("hf_token").kind == "login"
    # Anything set explicitly wins over the login file.
    s = load_settings(environ={"HOME": str(tmp_path), "HF_TOKEN": "hf_env"}, discover_dotenv=False)
    assert s.secret("hf_token") == "hf_env" and s.source_of("hf_token").kind == "env"


def test_hf_home_and_token_path_are_honoured(tmp_path: Path) -> None:
    (tmp_path / "custom").mkdir()
    (tmp_path / "custom" / "token").write_text("hf_custom")
    s = load_settings(environ={"HOME": str(tmp_path), "HF_HOME": str(tmp_path / "custom")}, discover_dotenv=False)
    assert s.secret("hf_token") == "hf_custom"


def test_wandb_login_netrc_entry_is_used(tmp_path: Path) -> None:
    netrc_file = tmp_path / ".netrc"
    netrc_file.write_text("machine api.wandb.ai\n  login user\n  password wandb0123456789abcdef0123456789abcdef01\n")
    netrc_file.chmod(0o600)
    s = load_settings(environ={"HOME": str(tmp_path)}, discover_dotenv=False)
    assert s.secret("wandb_api_key") == "wandb0123456789abcdef0123456789abcdef01"
    assert "wandb login" in str(s.source_of("wandb_api_key"))
    # A self-hosted W&B server has its own netrc entry.
    s = load_settings(environ={"HOME": str(tmp_path), "WANDB_BASE_URL": "https://wandb.example.org"},
                      discover_dotenv=False)
    assert s.wandb_api_key is None


def test_a_broken_netrc_is_ignored(tmp_path: Path) -> None:
    (tmp_path / ".netrc").write_text("machine\n")
    s = load_settings(environ={"HOME": str(tmp_path)}, discover_dotenv=False)
    assert s.wandb_api_key is None


def test_no_home_no_login_files(tmp_path: Path) -> None:
    assert load_settings(environ={}, discover_dotenv=False).hf_token is None
