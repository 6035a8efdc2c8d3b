"""Shared pieces for the sink, push and report tests: real finished runs, W&B offline dirs, the W&B
transaction-log reader, the Hub emulation fixture."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fault_server import FaultServer, last_user_text
from tests.hub_server import HubServer

HF_TOKEN = "hf_sinkstestTOKEN0123456789abcdef"
WANDB_KEY = "wandbkey-sinks-test-0123456789abcdef0123456789"


def answer_a(body: dict[str, Any]) -> str:
    """Some answers right, some wrong: red / 4 / C."""
    text = last_user_text(body)
    return "red" if "What color" in text else ("4" if "How many" in text else "C")


def answer_b(body: dict[str, Any]) -> str:
    text = last_user_text(body)
    return "green" if "What color" in text else ("4" if "How many" in text else "B")


def make_run(out: Path, *, answer: Any = answer_a, limit: int = 6, tasks: str = "assay_arith_mc,assay_colors",
             log_media: bool = True, environ: dict[str, str] | None = None, **kwargs: Any) -> Path:
    """A real finished run (model answers from a loopback server) written under ``out``; its results path."""
    import assay
    from assay.env.settings import load_settings

    settings = load_settings(environ={"LMMS_EVAL_HOME": str(out / "home"), **(environ or {})}, discover_dotenv=False)
    with FaultServer(answer=answer) as server:
        result = assay.evaluate("openai_compatible", tasks, model_args=f"model=m,base_url={server.base_url}",
                                limit=limit, output_path=out / "logs", log_samples=True, log_media=log_media,
                                settings=settings, **kwargs)
    assert result.results_path is not None
    return result.results_path


@pytest.fixture
def wandb_dirs(cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``cli_env``, plus wandb's own folders inside ``tmp_path`` (wandb reads these itself), offline."""
    root = tmp_path / "wandb-root"
    for name, sub in (("WANDB_DIR", "dir"), ("WANDB_CACHE_DIR", "cache"), ("WANDB_DATA_DIR", "data"),
                      ("WANDB_CONFIG_DIR", "config"), ("WANDB_ARTIFACT_DIR", "artifacts")):
        (root / sub).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(root / sub))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    return root


@pytest.fixture
def hub() -> Iterator[HubServer]:
    with HubServer(HF_TOKEN) as server:
        yield server


def wandb_run_dirs(root: Path) -> list[Path]:
    return sorted(root.rglob("offline-run-*"))


def wandb_records(run_dir: Path) -> list[Any]:
    """The protobuf records of a run's ``.wandb`` transaction log (LevelDB-style blocks of 32 KiB)."""
    from wandb.proto import wandb_internal_pb2 as pb

    data = next(run_dir.glob("*.wandb")).read_bytes()
    assert data[:4] == b":W&B", "not a W&B transaction log"
    block, pos, records, pending = 32768, 7, [], b""
    while pos + 7 <= len(data):
        if block - pos % block < 7:
            pos += block - pos % block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        if length == 0 and kind == 0:
            break
        chunk, pos = data[pos + 7:pos + 7 + length], pos + 7 + length
        if kind == 1:
            records.append(chunk)
        elif kind == 2:
            pending = chunk
        elif kind == 3:
            pending += chunk
        elif kind == 4:
            records.append(pending + chunk)
    out = []
    for raw in records:
        record = pb.Record()
        record.ParseFromString(raw)
        out.append(record)
    return out


def by_kind(records: list[Any], kind: str) -> list[Any]:
    return [getattr(r, kind) for r in records if r.WhichOneof("record_type") == kind]
