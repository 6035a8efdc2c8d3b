"""dataset_kwargs.video: media archives fetched through the Hub cache and unpacked where helpers look."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from assay.env.settings import Settings
from assay.errors import DatasetError
from assay.tasks.data.media_archives import ensure_media


def with_hf_home(isolated: dict[str, str], hf_home: Path) -> Settings:
    """Settings whose HF_HOME (where helpers look for media) is ``hf_home``."""
    from assay.env.settings import load_settings

    return load_settings(environ={**isolated, "HF_HOME": str(hf_home)}, discover_dotenv=False)


def _snapshot(root: Path) -> Path:
    """A dataset repository as the Hub cache holds it: a zip and a tar split in two parts."""
    snap = root / "snapshot"
    (snap / "videos").mkdir(parents=True)
    with zipfile.ZipFile(snap / "videos" / "chunk.zip", "w") as zf:
        zf.writestr("data/a.mp4", b"AAAA")
        zf.writestr("data/b.mp4", b"BBBB")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        info = tarfile.TarInfo("data/c.mp4")
        info.size = 4
        tf.addfile(info, io.BytesIO(b"CCCC"))
    raw = buffer.getvalue()
    (snap / "more_0.tar").write_bytes(raw[: len(raw) // 2])
    (snap / "more_1.tar").write_bytes(raw[len(raw) // 2:])
    return snap


def test_archives_are_fetched_once_and_unpacked_under_hf_home(isolated: dict[str, str], tmp_path: Path) -> None:
    settings = with_hf_home(isolated, tmp_path / "hf")
    snap = _snapshot(tmp_path)
    calls: list[dict[str, Any]] = []

    def fetch(**kwargs: Any) -> str:
        calls.append(kwargs)
        return str(snap)

    kwargs = {"video": True, "cache_dir": "mytask", "token": True}
    target = ensure_media("t", "org/data", kwargs, settings, fetch=fetch)
    assert target == tmp_path / "hf" / "mytask"
    assert sorted(p.name for p in (target / "data").iterdir()) == ["a.mp4", "b.mp4", "c.mp4"]
    assert (target / "data" / "c.mp4").read_bytes() == b"CCCC"  # the split tar joined before unpacking
    assert calls[0]["repo_id"] == "org/data" and calls[0]["repo_type"] == "dataset"
    assert not list(tmp_path.glob("hf/*.assay-partial"))
    ensure_media("t", "org/data", kwargs, settings, fetch=fetch)
    assert len(calls) == 1  # the folder exists (an lmms-eval install's too): nothing fetched again
    assert ensure_media("t", "org/data", {"cache_dir": "x"}, settings, fetch=fetch) is None  # no `video: true`


def test_an_escaping_archive_is_refused_and_leaves_no_folder(isolated: dict[str, str], tmp_path: Path) -> None:
    settings = with_hf_home(isolated, tmp_path / "hf")
    snap = tmp_path / "evil"
    snap.mkdir()
    with zipfile.ZipFile(snap / "x.zip", "w") as zf:
        zf.writestr("../../outside.txt", b"!")
    with pytest.raises(DatasetError, match="would be written outside"):
        ensure_media("t", "org/evil", {"video": True, "cache_dir": "evil"}, settings, fetch=lambda **_: str(snap))
    assert not (tmp_path / "hf" / "evil").exists() and not (tmp_path / "outside.txt").exists()


def test_create_link_points_at_the_snapshot(isolated: dict[str, str], tmp_path: Path) -> None:
    settings = with_hf_home(isolated, tmp_path / "hf")
    snap = _snapshot(tmp_path)
    target = ensure_media("t", "org/d", {"video": True, "cache_dir": "linked", "create_link": True}, settings,
                          fetch=lambda **_: str(snap))
    assert target is not None and target.is_symlink() and os.readlink(target) == str(snap)


def test_youtube_datasets_are_refused(settings: Settings) -> None:
    with pytest.raises(DatasetError, match="yt-dlp"):
        ensure_media("t", "org/d", {"video": True, "cache_dir": "x", "From_YouTube": True}, settings)
