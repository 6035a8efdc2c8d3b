"""The lmms_eval compatibility package: found only without lmms-eval, spanning the task roots, naming what
is missing; and the isolation of broken task folders (`assay tasks --check`)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assay.compat import activate, real_lmms_eval_installed
from assay.env.settings import Settings
from assay.tasks import TaskRegistry
from tests.helpers import write


def test_shim_answers_lmms_eval_when_it_is_not_installed(settings: Settings) -> None:
    assert activate(settings) is True and not real_lmms_eval_installed()
    import lmms_eval
    import lmms_eval.filters.extraction as extraction
    from lmms_eval.api.metrics import levenshtein_distance
    from lmms_eval.tasks import __path__ as tasks_path

    from assay.tasks.scoring.filters import RegexFilter

    assert extraction.RegexFilter is RegexFilter  # assay's own filter under lmms-eval's name
    assert levenshtein_distance("kitten", "sitting") == 3
    assert Path(lmms_eval.__file__).parent == Path(__file__).resolve().parents[1] / "src/assay/compat/lmms_eval"
    assert list(tasks_path)


def _python(code: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


def test_real_lmms_eval_wins_and_a_bare_folder_does_not(tmp_path: Path) -> None:
    """Asked of the standard finders only: a regular package is lmms-eval; a folder without __init__.py is not."""
    bare = tmp_path / "bare"
    (bare / "lmms_eval" / "tasks").mkdir(parents=True)  # like a copy of the task tree in the working folder
    code = """
        from assay.compat import activate
        shim = activate()
        import lmms_eval
        print(shim, lmms_eval.__file__)
    """
    out = _python(code, cwd=bare)
    assert out.returncode == 0, out.stderr
    shim, origin = out.stdout.split()
    assert shim == "True" and "assay/compat/lmms_eval" in origin

    real = tmp_path / "real"
    write(real, "lmms_eval/__init__.py", "REAL = True\n")
    out = _python(code.replace("print(shim, lmms_eval.__file__)", "print(shim, lmms_eval.REAL)"), cwd=real,
                  env={"PYTHONPATH": str(real)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]


def test_helper_environment_hf_home(tmp_path: Path) -> None:
    code = """
        import os
        from assay.compat import activate
        from assay.env.settings import load_settings
        activate(load_settings(environ={{"HF_HOME": {given!r}}} if {given!r} else {{}}, discover_dotenv=False))
        print(os.environ["HF_HOME"])
    """
    env = {k: v for k, v in os.environ.items() if k != "HF_HOME"}
    unset = subprocess.run([sys.executable, "-c", textwrap.dedent(code.format(given=""))], capture_output=True,
                           text=True, env={**env, "HOME": str(tmp_path)}, timeout=60)
    assert unset.stdout.strip() == str(tmp_path / ".cache" / "huggingface"), unset.stderr
    kept = subprocess.run([sys.executable, "-c", textwrap.dedent(code.format(given=""))], capture_output=True,
                          text=True, env={**env, "HF_HOME": "/data/hf"}, timeout=60)
    assert kept.stdout.strip() == "/data/hf", kept.stderr


TREE_UTILS = """\
from lmms_eval.tasks._task_utils.file_utils import generate_submission_file
from lmms_eval.tasks.shared.helper import shout
from lmms_eval.utils import eval_logger
from .local_words import WORD

def doc_to_text(doc):
    eval_logger.info("building {} for {}", WORD, doc["q"])
    return shout(doc["q"]) + WORD
