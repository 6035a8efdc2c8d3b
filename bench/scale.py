"""Local vs Ray with 1 and 2 worker nodes: a decode-bound video task and a 10k-question text task.

Everything runs inside a throw-away network and PID namespace holding only loopback (``unshare -n -p -f``,
root), as the cluster tests do, so Ray binds 127.0.0.1 and every Ray process ends with it. A "node" is a
``ray start`` process tree pinned to one core (``taskset``), so one worker node has one core's worth of
CPU, as one small machine would; the local baseline is the same command without ``--ray`` on one core.
The head node holds no CPU (``--num-cpus 0``): it runs the GCS, the driver's gate and cache actors. The
model is ``bench/stub_server.py`` (0 ms latency, its own process).

Columns: wall time of ``assay run``; CPU seconds of the driver (its rusage) and of the cluster (every
Ray process in the namespace, reaped workers included); the driver's peak RSS; requests per second
through the run; and the Ray path's overhead per request (Ray wall minus local wall, over the requests).
Then the ceiling of the driver as the single writer: samples/s its per-record work (tally, the real files
sink) takes, measured alone.

    sudo python bench/scale.py                       # 8 videos (1920x1080, 30 s), 10,000 questions
    sudo python bench/scale.py --videos 8 --questions 2000 --configs local,ray1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Each cluster gets its own port (the previous one's may linger in TIME_WAIT).
FIRST_PORT = 6390
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Row:
    workload: str
    config: str
    wall: float
    driver_cpu: float
    cluster_cpu: float
    rss_mb: float
    requests: int

    @property
    def rate(self) -> float:
        return self.requests / self.wall if self.wall else 0.0


# -- workloads --------------------------------------------------------------------------------------


#: Distinct clips made; the others are copies (decoding a copy costs the same; encoding them would not).
DISTINCT_CLIPS = 4


def make_videos(folder: Path, count: int, seconds: float, size: tuple[int, int]) -> None:
    """Moving gradients, MPEG-4 at 30 fps: decoding them is the work (frames are sampled over the whole clip)."""
    import av
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width]
    for n in range(min(count, DISTINCT_CLIPS)):
        # One second of frames, made once and looped: making 1080p frames costs more than encoding them.
        second = [av.VideoFrame.from_ndarray(np.stack([(xs + 8 * i + n) % 256, (ys + 4 * i) % 256,
                                                       (xs + ys + 2 * i) % 256], -1).astype(np.uint8),
                                             format="rgb24") for i in range(30)]
        with av.open(str(folder / f"clip{n:03d}.mp4"), "w") as out:
            stream = out.add_stream("mpeg4", rate=30)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            for i in range(int(seconds * 30)):
                for packet in stream.encode(second[i % 30]):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
    for n in range(DISTINCT_CLIPS, count):
        shutil.copy(folder / f"clip{n % DISTINCT_CLIPS:03d}.mp4", folder / f"clip{n:03d}.mp4")


def make_tasks(root: Path, videos: int, seconds: float, size: tuple[int, int], questions: int) -> Path:
    tasks = root / "tasks"
    make_videos(tasks / "scale_video" / "videos", videos, seconds, size)
    (tasks / "scale_video" / "docs.jsonl").write_text(
        "".join(json.dumps({"clip": f"clip{n:03d}", "answer": "A"}) + "\n" for n in range(videos)))
    (tasks / "scale_video" / "utils.py").write_text(
        "from pathlib import Path\n\nVIDEOS = Path(__file__).resolve().parent / 'videos'\n\n\n"
        "def visual(doc):\n    return [str(VIDEOS / (doc['clip'] + '.mp4'))]\n")
    (tasks / "scale_video" / "scale_video.yaml").write_text(
        "task: scale_video\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: docs.jsonl\n"
        "test_split: test\noutput_type: generate_until\ndoc_to_visual: !function utils.visual\n"
        "doc_to_text: 'What is shown? Answer A or B.'\ndoc_to_target: answer\n"
        "generation_kwargs:\n  max_new_tokens: 4\nmetric_list:\n  - metric: exact_match\n")
    (tasks / "scale_text").mkdir(parents=True, exist_ok=True)
    (tasks / "scale_text" / "docs.jsonl").write_text(
        "".join(json.dumps({"question": f"What is {n} + {n}?", "answer": "A"}) + "\n" for n in range(questions)))
    (tasks / "scale_text" / "scale_text.yaml").write_text(
        "task: scale_text\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: docs.jsonl\n"
        "test_split: test\noutput_type: generate_until\ndoc_to_text: question\ndoc_to_target: answer\n"
        "generation_kwargs:\n  max_new_tokens: 4\nmetric_list:\n  - metric: exact_match\n")
    return tasks


# -- the cluster --------------------------------------------------------------------------------------


def ray_bin() -> str:
    return str(Path(sys.executable).parent / "ray")


def _ray(*argv: str) -> None:
    done = subprocess.run(list(argv), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def start_cluster(nodes: int, temp: Path, address: str) -> None:
    _ray(ray_bin(), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={address.split(':')[1]}",
         "--num-cpus=0", "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}")
    for core in range(nodes):
        _ray("taskset", "-c", str(core % (os.cpu_count() or 1)), ray_bin(), "start", f"--address={address}",
             "--node-ip-address=127.0.0.1", "--num-cpus=1")


def stop_cluster() -> None:
    subprocess.run([ray_bin(), "stop", "--force"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2.0)  # let the killed processes go before the next cluster takes their place


def _cpu_by_pid(skip: set[int]) -> dict[int, int]:
    """Clock ticks (utime + stime) of every process in this namespace but ``skip``."""
    out: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in skip:
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(entry.name)] = int(fields[11]) + int(fields[12])
    return out


class CpuSampler:
    """CPU seconds the namespace's processes used while it ran, sampled every 0.1 s: Ray's workers are
    killed at the end of a run and nobody accounts for them after (no ``cutime``), so they are watched live."""

    def __init__(self, skip: set[int]) -> None:
        import threading

        self.skip, self.start = skip, _cpu_by_pid(skip)
        self.latest: dict[int, int] = dict(self.start)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            self.latest.update(_cpu_by_pid(self.skip))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self.latest.update(_cpu_by_pid(self.skip))
        return sum(ticks - self.start.get(pid, 0) for pid, ticks in self.latest.items()) / TICKS


# -- one run ----------------------------------------------------------------------------------------


def stub_count(port: int) -> int:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as reply:
        return int(json.loads(reply.read())["count"])


def run_once(workload: str, config: str, *, tasks: Path, port: int, home: Path, skip: set[int],
             address: str) -> Row:
    task, concurrency = ("scale_video", 8) if workload == "video" else ("scale_text", 64)
    argv = [sys.executable, "-m", "assay", "run", "--model", "openai_compatible", "--model_args",
            f"model=bench,base_url=http://127.0.0.1:{port}/v1,num_concurrent={concurrency},max_retries=0",
            "--tasks", task, "--include_path", str(tasks), "--output_path", str(home / "out"), "--log_samples"]
    if config != "local":
        argv += ["--ray", address]
    else:
        argv = ["taskset", "-c", "0", *argv]  # one node's worth of CPU, as each Ray worker node has
    env = {**os.environ, "HOME": str(home), "LMMS_EVAL_HOME": str(home / "lmms"), "OPENAI_API_KEY": "sk-bench"}
    before_requests, sampler = stub_count(port), CpuSampler(skip)
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{workload}/{config} failed ({proc.returncode}):\n{err[-3000:]}")
    driver_cpu = usage.ru_utime + usage.ru_stime  # the driver: a child of this process, its own rusage
    cluster_cpu = max(0.0, sampler.stop() - driver_cpu)  # the driver was sampled too while it ran
    return Row(workload, config, wall, driver_cpu, cluster_cpu, usage.ru_maxrss / 1024,
               stub_count(port) - before_requests)


# -- the single writer --------------------------------------------------------------------------------


def writer_ceiling(folder: Path, n: int = 20_000) -> float:
    """Samples/s of the driver's per-record work alone: the tally, then the real files sink (one JSONL line)."""
    from assay.env.redaction import Redactor
    from assay.run.results import TaskTally
    from assay.sinks.files import FileSink
    from assay.types import Usage

    redactor = Redactor()
    redactor.add("sk-bench-secret-value", "OPENAI_API_KEY")
    sink = FileSink(folder, "bench", log_samples=True, redact=redactor.redact)
    sink.start({"model": "bench", "model_name": "bench", "tasks": ["t"]}, ["t"])
    tally = TaskTally(total=n)
    record = {"task": "t", "doc_id": 0, "doc": {"question": "What is 2 + 2?", "answer": "A"}, "target": "A",
              "arguments": {"messages": [{"role": "user", "content": "What is 2 + 2?"}], "gen_kwargs": {}},
              "resps": [["A"]], "filtered_resps": ["A"], "metrics": {"exact_match": 1.0}, "error": None,
              "usage": {"input_tokens": 20, "output_tokens": 1}, "attempts": 1, "cached": False, "latency_s": 0.01}
    start = time.perf_counter()
    for doc_id in range(n):
        tally.add({"exact_match": 1.0}, None, Usage(20, 1), False)
        sink.sample("t", {**record, "doc_id": doc_id})
    return n / (time.perf_counter() - start)


