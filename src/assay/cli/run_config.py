"""`assay run --config FILE`: one run (a mapping of flag: value) or several (a list of them, run in order),
as lmms-eval reads its ``--config``; flags given on the command line win over every run's values.

Also the two flags whose value lmms-eval reads differently from a plain boolean or folder:
``--use_cache [PATH]`` and ``--output_path x.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay.errors import ConfigError, UsageError


def load_runs(path: str, known: set[str]) -> list[dict[str, Any]]:
    """The runs a ``--config`` file describes: a mapping is one run, a list of mappings is several."""
    import yaml

    from assay.tasks.yaml.loader import safe_load_bounded

    try:
        loaded = safe_load_bounded(Path(path).read_text(encoding="utf-8"), str(path)) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read --config {path}: {exc.strerror}", hint="check the path") from None
    except UnicodeDecodeError:
        raise ConfigError(f"--config {path} is not UTF-8 text", hint="save it as UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML", hint="fix the YAML syntax") from None
    runs = loaded if isinstance(loaded, list) else [loaded]
    if not runs:
        raise ConfigError(f"{path}: the list of runs is empty", hint="e.g. `- model: openai` then its flags")
    for position, run in enumerate(runs, start=1):
        where = f"{path}" if len(runs) == 1 else f"{path}: run {position}"
        if not isinstance(run, dict):
            raise ConfigError(f"{where}: expected a mapping of flag: value, or a list of them",
                              hint="e.g. `model: openai`, or `- model: openai` per run")
        unknown = set(run) - known
        if unknown:
            raise ConfigError(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}",
                              hint=f"known keys: {', '.join(sorted(known))}")
    return runs


def cache_option(value: Any) -> tuple[bool | None, Path | None]:
    """``--use_cache``: on/off (assay's boolean form, LMMS_EVAL_USE_CACHE) or lmms-eval's PATH — a folder
    (the cache is ``PATH/responses.sqlite``) or a ``.sqlite``/``.db`` file — which also turns it on."""
    if value is None or isinstance(value, bool):
        return value, None
    text = str(value).strip()
    lowered = text.lower()
    if lowered in ("true", "1", "yes", "on"):
        return True, None
    if lowered in ("false", "0", "no", "off", "none", ""):
        return False, None
    path = Path(text).expanduser()
    if path.suffix.lower() in (".sqlite", ".db", ".sqlite3"):
        return True, path
    if path.exists() and not path.is_dir():
        raise UsageError(f"--use_cache {text} is a file that is not a cache database",
                         hint="give a folder (the cache is FOLDER/responses.sqlite) or a .sqlite file")
    return True, path / "responses.sqlite"


def output_option(value: Any) -> tuple[Path | None, Path | None]:
    """``--output_path``: (the folder for the run's files, the results file lmms-eval users asked for).

    As in lmms-eval, a path ending in ``.json`` names the results file itself; everything else (samples,
    the run's own copy) goes in its folder. ``""`` would silently write nothing, so it is an error (a config
    file's explicit ``null`` means "no files", as ``output_path=None`` does in the Python API)."""
    if value is None:
        return None, None
    if not str(value).strip():
        raise UsageError("--output_path is empty", hint="give a folder, e.g. --output_path ./logs (the default)")
    path = Path(str(value))
    if path.suffix.lower() == ".json":
        if path.is_dir():
            raise UsageError(f"--output_path {path} is a folder whose name ends in .json",
                             hint="rename or remove that folder, or give another path")
        return path.parent, path
    return path, None
