"""The Hugging Face Hub through the real `huggingface_hub` client over HTTP, against a loopback emulation
of the endpoints it uses (tests/hub_server.py): files, card, privacy, gating, idempotence, refusals."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from assay.cli import main
from assay.sinks import card
from tests.hub_server import HubServer
from tests.sinks_support import HF_TOKEN, answer_b, hub, make_run

pytest.importorskip("huggingface_hub")
__all__ = ["hub"]  # the fixture, used by name


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two real finished runs of the same model, the second one newer."""
    root = tmp_path_factory.mktemp("hub-runs")
    first = make_run(root / "a", log_media=False)
    second = make_run(root / "b", answer=answer_b, log_media=False)
    return first, second


@pytest.fixture
def env(cli_env: dict[str, str], hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    return hub


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_results_and_samples_arrive_with_a_card_in_a_private_repo(
    runs: tuple[Path, Path], env: HubServer, capsys: pytest.CaptureFixture[str],
) -> None:
    first = runs[0]
    code = main(["push", str(first), "--hf_hub_log_args", "hub_results_org=team,point_of_contact=me@example.org"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Hugging Face Hub: results -> team/lmms-eval-results-private" in out
    repo = env.repos["team/lmms-eval-results-private"]
    assert repo.private and repo.gated is False
    assert [c["summary"] for c in repo.commits] == [f"Add results of m run {first.name[:-13]}",
                                                    f"Add samples of m run {first.name[:-13]}"]
    local = {f"m/{p.name}": p.read_bytes() for p in first.parent.glob(f"{first.name[:-13]}_*") if p.is_file()}
    assert {k: v for k, v in repo.files.items() if k != "README.md"} == local  # byte for byte
    readme = repo.files["README.md"].decode()
    front = readme.split("---\n")[1]
    assert "config_name: m__assay_colors" in front and "split: latest" in front and "point_of_contact" in front
    (entry,) = card.runs_in(readme)
    results = json.loads(first.read_text())
    assert entry["metrics"]["assay_colors"]["exact_match"] == results["results"]["assay_colors"]["metrics"][
        "exact_match"]["value"]
    assert "| m | " + results["run_id"] + " | complete | assay_colors | exact_match |" in readme
    # Every request carried the token in its header (but the client's anonymous read of a public registry),
    # and no body did.
    unauthenticated = {r["path"] for r in env.requests if r["headers"].get("authorization") != f"Bearer {HF_TOKEN}"}
    assert unauthenticated <= {"/api/agent-harnesses"}
    assert all("authorization" not in r["headers"] for r in env.requests if r["path"] in unauthenticated)
    assert not any(HF_TOKEN.encode() in body for body in env.received_bytes())


def test_pushing_again_changes_nothing_and_a_newer_run_becomes_latest(
    runs: tuple[Path, Path], env: HubServer, capsys: pytest.CaptureFixture[str],
) -> None:
    first, second = runs
    args = ["--hf_hub_log_args", "hub_results_org=team,public_repo=True,gated=True"]
    assert main(["push", str(first), *args]) == 0
    repo = env.repos["team/lmms-eval-results"]  # public: lmms-eval's name without "-private"
    assert not repo.private and repo.gated == "auto"
    commits = len(repo.commits)
    assert main(["push", str(first), *args]) == 0  # idempotent: same paths, same bytes, same card
    assert len(repo.commits) == commits
    assert main(["push", str(second), *args]) == 0
    readme = repo.files["README.md"].decode()
    assert {r["run_id"] for r in card.runs_in(readme)} == {first.name[:-13], second.name[:-13]}
    configs = {c["config_name"]: c["data_files"] for c in yaml.safe_load(readme.split("---\n")[1])["configs"]}
    assert configs["m__results"][-1] == {"split": "latest", "path": [f"m/{second.name}"]}  # the newer run
    assert len(configs["m__results"]) == 3 and len(configs["m__assay_colors"]) == 3  # a split per run + latest


def test_org_defaults_to_the_token_owner_and_samples_can_be_left_out(
    runs: tuple[Path, Path], env: HubServer, capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["push", str(runs[0]), "--hf_hub_log_args", "push_samples_to_hub=False,results_repo_name=scores"])
    assert code == 0, capsys.readouterr().err
    repo = env.repos["tester/scores-private"]
    assert sorted(repo.files) == ["README.md", f"m/{runs[0].name}"]


def test_a_refused_token_exits_3_with_the_hint_and_leaves_the_files_alone(
    runs: tuple[Path, Path], env: HubServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = "hf_wrongTOKEN_0123456789abcdefgh"
    monkeypatch.setenv("HF_TOKEN", wrong)
    before = _snapshot(runs[0].parent)
    code = main(["push", str(runs[0]), "--hf_hub_log_args", "hub_results_org=team"])
    out, err = capsys.readouterr()
    assert code == 3
    assert "error: HF_TOKEN was refused (401)" in err
    assert "hint: set a valid HF_TOKEN with write access" in err
    assert wrong not in out + err
    assert not env.repos
    assert _snapshot(runs[0].parent) == before


def test_a_token_refused_during_the_push_is_named_too(
    runs: tuple[Path, Path], cli_env: dict[str, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The live check passes (whoami), then the Hub refuses the write: still exit 3 and the hint."""
    with HubServer(HF_TOKEN, orgs=()) as server:
        monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        code = main(["push", str(runs[0]), "--hf_hub_log_args", "hub_results_org=someone-else"])
    err = capsys.readouterr().err
    assert code == 3
    assert "refused to write" in err and "hint: use a token with write access" in err


def test_an_unreachable_hub_exits_5(runs: tuple[Path, Path], cli_env: dict[str, str],
                                    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import closed_port

    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    code = main(["push", str(runs[0]), "--hf_hub_log_args", "hub_results_org=team"])
    err = capsys.readouterr().err
    assert code == 5
    assert "could not reach the Hugging Face Hub" in err and "hint: check HF_ENDPOINT" in err


@pytest.mark.parametrize(("args", "needle"), [
    ("hub_results_org=team,colour=blue", "unknown key colour"),
    ("public_repo=maybe", "public_repo=maybe is not true or false"),
])
def test_bad_hub_args_are_usage_errors(runs: tuple[Path, Path], env: HubServer, capsys: pytest.CaptureFixture[str],
                                       args: str, needle: str) -> None:
    assert main(["push", str(runs[0]), "--hf_hub_log_args", args]) == 2
    assert needle in capsys.readouterr().err
    assert not env.requests


def test_push_finds_runs_in_folders_and_refuses_unfinished_ones(
    runs: tuple[Path, Path], env: HubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(runs[0].parent.parent, logs)
    doc = json.loads(next(logs.rglob("*_results.json")).read_text())
    path = next(logs.rglob("*_results.json"))
    path.write_text(json.dumps({**doc, "status": "running"}))
    assert main(["push", str(logs), "--hf_hub_log_args", "hub_results_org=team"]) == 5
    err = capsys.readouterr().err
    assert "has status `running`" in err and "--allow_incomplete" in err
    assert main(["push", str(logs), "--run", "20000101_000000_000000", "--hf_hub_log_args", "x=1"]) == 2
    assert "no run 20000101_000000_000000" in capsys.readouterr().err
    assert main(["push", str(logs)]) == 2
    assert "nothing to push" in capsys.readouterr().err


@pytest.mark.skipif(not (os.environ.get("ASSAY_LIVE_HF_TOKEN") and os.environ.get("ASSAY_LIVE_HF_ORG")),
                    reason="live Hub test: set ASSAY_LIVE_HF_TOKEN and ASSAY_LIVE_HF_ORG "
                           "(and ASSAY_LIVE_HF_ENDPOINT if not huggingface.co)")
def test_live_push_to_a_real_hub(runs: tuple[Path, Path], cli_env: dict[str, str], capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:  # pragma: no cover - opt-in
    monkeypatch.setenv("HF_TOKEN", os.environ["ASSAY_LIVE_HF_TOKEN"])
    if os.environ.get("ASSAY_LIVE_HF_ENDPOINT"):
        monkeypatch.setenv("HF_ENDPOINT", os.environ["ASSAY_LIVE_HF_ENDPOINT"])
    org = os.environ["ASSAY_LIVE_HF_ORG"]
    code = main(["push", str(runs[0]), "--hf_hub_log_args", f"hub_results_org={org},hub_repo_name=assay-live-test"])
    assert code == 0, capsys.readouterr().err
