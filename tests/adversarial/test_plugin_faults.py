"""A provider plugin is foreign code: SystemExit, a bare BaseException or a CancelledError from its
constructor or its generate() ends as a failed run (exit >= 1, one line naming the plugin, no traceback),
never as exit 0, a run marked `interrupted` though no signal came, or a raw traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import results_file, run_cli
from tests.test_plugins import installed, plugin_site  # noqa: F401  (fixtures: the plugin package, installed)

FAULTS = ["SystemExit", "BaseException", "CancelledError"]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_plugin_constructor_that_raises_fails_the_run_by_name(
        installed: Path, run_dir: Path, capsys: pytest.CaptureFixture[str], fault: str) -> None:  # noqa: F811
    code, _, err = run_cli(capsys, "--model", "echo", "--model_args", f"fail_at=init,fail_with={fault}",
                           "--tasks", "plugin_echo", "--output_path", str(run_dir))
    assert code >= 1, err
    assert "provider `echo` (plugin assay_test_plugin.provider.EchoProvider) failed while being built" in err
    assert "Traceback" not in err and err.count("error:") == 1


@pytest.mark.parametrize("fault", FAULTS)
def test_a_plugin_generate_that_raises_fails_its_samples_not_as_an_interrupt(
        installed: Path, run_dir: Path, capsys: pytest.CaptureFixture[str], fault: str) -> None:  # noqa: F811
    code, _, err = run_cli(capsys, "--model", "echo", "--model_args", f"fail_at=generate,fail_with={fault}",
                           "--tasks", "plugin_echo", "--output_path", str(run_dir), "--log_samples")
    assert code == 1, err
    assert "Traceback" not in err
    document = results_file(run_dir)
    assert document["status"] == "failed" and "interrupted" not in str(document["status_reason"])
    assert document["results"]["plugin_echo"]["n_errors"] == 5
    rows = [line for line in next(run_dir.rglob("*_samples_*.jsonl")).read_text().splitlines() if line]
    assert len(rows) == 5 and all("plugin assay_test_plugin.provider.EchoProvider" in row for row in rows)