# -- the table -----------------------------------------------------------------------------------------


def print_table(rows: list[Row], ceiling: float) -> None:
    local = {r.workload: r for r in rows if r.config == "local"}
    print(f"\nload average {' / '.join(f'{x:.1f}' for x in os.getloadavg())} (1/5/15 min) at the end")
    print(f"\n{'workload':<8} {'run':<22} {'wall s':>7} {'driver CPU s':>12} {'cluster CPU s':>13} "
          f"{'driver RSS MB':>13} {'requests':>8} {'req/s':>8} {'vs local':>8} {'Ray ms/req':>10}")
    for r in rows:
        base = local.get(r.workload)
        ratio = f"{base.wall / r.wall:.2f}x" if base else "—"
        overhead = f"{(r.wall - base.wall) * 1000 / r.requests:+.2f}" if base and r.config != "local" else "—"
        name = {"local": "local, 1 core (baseline)", "ray1": "Ray, 1 worker node", "ray2": "Ray, 2 worker nodes"}
        print(f"{r.workload:<8} {name.get(r.config, r.config):<22} {r.wall:>7.2f} {r.driver_cpu:>12.2f} "
              f"{r.cluster_cpu:>13.2f} {r.rss_mb:>13.1f} {r.requests:>8} {r.rate:>8.1f} {ratio:>8} {overhead:>10}")
    by = {(r.workload, r.config): r for r in rows}
    if ("video", "ray1") in by and ("video", "ray2") in by:
        print(f"\ndecode-bound video, 2 worker nodes vs 1: {by['video', 'ray1'].wall / by['video', 'ray2'].wall:.2f}x "
              "faster (wall)")
    print(f"driver as the single writer (tally + files sink, alone): {ceiling:,.0f} samples/s")