"""


def test_task_roots_are_lmms_eval_tasks(settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tree = tmp_path / "copy" / "lmms_eval" / "tasks"
    write(tree, "_task_utils/file_utils.py", "def generate_submission_file(name, args):\n    return name\n")
    write(tree, "shared/helper.py", "def shout(text):\n    return text.upper()\n")
    write(tree, "mine/local_words.py", "WORD = '!'\n")
    write(tree, "mine/utils.py", TREE_UTILS)
    write(tree, "mine/data.jsonl", '{"q": "hi"}\n')
    write(tree, "mine/mine.yaml",
          "task: mine_task\ndataset_path: data.jsonl\ndoc_to_text: !function utils.doc_to_text\n")
    registry = TaskRegistry.discover(settings, include_paths=[tree])
    task = registry.load("mine_task", settings=settings, model_name="m")
    with caplog.at_level(logging.INFO, logger="lmms_eval"):
        assert task.prompt_text({"q": "hi"}) == "HI!"
    assert "building ! for hi" in caplog.text  # loguru-style {} formatting through standard logging
    assert "lmms_eval.tasks.mine.utils" in sys.modules  # one module, shared with absolute imports


def test_missing_package_names_the_extra(settings: Settings, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from assay.compat import packages
    from assay.errors import TaskError

    monkeypatch.setitem(packages.PACKAGES, "not_installed_xyz", ("nix-dist", "lmms"))
    folder = tmp_path / "tasks"
    write(folder, "t/utils.py", "import not_installed_xyz.sub\n\ndef text(doc):\n    return ''\n")
    write(folder, "t/t.yaml", "task: t\ndataset_path: d.jsonl\ndoc_to_text: !function utils.text\n")
    registry = TaskRegistry.discover(settings, include_paths=[folder])
    with pytest.raises(TaskError) as info:
        registry.load("t", settings=settings, model_name="m")
    assert "needs the Python package nix-dist (module not_installed_xyz)" in info.value.message
    assert info.value.hint == "pip install 'assay[lmms]'"
    assert packages.missing_module("lmms_eval.nope")[0].startswith("module lmms_eval.nope is not part of")


def test_check_summarises_blocked_tasks_by_cause(cli_env: dict[str, str], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from assay.cli import main

    folder = tmp_path / "tree"
    for name, extra in (("good", ""), ("cot", "output_type: generate_visual_cot\n"), ("cot2", "output_type: "
                        "generate_visual_cot\n"), ("exits", "doc_to_text: !function utils.text\n")):
        write(folder, f"{name}/{name}.yaml", f"task: {name}\ndataset_path: d.jsonl\ndoc_to_text: q\n{extra}")
    write(folder, "exits/utils.py", "import sys\nsys.exit('no video folder')\n")
    write(folder, "bad/bad.yaml", "task: bad\n  oops: [\n")
    code = main(["tasks", "--check", "--include_path", str(folder)])
    out = capsys.readouterr().out
    assert code == 1
    assert "skipped: " in out and "bad.yaml:2: malformed YAML" in out  # file:line, one line
    assert "refused: output_type generate_visual_cot" in out and "task code exits at import" in out
    summary = next(line for line in out.splitlines() if "tasks resolve" in line)
    builtin = len(TaskRegistry.discover(Settings()).task_names())
    assert summary.startswith(f"{builtin + 1} of {builtin + 4} tasks resolve")
    assert main(["tasks", "--include_path", str(folder)]) == 0  # the listing still works
    assert "good" in capsys.readouterr().out


def test_every_package_said_to_come_with_the_lmms_extra_does() -> None:
    import re

    import tomllib

    from assay.compat.packages import PACKAGES

    extra = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["lmms"]
    names = {re.split(r"[<>=\[ ]", item)[0].lower() for item in extra}
    promised = {dist.lower() for dist, where in PACKAGES.values() if where == "lmms"}
    assert promised <= names, promised - names


def test_helpers_see_the_judge_variables_assay_read_from_dotenv(tmp_path: Path) -> None:
    """lmms-eval helpers read OPENAI_API_KEY / API_TYPE / AZURE_* themselves: a `.env` value reaches them under
    the names they read (aliases too), and a variable set in the real environment is never replaced."""
    code = """
        import os
        from assay.compat import activate
        from assay.env.settings import load_settings
        activate(load_settings())
        print(os.environ.get("OPENAI_API_KEY"), os.environ.get("API_TYPE"), os.environ.get("AZURE_OPENAI_ENDPOINT"),
              os.environ.get("ANTHROPIC_API_KEY"))
    """
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-dotenv-0123456789abcdef\nAPI_TYPE=azure\n"
                                   "AZURE_ENDPOINT=https://res.openai.azure.com\nANTHROPIC_API_KEY=sk-ant-dotenv-xyz\n")
    from assay.env.settings import SPECS

    env = {k: v for k, v in os.environ.items() if k not in {n for s in SPECS for n in s.env_names}}
    env.update(HOME=str(tmp_path), LMMS_EVAL_HOME=str(tmp_path / "home"))
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=60)
    # Only the variables helpers read are given to them (not, say, the Anthropic key).
    assert out.stdout.split() == ["sk-dotenv-0123456789abcdef", "azure", "https://res.openai.azure.com", "None"], \
        out.stderr
    kept = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env={**env, "OPENAI_API_KEY": "sk-from-the-shell-000000"}, cwd=tmp_path, timeout=60)
    assert kept.stdout.split()[0] == "sk-from-the-shell-000000", kept.stderr


def test_loguru_is_routed_through_logging_when_a_helper_imports_it() -> None:
    code = """
        import logging, sys
        logging.basicConfig(level=logging.INFO, format="via logging: %(name)s %(message)s", stream=sys.stdout)
        from assay.compat import activate
        activate()
        print("imported at activation:", "loguru" in sys.modules)
        from loguru import logger  # what a task helper does
        logger.warning("helper says {}", "hi")
    """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["imported at activation: False", "via logging: __main__ helper says hi"]
    assert "WARNING" not in out.stderr  # loguru's own stderr sink was removed
