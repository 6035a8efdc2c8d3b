"""Adversarial catalog, issue #16 "redact, then cut": every place that shortens text (error bodies at 300
characters, malformed answers at 120, request ids at 200, doc fields at 2,000, judge answers, upload errors)
shortens it after redaction or, without a redactor at hand, never in the middle of a word. A key is planted
straddling each cut at every offset: no prefix of it survives, in the message or in the samples file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from assay.env.redaction import Redactor
from assay.providers._http import error_message, malformed
from assay.records.sample import loggable_doc
from assay.text import clip
from tests.fault_server import FaultServer
from tests.helpers import question_task, run_cli, samples

KEY = "sk-proj-QwErTyUiOp1234567890AbCdEfGhIjKl"
REGISTERED = "supersecret-Zx9Qw8Er7Ty6Ui5Op4"  # no vendor shape: found only because it is registered


def planted(limit: int, key: str, lead: str = "Bearer ") -> list[str]:
    """Texts in which ``key`` (after ``lead``) straddles position ``limit`` at every offset, and sits just
    before and just after it."""
    out = []
    for start in range(limit - len(key) - len(lead) - 2, limit + 2):
        filler = ("word " * limit)[:max(0, start)]
        out.append(f"{filler}{lead}{key} and more text after it " * 1 + "x" * 50)
    return out


def leaks(text: str, key: str) -> bool:
    """Whether any 4-character-or-longer prefix of the key's secret part is in ``text``."""
    secret = key.removeprefix("sk-proj-")
    return any(secret[:n] in text for n in range(4, len(secret) + 1)) or key[:6] in text


CUTS: dict[str, tuple[int, Callable[[str], str]]] = {
    "error body, not JSON": (300, lambda t: error_message(t)[0]),
    "error body, JSON message": (300, lambda t: error_message(json.dumps({"error": {"message": t}}))[0]),
    "error body, JSON list": (300, lambda t: error_message(json.dumps([t]))[0]),
    "malformed answer": (120, lambda t: malformed(t, provider="p", where="w", what="JSON").message),
    "doc field": (2000, lambda t: loggable_doc({"q": t})["q"]),
    "any cut": (300, lambda t: clip(t, 300)),
}


@pytest.mark.parametrize("site", list(CUTS))
@pytest.mark.parametrize("lead", ["Bearer ", "key=", "\"api_key\": \"", "\n"])
def test_a_key_straddling_a_cut_leaves_no_prefix(site: str, lead: str) -> None:
    limit, cut = CUTS[site]
    redactor = Redactor()
    for text in planted(limit, KEY, lead):
        shown = redactor.redact(cut(text))  # what every output does with it afterwards
        assert not leaks(shown, KEY), (site, shown[-80:])


def test_where_a_redactor_is_at_hand_it_runs_before_the_cut() -> None:
    redactor = Redactor()
    redactor.add(REGISTERED, "MY_KEY")
    for text in planted(300, REGISTERED, lead=" "):
        shown = clip(text, 300, redact=redactor.redact)
        assert REGISTERED[:4] not in shown
        assert len(shown) <= 301
    whole = clip("a " * 10 + REGISTERED + " b", 300, redact=redactor.redact)
    assert whole == "a " * 10 + "<redacted:MY_KEY> b"


def test_a_server_error_that_straddles_the_cut_reaches_no_file(run_dir: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    folder = question_task(run_dir, "cut", 6)
    bodies = [{"status": 400, "body": {"error": {"message": text}}} for text in planted(300, KEY)[::7][:6]]
    with FaultServer(answer=lambda body: "A") as server:
        server.queue(*bodies)
        run_cli(capsys, "--model", "openai_compatible", "--model_args",
                f"model=m,base_url={server.base_url},max_attempts=1", "--tasks", "cut", "--include_path",
                str(folder), "--log_samples", "--output_path", "out", "--max_error_rate", "1")
    errors = [s["error"]["message"] for s in samples(run_dir / "out") if s["error"]]
    assert len(errors) == 6
    for path in (run_dir / "out").rglob("*"):
        if path.is_file():
            assert not leaks(path.read_text(encoding="utf-8"), KEY), path.name
