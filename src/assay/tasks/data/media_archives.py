"""``dataset_kwargs.video`` / ``cache_dir``: a dataset's media archives, fetched and unpacked before its docs.

lmms-eval's rule, kept: when ``video: true``, the folder ``$HF_HOME/<cache_dir>`` is where the task's
helpers look for media (they join ``os.environ["HF_HOME"]`` and ``cache_dir`` themselves). If it exists,
nothing is fetched — so media an lmms-eval install already unpacked is reused as it is. Otherwise the
dataset repository is fetched through the Hugging Face Hub cache (``snapshot_download``, with ``HF_TOKEN``),
every ``*.zip`` and ``*.tar*`` in it is unpacked (split ``name_0.tar, name_1.tar…`` parts joined first), and
with ``create_link: true`` the folder is a link to the snapshot instead.

Unlike lmms-eval, unpacking goes to a staging folder next to the target and is renamed into place at the
end, so an interrupted unpack is redone rather than mistaken for a finished one, and archive members that
would land outside the folder are refused.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tarfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.errors import DatasetError

if TYPE_CHECKING:
    from assay.env.settings import Settings

log = logging.getLogger(__name__)

#: dataset_kwargs that drive this step and are not passed on to ``datasets.load_dataset``
ARCHIVE_KWARGS = frozenset({"video", "cache_dir", "force_download", "force_unzip", "create_link",
                            "local_files_only", "builder_script"})

Fetch = Callable[..., str]  # huggingface_hub.snapshot_download's signature


def media_root(settings: Settings) -> Path:
    """``$HF_HOME`` as task helpers see it: Settings read it (or its default), and assay.compat gives helpers
    that same value when it is unset."""
    return Path(os.path.expanduser(str(settings.hf_home)))


def media_folder(kwargs: Mapping[str, Any], settings: Settings) -> Path:
    cache_dir = os.path.expanduser(os.path.expandvars(str(kwargs["cache_dir"])))
    return Path(cache_dir) if os.path.isabs(cache_dir) else media_root(settings) / cache_dir


def ensure_media(task: str, dataset_path: str | None, kwargs: Mapping[str, Any], settings: Settings,
                 fetch: Fetch | None = None) -> Path | None:
    """Make ``$HF_HOME/<cache_dir>`` hold the dataset's media; its path, or None without ``video: true``."""
    if not kwargs.get("video"):
        return None
    if kwargs.get("From_YouTube"):
        raise DatasetError(f"task {task}: From_YouTube datasets download videos with yt-dlp, which assay does not",
                           hint="download the videos yourself into the task's cache_dir under HF_HOME")
    if "cache_dir" not in kwargs:
        raise DatasetError(f"task {task}: dataset_kwargs.video needs cache_dir", hint="add cache_dir: <folder name>")
    target = media_folder(kwargs, settings)
    link = bool(kwargs.get("create_link"))
    if (target.exists() and not (link and target.is_symlink())) and not kwargs.get("force_unzip"):
        return target
    if dataset_path is None:
        raise DatasetError(f"task {task}: media folder {target} is missing and there is no dataset_path to fetch",
                           hint=f"put the task's media in {target}")
    snapshot = Path(_fetch(task, dataset_path, kwargs, settings, fetch))
    if link:
        if target.is_symlink():
            target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(snapshot, target_is_directory=True)
        return target
    unpack_archives(snapshot, target, settings.home)
    return target


def _fetch(task: str, repo: str, kwargs: Mapping[str, Any], settings: Settings, fetch: Fetch | None) -> str:
    if fetch is None:
        try:
            from huggingface_hub import snapshot_download
        except ImportError:
            raise DatasetError(f"task {task} needs huggingface_hub to fetch its media",
                               hint="pip install 'assay[hf]'") from None
        fetch = snapshot_download
    log.warning("task %s: fetching media archives of %s (once; kept in the Hub cache)", task, repo)
    try:
        return str(fetch(repo_id=repo, repo_type="dataset", revision=kwargs.get("revision", "main"),
                         token=settings.secret("hf_token"), force_download=bool(kwargs.get("force_download")),
                         etag_timeout=60))
    except Exception as exc:
        from assay.tasks.data.load import map_dataset_error

        raise map_dataset_error(exc, repo, task) from exc


def unpack_archives(snapshot: Path, target: Path, home: Path) -> None:
    """Every zip and (joined) tar under ``snapshot`` into ``target``, through a staging folder."""
    staging = target.with_name(target.name + ".assay-partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for archive in sorted(snapshot.rglob("*.zip")):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                _inside(staging, member.filename, archive)
            zf.extractall(staging)
    for base, parts in _tar_groups(snapshot).items():
        joined = _joined(base, parts, home)
        with tarfile.open(joined) as tf:
            tf.extractall(staging, filter="data")  # refuses links and paths outside the folder
    if target.exists():
        shutil.rmtree(target) if not target.is_symlink() else target.unlink()
    staging.rename(target)


def _inside(folder: Path, name: str, archive: Path) -> None:
    if not (folder / name).resolve().is_relative_to(folder.resolve()):
        raise DatasetError(f"{archive}: member {name!r} would be written outside {folder}",
                           hint="the archive is malformed or malicious; it was not unpacked")


def _tar_groups(snapshot: Path) -> dict[str, list[Path]]:
    groups: dict[str, list[Path]] = {}
    for part in sorted(snapshot.rglob("*.tar*")):
        base = re.sub(r"_\d+$", "", str(part).split(".tar")[0])
        groups.setdefault(base, []).append(part)
    return groups


def _joined(base: str, parts: list[Path], home: Path) -> Path:
    """One tar: the part itself, or the parts concatenated in name order (into LMMS_EVAL_HOME, not the cache)."""
    if len(parts) == 1:
        return parts[0]
    out = home / "media-staging" / (Path(base).name + ".tar")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as sink:
        for part in sorted(parts):
            with open(part, "rb") as source:
                shutil.copyfileobj(source, sink, length=1 << 20)
    return out
