"""Load a task's docs: local json/jsonl/csv without ``datasets``; everything else through it.

``datasets`` is imported inside :func:`_load_with_datasets` only, for Hub ids, parquet/arrow files,
local dataset folders and ``load_from_disk: true``. Doc selection (shuffle, offset, limit) works the
same on a :class:`DocList` and a ``datasets.Dataset``, touching only the rows it returns, so images of
unselected rows are never decoded.
"""

from __future__ import annotations

import logging
import math
import random
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from assay.env.settings import Settings
from assay.errors import AssayError, CredentialError, DatasetError, UsageError
from assay.tasks.data.doclist import DocList
from assay.tasks.data.jsonl_docs import DocSelection, JsonlDocs
from assay.tasks.data.local_files import LOCAL_SUFFIXES, read_local_files
from assay.tasks.data.special_files import refuse_special
from assay.tasks.yaml.config import TaskConfig

log = logging.getLogger(__name__)

# `dataset_path` values that name a `datasets` packaged builder rather than a dataset.
BUILDERS = frozenset({"json", "csv", "parquet", "arrow", "text", "imagefolder", "videofolder", "audiofolder"})
# lmms-eval-only dataset_kwargs (handled by its own loader, not by `load_dataset`).
_LMMS_ONLY_KWARGS = frozenset({"load_from_disk", "video", "From_YouTube", "create_link", "token", "field",
                               "force_download", "force_unzip", "local_files_only", "builder_script"})
_GATED_RE = re.compile(r"\bgated\b", re.IGNORECASE)
_TOKEN_HINT = (
    "set HF_TOKEN with a valid token from huggingface.co/settings/tokens "
    "(and accept the dataset's terms on its page)"
)


def load_dataset_docs(config: TaskConfig, settings: Settings, split: str | None = None) -> Any:
    """One split (default: the evaluated one) of a task's dataset: a ``DocList`` or a ``datasets.Dataset``."""
    kwargs = dict(config.dataset_kwargs)
    split = split if split is not None else config.eval_split
    local = _local_files(config, kwargs, split)
    if local is not None and all(p.suffix.lower() in LOCAL_SUFFIXES for p in local):
        field = kwargs.get("field")
        return read_local_files(local, field=field if isinstance(field, str) else None,
                                max_line_bytes=settings.max_line_mb * 1024 * 1024)
    if config.dataset_path is None and local is None:
        raise DatasetError(
            f"task {config.task} ({config.yaml_path}) has no dataset_path",
            hint="set dataset_path to a Hub dataset id, a local data file, or `json` with dataset_kwargs.data_files",
        )
    return _undecoded_audio(_load_with_datasets(config, settings, kwargs, split, local))


def select_docs(
    dataset: Any, *, limit: int | float | None = None, offset: int = 0, shuffle_seed: int | None = None
) -> Sequence[tuple[int, dict[str, Any]]]:
    """``(index in the dataset, row as a dict)`` pairs: shuffled with ``shuffle_seed`` first, then
    ``offset``, then ``limit``. The index stays the doc's id whatever the shuffle, so samples from
    different runs can be compared doc by doc.

    ``limit`` is a count (int) or a fraction of all docs (float in (0, 1], rounded up). For local files
    the pairs are a :class:`DocSelection`: each doc is read when the run takes it, so memory stays flat
    however many docs there are. Rows of a ``datasets.Dataset`` are fetched here, once (decoding an image
    must not happen on the run's event loop).
    """
    if isinstance(dataset, JsonlDocs) and shuffle_seed is None and _is_count(limit) and offset >= 0:
        total = dataset.available(offset + int(limit))  # type: ignore[arg-type]  # --limit N reads N docs, no more
    else:
        total = len(dataset)
    count = _limit_count(limit, total)
    if offset < 0:
        raise UsageError(f"offset must be >= 0, got {offset}")
    order: Sequence[int] = range(total)
    if shuffle_seed is not None:
        shuffled = list(order)
        random.Random(shuffle_seed).shuffle(shuffled)  # same order for DocList and datasets.Dataset
        order = shuffled
    order = order[offset:]
    if count is not None:
        order = order[:count]
    if isinstance(dataset, (DocList, JsonlDocs)):
        return DocSelection(dataset, order)
    audio = _audio_columns(dataset)
    if audio:
        return _rows_with_audio(dataset, order, audio)
    return [(i, dict(dataset[i])) for i in order]


def _audio_columns(dataset: Any) -> tuple[str, ...]:
    features = getattr(dataset, "features", None) or {}
    return tuple(name for name, feature in features.items() if type(feature).__name__ == "Audio")


def _undecoded_audio(dataset: Any) -> Any:
    """Audio columns read as ``{"bytes", "path"}``: recent ``datasets`` decode audio only through torchcodec
    (torch), so assay decodes the bytes itself (:mod:`assay.media.audio`), and only the rows it sends."""
    columns = _audio_columns(dataset)
    if not columns:
        return dataset
    import datasets

    for column in columns:
        dataset = dataset.cast_column(column, datasets.Audio(decode=False))
    return dataset


