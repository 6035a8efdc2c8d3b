"""The redactor: text and object redaction, masking, and every output path (logs, CLI errors)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.cli import main
from assay.env.credentials import Redactor, is_secret_key, mask
from assay.env.log import NOISY_LOGGERS, configure_logging
from assay.env.settings import load_settings

OPENAI = "sk-proj-OPENAIsecretVALUE0001"
HF = "hf_HFsecretVALUE00000002"


@pytest.fixture
def redactor() -> Redactor:
    r = Redactor()
    r.add(OPENAI, "OPENAI_API_KEY")
    r.add(HF, "HF_TOKEN")
    return r


# -- text -----------------------------------------------------------------------------------------


def test_redact_replaces_every_occurrence(redactor: Redactor) -> None:
    text = f"key={OPENAI} again {OPENAI}; token {HF}"
    assert redactor.redact(text) == (
        "key=<redacted:OPENAI_API_KEY> again <redacted:OPENAI_API_KEY>; token <redacted:HF_TOKEN>"
    )


def test_longest_secret_wins() -> None:
    r = Redactor()
    r.add("abcdef123456", "SHORTER")
    r.add("abcdef123456789xyz", "LONGER")
    assert r.redact("x abcdef123456789xyz y abcdef123456 z") == "x <redacted:LONGER> y <redacted:SHORTER> z"


def test_short_values_do_not_shred_text() -> None:
    r = Redactor()
    r.add("abc", "TINY")
    r.add("", "EMPTY")
    r.add(None, "NONE")
    assert r.redact("abc abcabc") == "abc abcabc"
    assert r.redact_obj({"api_key": "abc", "note": "abc"}) == {"api_key": "<redacted:TINY>", "note": "abc"}


def test_first_label_is_kept_and_labels_never_show_values(redactor: Redactor) -> None:
    redactor.add(OPENAI, "SOMETHING_ELSE")
    assert redactor.redact(OPENAI) == "<redacted:OPENAI_API_KEY>"
    assert redactor.labels() == ["HF_TOKEN", "OPENAI_API_KEY"]
    assert len(redactor) == 2


def test_url_encoded_form_is_redacted_too() -> None:
    r = Redactor()
    r.add("p@ss/word+123", "PASSWORD")
    assert r.redact("https://h/?k=p%40ss%2Fword%2B123") == "https://h/?k=<redacted:PASSWORD>"


def test_regex_characters_in_secrets_are_literal() -> None:
    r = Redactor()
    r.add("a.b*c+d(e)f", "WEIRD")
    assert r.redact("a.b*c+d(e)f and aXbbbcdef") == "<redacted:WEIRD> and aXbbbcdef"


def test_add_settings_labels_by_variable(isolated: dict[str, str]) -> None:
    settings = load_settings(environ={**isolated, "HUGGING_FACE_HUB_TOKEN": HF, "WANDB_API_KEY": "wandb0123456789"})
    r = Redactor()
    r.add_settings(settings)
    assert r.redact(f"{HF} wandb0123456789") == "<redacted:HF_TOKEN> <redacted:WANDB_API_KEY>"


# -- objects --------------------------------------------------------------------------------------


def test_redact_obj_nested_results(redactor: Redactor) -> None:
    result = {
        "config": {"model_args": {"model": "gpt-4o", "api_key": OPENAI, "base_url": "http://h"}},
        "samples": [{"resp": f"echo {HF}", "filtered": (OPENAI, 3, None)}],
        "hub": {"token": "unregistered-token-value", "push": True},
        "dataset_kwargs": {"token": True},
        "generation": {"max_tokens": 16, "eos_token": "</s>"},
        f"key {OPENAI}": 1,
    }
    out = redactor.redact_obj(result)
    assert out["config"]["model_args"] == {"model": "gpt-4o", "api_key": "<redacted:OPENAI_API_KEY>", "base_url": "http://h"}
    assert out["samples"] == [{"resp": "echo <redacted:HF_TOKEN>", "filtered": ("<redacted:OPENAI_API_KEY>", 3, None)}]
    assert out["hub"] == {"token": "<redacted:token>", "push": True}  # masked whatever it is
    assert out["dataset_kwargs"] == {"token": True}  # a flag, not a secret
    assert out["generation"] == {"max_tokens": 16, "eos_token": "</s>"}
    assert "key <redacted:OPENAI_API_KEY>" in out
    assert result["config"]["model_args"]["api_key"] == OPENAI  # the input is not changed


@pytest.mark.parametrize(
    "name",
    ["api_key", "API_KEY", "key", "token", "hf_token", "auth_token", "openai_api_key", "secret", "client_secret",
     "password", "db_password", "access_key", "api-key"],
)
def test_secret_looking_keys(name: str) -> None:
    assert is_secret_key(name)


@pytest.mark.parametrize(
    "name", ["model", "max_tokens", "max_new_tokens", "eos_token", "pad_token", "tokenizer", "cache_key",
             "base_url", "keyword", "monkey"],
)
def test_ordinary_keys(name: str) -> None:
    assert not is_secret_key(name)


def test_add_args_registers_and_returns_secret_keys() -> None:
    r = Redactor()
    keys = r.add_args({"model": "gpt-4o", "api_key": "sk-cli-123456789", "token": True,
                       "nested": {"hf_token": "hf_nested_1234567"}}, "--model_args")
    assert keys == ["api_key", "nested.hf_token"]
    assert r.redact("sk-cli-123456789 hf_nested_1234567") == (
        "<redacted:model_args.api_key> <redacted:model_args.nested.hf_token>"
    )


# -- mask -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("sk-abcdefghijklmnop9f2c", "sk-…9f2c"),
        ("sk-proj-abcdefghijklmnopqrstuv1234", "sk-proj-…1234"),
        ("hf_abcdefghijklmnopqrst9876", "hf_…9876"),
        ("plainsecretvalue1234", "…1234"),
        ("sk-abcdef1234", "…1234"),  # the prefix would leave too little hidden
        ("short-val01", "****"),
        ("abc", "****"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask(value: str | None, shown: str) -> None:
    assert mask(value) == shown


def test_mask_never_shows_more_than_four_secret_characters() -> None:
    value = "sk-" + "x" * 40 + "ABCDE"
    assert mask(value).endswith("BCDE")
    assert "ABCDE" not in mask(value)


# -- logging --------------------------------------------------------------------------------------


def test_child_logger_messages_are_redacted(redactor: Redactor, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", redactor)
    logging.getLogger("assay.model.retry").warning("calling with key %s", OPENAI)
    logging.getLogger("some.library.deep.child").info("token=%s", HF)
    err = capsys.readouterr().err
    assert "WARNING assay.model.retry: calling with key <redacted:OPENAI_API_KEY>" in err
    assert "INFO some.library.deep.child: token=<redacted:HF_TOKEN>" in err
    assert OPENAI not in err and HF not in err


def test_a_logger_filter_would_not_see_child_records(redactor: Redactor) -> None:
    """Why the filter is on the handler: a logger's filters skip records propagated from children."""
    seen: list[str] = []

    class Spy(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            seen.append(record.name)
            return True

    parent = logging.getLogger("assay_spy_parent")
    spy = Spy()
    parent.addFilter(spy)
    try:
        logging.getLogger("assay_spy_parent.child").warning("hello")
    finally:
        parent.removeFilter(spy)
    assert seen == []


def test_exception_text_in_logs_is_redacted(redactor: Redactor, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", redactor)
    try:
        raise RuntimeError(f"request failed for {OPENAI}")
    except RuntimeError:
        logging.getLogger("assay.x").exception("boom")
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "RuntimeError: request failed for <redacted:OPENAI_API_KEY>" in err
    assert OPENAI not in err


def test_warnings_are_logged_and_redacted(redactor: Redactor, capsys: pytest.CaptureFixture[str]) -> None:
    logging.captureWarnings(False)  # start from a known state (pytest also hooks warnings)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        configure_logging("INFO", redactor)
        try:
            warnings.warn(f"deprecated use of {HF}", UserWarning, stacklevel=1)
        finally:
            logging.captureWarnings(False)
    err = capsys.readouterr().err
    assert "py.warnings" in err
    assert "<redacted:HF_TOKEN>" in err and HF not in err


def test_bad_format_args_do_not_break_the_filter(redactor: Redactor) -> None:
    record = logging.LogRecord("assay.x", logging.WARNING, __file__, 1, "%d items for %s", ("nan", OPENAI), None)
    assert redactor.filter().filter(record)
    assert OPENAI not in record.getMessage()
    assert "<redacted:OPENAI_API_KEY>" in record.getMessage()
    assert record.args is None


def test_configure_logging_is_idempotent_and_sets_levels(redactor: Redactor) -> None:
    root = logging.getLogger()
    before = len(root.handlers)
    configure_logging("WARNING", redactor)
    configure_logging("INFO", redactor)
    assert len(root.handlers) == before + 1
    assert root.level == logging.INFO
    for name in NOISY_LOGGERS:
        assert logging.getLogger(name).level == logging.WARNING
    configure_logging("DEBUG", redactor)
    assert len(root.handlers) == before + 1
    assert root.level == logging.DEBUG
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.DEBUG


def test_level_filters_output(redactor: Redactor, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("WARNING", redactor)
    logging.getLogger("assay.x").info("quiet")
    logging.getLogger("assay.x").warning("loud")
    err = capsys.readouterr().err
    assert "quiet" not in err and "loud" in err


def test_noisy_library_info_hidden_at_info(redactor: Redactor, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", redactor)
    logging.getLogger("httpx").info("HTTP Request: GET https://x")
    logging.getLogger("urllib3.connectionpool").info("Starting new HTTPS connection")
    assert capsys.readouterr().err == ""


# -- CLI error output -----------------------------------------------------------------------------


def test_cli_exception_text_is_redacted(cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={OPENAI}\n")

    def boom(*args: object) -> int:
        raise RuntimeError(f"server echoed Authorization: Bearer {OPENAI}")

    monkeypatch.setattr("assay.cli.doctor_cmd.run", boom)
    assert main(["doctor"]) == 1
    err = capsys.readouterr().err
    assert "error: unexpected RuntimeError: server echoed Authorization: Bearer <redacted:OPENAI_API_KEY>" in err
    assert "Traceback" not in err
    assert OPENAI not in err


def test_cli_debug_traceback_is_redacted(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HF_TOKEN", HF)

    def boom(*args: object) -> int:
        raise ValueError(f"bad token {HF}")

    monkeypatch.setattr("assay.cli.doctor_cmd.run", boom)
    assert main(["doctor", "--verbosity", "DEBUG"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "ValueError: bad token <redacted:HF_TOKEN>" in err
    assert HF not in err


def test_cli_model_args_secret_warns_without_echoing(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk-cli-typed-secret-000111"
    code = main(["doctor", "--model", "openai", "--model_args", f"model=gpt-4o,api_key={secret}", "--json"])
    captured = capsys.readouterr()
    assert code == 0  # the key given on the command line satisfies the model
    assert (
        "`api_key` in --model_args: command lines end up in shell history; set OPENAI_API_KEY in .env instead"
        in captured.err
    )
    assert secret not in captured.out + captured.err
    assert all(secret not in r.getMessage() for r in caplog.records)


def test_handlers_installed_before_ours_see_only_redacted_records(redactor: Redactor) -> None:
    """A library's (or pytest's) handler on the root logger must not get the raw secret either."""
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    foreign = Collect()
    logging.getLogger().addHandler(foreign)
    try:
        configure_logging("INFO", redactor)
        logging.getLogger("some.library").warning("connecting with %s", OPENAI)
    finally:
        logging.getLogger().removeHandler(foreign)
    assert seen and all(OPENAI not in m for m in seen)
    assert "<redacted:" in seen[0]


# -- structure: URLs, escaped forms, shapes, identities ---------------------------------------------


def test_url_credentials_are_registered_and_masked_in_free_text() -> None:
    r = Redactor()
    r.add_url("https://svc:p4ssw0rd-long@h.example/v1?api_key=qk-0123456789&tier=2", "OPENAI_BASE_URL")
    text = "tried svc:p4ssw0rd-long and qk-0123456789 and c3ZjOnA0c3N3MHJkLWxvbmc="  # the last: Basic auth
    assert r.redact(text).count("<redacted:OPENAI_BASE_URL>") == 3
    # Any userinfo and secret query value in any URL, registered or not, whatever its length:
    assert r.redact("GET http://a:b@h/x?token=t1&page=2&sig=zz") == (
        "GET http://<redacted:userinfo>@h/x?token=<redacted:query>&page=2&sig=<redacted:query>")
    assert r.redact("?monkey=banana&keyword=x") == "?monkey=banana&keyword=x"


def test_every_escaped_form_of_a_secret_is_redacted() -> None:
    import json
    from urllib.parse import quote, quote_plus

    secret = 'ab"c\\d\te-ü-secret'
    r = Redactor()
    r.add(secret, "K")
    for form in (secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=True)[1:-1],
                 quote(secret, safe=""), quote_plus(secret), repr(secret)[1:-1],
                 json.dumps(json.dumps(secret)[1:-1])[1:-1]):
        assert r.redact(f"x {form} y") == "x <redacted:K> y", form


def test_credentials_recognisable_by_shape_are_masked_unregistered() -> None:
    r = Redactor()
    text = ("keys sk-proj-abcdefghijklmnopqrstuvwx hf_abcdefghijklmnopqrstuvwxyz0123456 "
            "AIzaSyA1234567890abcdefghijklmnopqrstuv Authorization: Bearer abc.def-123456")
    assert r.redact(text) == ("keys <redacted:credential> <redacted:credential> <redacted:credential> "
                              "Authorization: Bearer <redacted:credential>")
    assert r.redact("Bearer authentication failed; ask-me-anything") == "Bearer authentication failed; ask-me-anything"


def test_public_identity_drops_credentials_and_hashes_body_secrets() -> None:
    from assay.env.masking import public_identity

    identity = {"provider": "openai", "base_url": "https://u:p@h/v1?key=k1&api-version=2", "api_key": "sk-x",
                "body": {"access_token": "tok-123456", "user": "me", "token": True}}
    public = public_identity(identity)
    assert public["base_url"] == "https://h/v1?api-version=2" and "api_key" not in public
    assert public["body"]["access_token"].startswith("sha256:") and "tok-123456" not in str(public)
    assert public["body"]["user"] == "me" and public["body"]["token"] is True
    other = public_identity({**identity, "body": {**identity["body"], "access_token": "tok-654321"}})
    assert other["body"]["access_token"] != public["body"]["access_token"]  # told apart, never stored


@pytest.mark.parametrize(("value", "hidden"), [("sk-proj-abcdefghijklmnopqrstu", True), ("LOUD", False),
                                               ("x7Gq2LmZ9pR4tV8wY3bN", True), ("just some words here ok", False)])
def test_shown_value_hides_what_looks_like_a_credential(value: str, hidden: bool) -> None:
    from assay.env.masking import shown_value

    assert shown_value(value).startswith("<hidden") == hidden


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("&<>\"'ab;#x27 é&amp;"), max_size=30) | st.text(max_size=30))
def test_the_html_form_of_a_secret_is_html_escapes(value: str) -> None:
    import html

    from assay.env.masking import html_escaped

    assert html_escaped(value) == html.escape(value, quote=True)
