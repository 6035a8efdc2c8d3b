"""Plugins from a package really installed by pip: a provider, a task and a metric through entry points,
the lmms-eval ``LMMS_EVAL_PLUGINS`` ``models`` convention, shadowing refused, a broken plugin named.

Why ``pip install --target`` into a temporary folder (put on sys.path) rather than into the venv by
``.ci/run``: the package is installed by the ordinary installer from its own ``pyproject.toml``, so its
entry points are generated exactly as a user's plugin would be, yet the test environment stays
hermetic (no other test ever sees the plugin or its deliberately broken and shadowing entries), a
developer's plain ``pytest`` needs no extra step, and nothing is downloaded (``--no-index``,
``--no-build-isolation`` with the setuptools the ``dev`` extra installs). It costs ~1 s once per session.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.env import plugins
from assay.env.settings import Settings, load_settings
from assay.errors import ConfigError, UsageError
from assay.providers import get_spec, load_provider_class
from tests.helpers import results_file, run_cli

PACKAGE = Path(__file__).parent / "plugin_pkg"


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/plugin_pkg installed by pip into a folder of its own (built from a copy: no build/ in tests/)."""
    work = tmp_path_factory.mktemp("plugin")
    source = work / "src"
    shutil.copytree(PACKAGE, source)
    target = work / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert list(target.glob("assay_test_plugin-*.dist-info/entry_points.txt"))
    return target


@pytest.fixture
def installed(plugin_site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(plugin_site))
    importlib.invalidate_caches()
    plugins.clear_cache()
    yield plugin_site
    plugins.clear_cache()
    for name in [m for m in sys.modules if m.startswith("assay_test_plugin")]:
        del sys.modules[name]


def settings_for(isolated: dict[str, str], **env: str) -> Settings:
    return load_settings(environ={**isolated, **env}, discover_dotenv=False)


def test_entry_point_provider_is_found_and_loads(installed: Path, settings: Settings) -> None:
    spec = get_spec("echo", settings)
    assert spec.origin == "plugin assay-test-plugin (entry point)"
    provider = load_provider_class("echo", settings)(settings, {"model": "e"})
    assert provider.model_name == "e"


def test_without_the_plugin_the_name_is_unknown(settings: Settings) -> None:
    plugins.clear_cache()
    with pytest.raises(UsageError) as caught:
        get_spec("echo", settings)
    assert "unknown model `echo`" in caught.value.message