def inside(args: argparse.Namespace) -> None:
    size = tuple(int(x) for x in args.size.split("x"))
    root = Path(tempfile.mkdtemp(prefix="assay-scale-"))
    try:
        print(f"making {args.videos} videos ({args.size}, {args.video_seconds:g} s) and {args.questions:,} "
              "questions…", flush=True)
        tasks = make_tasks(root, args.videos, args.video_seconds, (size[0], size[1]), args.questions)
        stub = subprocess.Popen([sys.executable, str(HERE / "stub_server.py"), "--latency-ms", "0"],
                                stdout=subprocess.PIPE, text=True)
        assert stub.stdout is not None
        port = int(stub.stdout.readline().strip())
        skip = {os.getpid(), stub.pid, os.getppid()}
        rows: list[Row] = []
        for n, (workload, config) in enumerate((w, c) for w in args.workloads.split(",")
                                               for c in args.configs.split(",")):
            address = f"127.0.0.1:{FIRST_PORT + n}"
            if config != "local":
                start_cluster(int(config[-1]), root / f"ray-{n}", address)
            try:  # best of --repeat on the same cluster: this machine is shared, the least disturbed run counts
                row = min((run_once(workload, config, tasks=tasks, port=port, home=Path(tempfile.mkdtemp(dir=root)),
                                    skip=skip, address=address) for _ in range(args.repeat)), key=lambda r: r.wall)
            finally:
                if config != "local":
                    stop_cluster()
            print(f"  {workload:<6} {config:<6} {row.wall:7.2f} s", flush=True)
            rows.append(row)
        stub.terminate()
        print_table(rows, writer_ceiling(root / "writer"))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--video-seconds", type=float, default=30.0)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--workloads", default="video,text")
    parser.add_argument("--configs", default="local,ray1,ray2")
    parser.add_argument("--repeat", type=int, default=1, help="runs per row; the fastest is shown")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        inside(args)
        return
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        raise SystemExit("bench/scale.py needs root and unshare: it runs the cluster in a loopback-only namespace")
    rest = [a for a in sys.argv[1:]]
    script = (f"ip link set lo up && RAY_USAGE_STATS_ENABLED=0 {sys.executable} {Path(__file__).resolve()} "
              f"--inside {' '.join(rest)}")
    raise SystemExit(subprocess.run(["unshare", "-n", "-p", "-f", "--mount-proc", "bash", "-c", script]).returncode)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    main()