def _rows_with_audio(dataset: Any, order: Sequence[int], columns: tuple[str, ...]) -> list[tuple[int, dict[str, Any]]]:
    """Rows whose audio cells (:class:`~assay.media.audio.AudioValue`) fetch their clip's bytes from the
    (memory-mapped) dataset when the prompt is built, or a helper reads the array: the selected docs do not
    all hold their clips for the whole run. Paths are read up front (strings, cheap)."""
    from assay.media.audio import AudioValue

    rest = dataset.remove_columns(list(columns))
    flat = {column: dataset.select_columns([column]).flatten() for column in columns}
    paths = {column: flat[column][f"{column}.path"] for column in columns}
    clips = {column: flat[column].select_columns([f"{column}.bytes"]) for column in columns}

    def fetch(column: str, index: int) -> Callable[[], bytes | None]:
        return lambda: clips[column][index][f"{column}.bytes"]

    rows = []
    for i in order:
        row = dict(rest[i])
        for column in columns:
            row[column] = AudioValue(fetch(column, i), paths[column][i])
        rows.append((i, row))
    return rows


def _is_count(limit: int | float | None) -> bool:
    """A whole count of docs (not a fraction of all of them, which needs them counted)."""
    if limit is None or isinstance(limit, bool) or limit < 0:
        return False
    return isinstance(limit, int) or (limit > 1.0 and float(limit).is_integer())


def _limit_count(limit: int | float | None, total: int) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or limit < 0:
        raise UsageError(f"limit must be a count >= 0 or a fraction in (0, 1], got {limit!r}")
    if isinstance(limit, float):
        if 0.0 < limit <= 1.0:
            return math.ceil(total * limit)
        if not limit.is_integer() or limit == 0.0:
            raise UsageError(f"limit {limit} is neither a whole count nor a fraction in (0, 1]")
    return int(limit)


def _local_files(config: TaskConfig, kwargs: Mapping[str, Any], split: str | None) -> list[Path] | None:
    """The local files to read, or None when the dataset is not (only) local files."""
    path = config.dataset_path
    data_files = kwargs.get("data_files")
    if data_files is not None and (path is None or path in BUILDERS):
        chosen = _split_files(data_files, config, split)
        return [f for item in chosen for f in _find_local(item, config, required=True)]
    if path is not None and Path(path).suffix.lower() in (*LOCAL_SUFFIXES, ".parquet", ".arrow"):
        found = _find_local(path, config, required=False)
        if found:
            return found
    return None


def _split_files(data_files: Any, config: TaskConfig, split: str | None) -> list[str]:
    if isinstance(data_files, str):
        return [data_files]
    if isinstance(data_files, list):
        return [str(f) for f in data_files]
    if isinstance(data_files, dict):
        split = split or ("test" if "test" in data_files else None)
        if split is None and len(data_files) == 1:
            split = next(iter(data_files))
        if split not in data_files:
            raise DatasetError(
                f"task {config.task}: test_split {split!r} is not in data_files (has {sorted(data_files)})",
                hint="set test_split to one of the data_files keys",
            )
        return _split_files(data_files[split], config, split)
    raise DatasetError(f"task {config.task}: data_files must be a path, a list or a mapping", hint="fix dataset_kwargs")


def _find_local(item: str, config: TaskConfig, *, required: bool) -> list[Path]:
    """``item`` relative to the YAML's folder first, then as written (cwd); globs allowed."""
    written = Path(item).expanduser()
    bases = [written] if written.is_absolute() else [config.folder / written, written]
    for candidate in bases:
        if any(ch in item for ch in "*?["):
            matches = sorted(candidate.parent.glob(candidate.name))
            for match in matches:
                refuse_special(match)
            if matches:
                return matches
        elif candidate.is_file():
            return [candidate]
        elif candidate.exists():  # a FIFO, a device, a folder: refused by what it is, not "not found"
            refuse_special(candidate)
    if required:
        raise DatasetError(
            f"task {config.task}: data file {item!r} not found (looked in {config.folder} and the current folder)",
            hint="data_files paths are relative to the task's YAML folder",
        )
    return []


def _load_with_datasets(
    config: TaskConfig, settings: Settings, kwargs: dict[str, Any], split: str | None, local: list[Path] | None
) -> Any:
    try:
        import datasets
    except ImportError:
        raise DatasetError(
            f"task {config.task} needs the `datasets` library for {config.dataset_path!r}",
            hint="pip install 'assay[hf]'",
        ) from None
    from assay.env.log import drop_library_handlers

    drop_library_handlers("datasets", "huggingface_hub")  # each of their warnings once, through assay's handler
    token = _token(kwargs.get("token"), settings)
    load_kwargs = {k: v for k, v in kwargs.items() if k not in _LMMS_ONLY_KWARGS}
    if kwargs.get("video"):
        load_kwargs.pop("cache_dir", None)  # lmms-eval's video-folder name, not a datasets cache
    path = str(config.dataset_path)
    try:
        if kwargs.get("load_from_disk"):
            folder = _find_folder(path, config)
            return _pick_split(datasets.load_from_disk(str(folder)), split, config)
        if local is not None:  # parquet / arrow files
            builder = "parquet" if local[0].suffix.lower() == ".parquet" else "arrow"
            load_kwargs["data_files"] = [str(p) for p in local]
            return datasets.load_dataset(builder, split="train", **load_kwargs)
        folder_path = config.folder / path
        target = str(folder_path) if folder_path.is_dir() else path
        if target != path or path in BUILDERS:
            ds = datasets.load_dataset(target, config.dataset_name, split=split, token=token, **load_kwargs)
        else:
            ds = _from_hub(config, settings, split, token, load_kwargs)
        return _pick_split(ds, split, config)
    except AssayError:
        raise
    except Exception as exc:
        raise map_dataset_error(exc, path, config.task) from exc


