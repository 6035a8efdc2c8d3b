"""assay's own work per request, in machine instructions: a figure the machine's load does not move.

`bench/throughput.py` measures wall and CPU time against a loopback stub; on a shared machine those move by
±5 % from run to run, as much as a round of hot-path work gains. This bench counts the instructions the
process executes (valgrind's callgrind, ``Collected``) for `assay run` on the bench task with samples logged,
with the HTTP exchange itself answered at once in the process (``JsonClient.post`` returns a fixed OpenAI
answer): what is left is assay's own work — reading docs, building prompts, the model wrapper and provider
(body, parse), scoring, the sample record and line, the tallies. Two doc counts give the work per request
(the difference over the docs between them) apart from the fixed work (start-up, finish). The same count,
run twice, agrees within ~0.1 %.

    python bench/instructions.py [--sizes 500,2500] [--baseline-src DIR --baseline-name NAME]

Needs ``valgrind`` (Debian: ``apt-get install valgrind``); ~15 s a run under it (2 runs a source tree).
Compile bytecode first (``python -m compileall -q src DIR/src``): with PYTHONDONTWRITEBYTECODE set, each
run would compile the modules again, counted as fixed work.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: The answer every request gets (the stub's, bench/stub_server.py).
ANSWER = ('{"id": "chatcmpl-bench", "object": "chat.completion", "model": "bench", "choices": [{"index": 0, '
          '"message": {"role": "assistant", "content": "A"}, "finish_reason": "stop"}], '
          '"usage": {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21}}')


def child(n: int, task_dir: str, out: str) -> None:
    """One `assay run` in this process, every POST answered at once (the body is still encoded)."""
    from assay.providers import _http

    async def post(self: object, url: str, body: object) -> tuple[int, dict[str, str], str]:
        _http.encode_body(body)  # type: ignore[arg-type]
        return 200, {"content-type": "application/json"}, ANSWER

    _http.JsonClient.post = post  # type: ignore[method-assign,assignment]
    sys.argv = ["assay", "run", "--model", "openai_compatible", "--model_args",
                "model=bench,base_url=http://127.0.0.1:9/v1,num_concurrent=64", "--tasks", "bench_mc",
                "--include_path", task_dir, "--output_path", out, "--limit", str(n), "--log_samples"]
    from assay.cli import main

    main()


def instructions(src: Path, n: int, task_dir: Path, tmp: Path) -> int:
    """Instructions executed by one child run of ``n`` docs with ``src`` on the path."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update({"PYTHONPATH": str(src), "OPENAI_API_KEY": "bench-key-instructions", "VERBOSITY": "WARNING",
                "LMMS_EVAL_HOME": str(tmp / "home")})
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
           "--child", str(n), str(task_dir), str(tmp / "out")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"run failed ({done.returncode}) with {src}:\n{done.stderr[-3000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,2500", help="two doc counts: per request is their difference")
    parser.add_argument("--baseline-src", action="append", default=[], metavar="DIR",
                        help="also measure this source tree (a folder holding src/assay); repeatable")
    parser.add_argument("--baseline-name", action="append", default=[], help="a label per --baseline-src")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), args.child[1], args.child[2])
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    small, large = (int(x) for x in args.sizes.split(","))
    names = args.baseline_name + [Path(d).name for d in args.baseline_src[len(args.baseline_name):]]
    trees = [("assay (this tree)", ROOT / "src")] + [(f"assay {name}", Path(d).resolve() / "src")
                                                     for name, d in zip(names, args.baseline_src, strict=True)]
    sys.path.insert(0, str(HERE))
    from throughput import make_task

    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        task_dir = tmp / "task"
        task_dir.mkdir()
        make_task(task_dir, large)
        for label, src in trees:
            few, many = instructions(src, small, task_dir, tmp), instructions(src, large, task_dir, tmp)
            per = (many - few) / (large - small)
            rows.append((label, per, few - small * per))
    reference = rows[0][1]
    print(f"\ninstructions (callgrind) of `assay run` on the bench task, samples logged, HTTP answered in the "
          f"process; per request: ({large} docs - {small} docs) / {large - small}")
    print(f"{'source':<28} {'per request':>12} {'x this tree':>12} {'fixed (start-up, finish)':>26}")
    for label, per, fixed in rows:
        print(f"{label:<28} {per:>12,.0f} {per / reference:>11.2f}x {fixed:>26,.0f}")


if __name__ == "__main__":
    main()
