"""Start-up time of the CLI: `assay --help` must stay under 150 ms (median).

Runs each command N times in a fresh process and prints median / p90 / min wall time in ms, next to
`python -c pass` (the interpreter's own floor) and `python -c "import assay.cli"`.

    python bench/startup.py            # N=20
    python bench/startup.py -n 50 --importtime   # also show the slowest imports of `assay --help`
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_MS = 150.0


def commands() -> list[tuple[str, list[str]]]:
    py = sys.executable
    found: list[tuple[str, list[str]]] = [
        ("python -c pass (floor)", [py, "-c", "pass"]),
        ("python -c 'import assay.cli'", [py, "-c", "import assay.cli"]),
        ("python -m assay --help", [py, "-m", "assay", "--help"]),
    ]
    script = shutil.which("assay") or _beside_interpreter("assay")
    if script:
        found.append(("assay --help (console script)", [script, "--help"]))
        found.append(("assay doctor --help", [script, "doctor", "--help"]))
    return found


def _beside_interpreter(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.is_file() else None


def measure(argv: list[str], runs: int) -> list[float]:
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)  # warm the OS cache
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return times


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def slowest_imports(argv: list[str], top: int = 15) -> list[tuple[int, str]]:
    """(cumulative µs, module) of the slowest imports, from `python -X importtime`."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *argv], capture_output=True, text=True, check=True)
    rows: list[tuple[int, str]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, _, rest = line.partition(":")
        parts = [p.strip() for p in rest.split("|")]
        if len(parts) == 3 and parts[1].isdigit():
            rows.append((int(parts[1]), parts[2]))
    return sorted(rows, reverse=True)[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--runs", type=int, default=20)
    parser.add_argument("--importtime", action="store_true", help="list the slowest imports of `assay --help`")
    args = parser.parse_args()

    print(f"{'command':<34} {'median':>8} {'p90':>8} {'min':>8}   (ms, N={args.runs})")
    verdict = 0
    for label, argv in commands():
        times = measure(argv, args.runs)
        median = statistics.median(times)
        print(f"{label:<34} {median:8.1f} {p90(times):8.1f} {min(times):8.1f}")
        if "--help" in argv and "doctor" not in argv and median > TARGET_MS:
            verdict = 1
    print(f"target: `assay --help` median < {TARGET_MS:.0f} ms -> {'FAIL' if verdict else 'ok'}")
    if args.importtime:
        print("\nslowest imports of `python -m assay --help` (cumulative ms):")
        for micros, module in slowest_imports(["-m", "assay", "--help"]):
            print(f"  {micros / 1000:8.1f}  {module}")
    return verdict


if __name__ == "__main__":
    raise SystemExit(main())
