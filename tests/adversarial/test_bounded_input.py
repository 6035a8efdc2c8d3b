"""Adversarial catalog, "crashes and hangs" and bad numbers (issue #7, classes 12-14, 18): hostile input is
bounded, validated and answered with one `error:`/`hint:` pair — never a hang, a traceback or a silent no-op."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from assay.cli import main
from tests.fault_server import FaultServer
from tests.helpers import results_file, run_cli, write

TASK = "assay_arith_mc"

ALIAS_BOMB = """
task: bomb
dataset_path: json
doc_to_text: q
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


# -- 12: YAML alias bombs ---------------------------------------------------------------------------------


def test_c12_an_alias_bomb_in_a_task_file_is_refused_at_once(cli_env: dict[str, str], tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "bombs"
    write(folder, "bomb.yaml", ALIAS_BOMB)  # 387 million strings once expanded
    started = time.monotonic()
    run = ["run", "--model", "openai_compatible", "--model_args", "model=m,base_url=http://127.0.0.1:9/v1",
           "--tasks", "bomb"]
    for args, code in ((["tasks", "show", "bomb"], 2), (["tasks"], 0), (run, 2)):
        assert main([*args, "--include_path", str(folder)]) == code, args
        err = capsys.readouterr().err
        # The file is skipped with the reason (the registry isolates broken files), never expanded.
        assert "bomb.yaml:10: aliases expand to more than 100,000 values" in err and "Traceback" not in err
    assert time.monotonic() - started < 10


def test_c12_an_alias_bomb_in_a_config_file_and_a_recursive_alias(run_dir: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    write(run_dir, "run.yaml", ALIAS_BOMB.replace("task: bomb", "model: openai_compatible"))
    assert main(["run", "--config", str(run_dir / "run.yaml")]) == 2
    assert "run.yaml:10: aliases expand to more than 100,000 values" in capsys.readouterr().err
    write(run_dir / "t", "loop.yaml", "task: loop\ndoc_to_text: q\nx: &x [1, *x]\n")
    assert main(["tasks", "show", "loop", "--include_path", str(run_dir / "t")]) == 2
    assert "a YAML alias refers to itself" in capsys.readouterr().err


# -- 13: numbers out of range -------------------------------------------------------------------------------


@pytest.mark.parametrize(("flag", "value", "says"), [
    ("--limit", "inf", "--limit inf is not a finite number"),
    ("--limit", "1e400", "--limit inf is not a finite number"),
    ("--limit", "nan", "--limit nan is not a finite number"),
    ("--limit", "2.5", "neither a whole count nor a fraction"),
    ("--max_error_rate", "nan", "--max_error_rate nan is not a finite number"),
    ("--max_cost", "inf", "--max_cost inf is not a finite number"),
    ("--bootstrap_iters", "1000000000", "--bootstrap_iters must be between 0 and 100,000"),
])
def test_c13_a_number_out_of_range_is_a_usage_error(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                    flag: str, value: str, says: str) -> None:
    code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args", "model=m,base_url=http://h/v1",
                           "--tasks", TASK, flag, value)
    assert code == 2 and says in err and err.startswith("error: ") and "Traceback" not in err


@pytest.mark.parametrize(("key", "value", "says"), [("limit", "lots", "--limit 'lots' is not a finite number"),
                                                     ("offset", "1.5", "--offset 1.5 is not a whole number"),
                                                     ("bootstrap_iters", "[1]", "not a whole number")])
def test_c13_a_bad_number_in_a_config_file_is_a_usage_error(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                            key: str, value: str, says: str) -> None:
    write(run_dir, "run.yaml", f"model: openai_compatible\ntasks: {TASK}\n{key}: {value}\n")
    code, _, err = run_cli(capsys, "--config", str(run_dir / "run.yaml"))
    assert code == 2 and says in err and "Traceback" not in err


# -- 14: `assay cache clear` repairs what `assay run` asked to repair ------------------------------------------


@pytest.mark.parametrize("contents", [False, True], ids=["empty-folder", "folder-with-files"])
def test_c14_cache_clear_repairs_a_folder_in_the_cache_files_place(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                                   contents: bool) -> None:
    cache = run_dir / "home" / "cache" / "responses.sqlite"
    cache.mkdir(parents=True)
    if contents:
        (cache / "keep-me.txt").write_text("not ours")
    with FaultServer(answer=lambda body: "A") as server:
        args = ("--model", "openai_compatible", "--model_args", f"model=m,base_url={server.base_url}",
                "--tasks", TASK, "--limit", "2", "--use_cache", "--output_path", "out")
        code, _, err = run_cli(capsys, *args)
        assert code == 2 and server.count == 0 and "is a folder" in err and "assay cache clear" in err
        assert main(["cache", "clear"]) == 0
        out = capsys.readouterr().out
        assert ("moved the folder" if contents else "removed the empty folder") in out
        code, _, err = run_cli(capsys, *args)
        assert code == 0, err
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT count(*) FROM responses").fetchone()[0] == 2
    if contents:  # nothing of the user's was deleted
        assert [p.read_text() for p in cache.parent.glob("responses.sqlite.folder-*/keep-me.txt")] == ["not ours"]


# -- 18: odd transport numbers, a huge num_concurrent, an empty --output_path ------------------------------


@pytest.mark.parametrize("arg", ["timeout=nan", "timeout=-1", "num_concurrent=0", "num_concurrent=2.5", "rpm=inf",
                                 "max_attempts=1e400"])
def test_c18_transport_numbers_must_be_finite_and_in_range(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                           arg: str) -> None:
    with FaultServer() as server:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={server.base_url},{arg}", "--tasks", TASK, "--limit", "2")
        assert server.count == 0
    assert code == 2 and f"--model_args {arg.split('=')[0]}=" in err and "Traceback" not in err


def test_c18_a_huge_num_concurrent_costs_no_more_than_the_docs(run_dir: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with FaultServer(answer=lambda body: "A") as server:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={server.base_url},num_concurrent=1000000", "--tasks", TASK,
                               "--limit", "3", "--output_path", "out")
        assert server.count == 3
    assert code == 0, err
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: not the 1 GB of old
    assert results_file(run_dir / "out")["status"] == "complete"


def test_c18_an_empty_output_path_is_refused_not_ignored(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FaultServer() as server:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={server.base_url}", "--tasks", TASK, "--output_path", "")
        assert server.count == 0
    assert code == 2 and "error: --output_path is empty" in err