def _from_hub(config: TaskConfig, settings: Settings, split: str | None, token: str | None,
              load_kwargs: dict[str, Any]) -> Any:
    """A Hub dataset; from the local cache only when HF_HUB_OFFLINE is set or the Hub cannot be reached (found
    out in seconds, so a dead network costs no retry storm and is never reported as "not found")."""
    import datasets

    from assay.tasks.data.hub_access import offline_mode, unreachable

    path = str(config.dataset_path)
    why = None if settings.hf_hub_offline else unreachable(settings.hf_endpoint)
    if not settings.hf_hub_offline and why is None:
        return datasets.load_dataset(path, config.dataset_name, split=split, token=token, **load_kwargs)
    try:
        with offline_mode():
            return datasets.load_dataset(path, config.dataset_name, split=split, token=token, **load_kwargs)
    except Exception:
        if why is None:
            raise DatasetError(f"task {config.task}: dataset {path!r} is not in the local cache, and HF_HUB_OFFLINE "
                               "is set", hint="unset HF_HUB_OFFLINE once to download it (then it loads offline)",
                               ) from None
        raise DatasetError(f"task {config.task}: cannot reach the Hugging Face Hub at {settings.hf_endpoint} ({why}), "
                           f"and dataset {path!r} is not in the local cache",
                           hint="check your network (or HF_ENDPOINT); once downloaded, a dataset loads without the "
                                "Hub") from None


def _find_folder(path: str, config: TaskConfig) -> Path:
    written = Path(path).expanduser()
    for candidate in ([written] if written.is_absolute() else [config.folder / written, written]):
        if candidate.is_dir():
            return candidate
    raise DatasetError(
        f"task {config.task}: load_from_disk folder {path!r} not found",
        hint="dataset_path must be a folder written by Dataset.save_to_disk (relative to the YAML folder)",
    )


def _pick_split(ds: Any, split: str | None, config: TaskConfig) -> Any:
    if not hasattr(ds, "keys"):  # already a single Dataset
        return ds
    splits = list(ds.keys())
    chosen = split if split is not None else ("test" if "test" in splits else splits[0] if len(splits) == 1 else None)
    if chosen not in splits:
        raise DatasetError(
            f"task {config.task}: split {split!r} not in dataset (has {splits})", hint="set test_split to one of them"
        )
    return ds[chosen]


def _token(value: Any, settings: Settings) -> str | None:
    if isinstance(value, str) and value:
        return value
    if value is False:
        return None
    return settings.secret("hf_token")


def map_dataset_error(exc: BaseException, path: str, task: str) -> AssayError:
    """A ``datasets``/``huggingface_hub`` failure as one of our errors (401/403/gated -> CredentialError)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    text = str(exc)
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if "GatedRepoError" in names or status in (401, 403) or _GATED_RE.search(text):
        return CredentialError(
            f"task {task}: access to dataset {path!r} was refused ({_first_line(text)})", _TOKEN_HINT
        )
    if names & {"DatasetNotFoundError", "RepositoryNotFoundError", "FileNotFoundError", "EntryNotFoundError"}:
        return DatasetError(
            f"task {task}: dataset {path!r} not found",
            hint="check dataset_path (a Hub id like org/name, or a local path); for a private dataset set HF_TOKEN",
        )
    if names & {"ConnectionError", "OfflineModeIsEnabled", "ConnectError", "Timeout", "TimeoutException"}:
        return DatasetError(
            f"task {task}: cannot reach the Hugging Face Hub for {path!r} ({_first_line(text)})",
            hint="check your network (or HF_ENDPOINT); cached datasets load offline with HF_HUB_OFFLINE=1",
        )
    return DatasetError(
        f"task {task}: loading dataset {path!r} failed: {type(exc).__name__}: {_first_line(text)}",
        hint="check dataset_path, dataset_name, test_split and dataset_kwargs",
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "no detail"


def ensure_sequence(docs: Any, task: str) -> Sequence[Any]:
    """process_docs may return any list-like; a plain list becomes a DocList."""
    if isinstance(docs, list) and not isinstance(docs, DocList):
        return DocList(docs)
    if not hasattr(docs, "__len__") or not hasattr(docs, "__getitem__"):
        raise DatasetError(f"task {task}: process_docs returned {type(docs).__name__}, not a dataset or list")
    return docs  # type: ignore[no-any-return]