def test_shadowing_a_builtin_is_refused_and_named(installed: Path, settings: Settings,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    spec = get_spec("openai", settings)
    assert spec.origin == "builtin"
    from assay.providers import PROVIDERS

    problems = plugins.index(settings, builtin_providers=PROVIDERS).problems
    assert any("plugin assay-test-plugin" in p and "provider `openai` is refused" in p
               and "ASSAY_PLUGIN_OVERRIDES=openai" in p for p in problems)
    assert any("provider `openai` is refused" in r.getMessage() for r in caplog.records)


def test_shadowing_is_allowed_when_asked(installed: Path, isolated: dict[str, str]) -> None:
    settings = settings_for(isolated, ASSAY_PLUGIN_OVERRIDES="openai")
    assert get_spec("openai", settings).origin == "plugin assay-test-plugin (entry point)"


def test_a_broken_plugin_is_reported_by_name_not_a_crash(installed: Path, settings: Settings) -> None:
    assert get_spec("echo", settings)  # the other providers of the same package still work
    with pytest.raises(ConfigError) as caught:
        load_provider_class("broken_plugin", settings)
    assert "plugin assay-test-plugin" in caught.value.message and "broken_plugin" in caught.value.message
    assert "ModuleNotFoundError" in caught.value.message


def test_credentials_a_plugin_declares_are_preflighted(installed: Path, isolated: dict[str, str]) -> None:
    from assay.errors import CredentialError
    from assay.preflight.plan import Plan
    from assay.preflight.requirements import preflight

    with pytest.raises(CredentialError) as caught:
        preflight(Plan(model="echo_keyed"), settings_for(isolated))
    assert "OPENAI_API_KEY (needed by model echo_keyed)" in caught.value.message
    preflight(Plan(model="echo_keyed"), settings_for(isolated, OPENAI_API_KEY="sk-plugin-0000000000"))
    preflight(Plan(model="echo_keyed", model_args={"api_key": "sk-arg-0000000000"}), settings_for(isolated))
    preflight(Plan(model="echo"), settings_for(isolated))  # declares none


def test_a_plugin_vendor_key_assay_does_not_know_is_preflighted_shown_and_redacted(
        installed: Path, run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assay.cli import main
    from tests.adversarial.scan import leaks

    code, _, err = run_cli(capsys, "--model", "echo_acme", "--tasks", "plugin_echo", "--output_path",
                           str(run_dir / "out"))
    assert code == 3 and "ACME_API_KEY (needed by model echo_acme)" in err  # preflight, before anything runs
    key = "acme-live-KEY-0123456789abcdef"
    (run_dir / ".env").write_text(f"ACME_API_KEY={key}\n")
    assert main(["doctor", "--model", "echo_acme"]) == 0
    doctor = capsys.readouterr().out
    assert "ACME_API_KEY" in doctor and ".env" in doctor and key not in doctor
    code, out, err = run_cli(capsys, "--model", "echo_acme", "--tasks", "plugin_echo", "--log_samples",
                             "--output_path", str(run_dir / "out"))
    assert code == 0, err
    rows = (run_dir / "out").rglob("*_samples_*.jsonl")
    assert any("<redacted:ACME_API_KEY>" in path.read_text() for path in rows)  # the provider echoed it
    assert leaks([key], [out, err], [run_dir / "out"]) == []


def test_lmms_eval_plugins_models_module(installed: Path, isolated: dict[str, str]) -> None:
    settings = settings_for(isolated, LMMS_EVAL_PLUGINS="assay_test_plugin")
    spec = get_spec("echo_legacy", settings)
    assert spec.origin == "plugin assay_test_plugin (LMMS_EVAL_PLUGINS)"
    assert spec.target == "assay_test_plugin.models.echo_legacy:EchoLegacy"
    assert load_provider_class("echo_legacy", settings)(settings, {}).name == "echo_legacy"


def test_a_broken_lmms_eval_plugin_package_is_named(installed: Path, isolated: dict[str, str],
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad_plugin"
    (bad / "models").mkdir(parents=True)
    (bad / "__init__.py").write_text("")
    (bad / "models" / "__init__.py").write_text("raise RuntimeError('plugin bug')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    settings = settings_for(isolated, LMMS_EVAL_PLUGINS="bad_plugin")
    assert get_spec("echo", settings)  # entry-point plugins unaffected
    problems = plugins.index(settings).problems
    assert any(p.startswith("plugin bad_plugin:") and "RuntimeError: plugin bug" in p for p in problems)


def test_plugin_task_and_metric_through_assay_run(installed: Path, run_dir: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "--model", "echo", "--tasks", "plugin_echo", "--output_path",
                             str(run_dir / "out"))
    assert code == 0, err
    result = results_file(run_dir / "out")
    task = result["results"]["plugin_echo"]
    assert task["n_scored"] == 5 and task["metrics"]["echo_match"]["value"] == 1.0


def test_assay_models_lists_origins_and_problems(installed: Path, cli_env: dict[str, str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from assay.cli import main

    code = main(["models", "--json"])
    doc = json.loads(capsys.readouterr().out)
    by_name = {row["name"]: row for row in doc["providers"]}
    assert code == 1  # a provider that cannot be loaded makes the listing fail
    assert by_name["anthropic"]["origin"] == "builtin" and by_name["anthropic"]["aliases"] == ["claude"]
    assert by_name["anthropic"]["env"] == ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"]
    assert by_name["echo"]["origin"] == "plugin assay-test-plugin (entry point)"
    assert by_name["echo"]["status"] == "ok" and by_name["echo"]["modalities"] == ["text"]
    assert by_name["echo_keyed"]["env"] == ["OPENAI_API_KEY"]
    assert by_name["broken_plugin"]["status"].startswith("ModuleNotFoundError")
    assert by_name["openai"]["origin"] == "builtin"
    assert any("provider `openai` is refused" in p for p in doc["problems"])
    assert any("broken_plugin" in p for p in doc["problems"])

    code = main(["models"])
    out = capsys.readouterr().out
    assert "broken_plugin" in out and "warning:" in out and "gemini_api" in out


def test_assay_models_without_plugins_is_clean(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    from assay.cli import main

    plugins.clear_cache()
    code = main(["models", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["problems"] == []
    assert {"openai", "azure_openai", "anthropic", "gemini", "xai", "reka", "local"} <= {
        r["name"] for r in doc["providers"]}
