"""`.env` files: found, read (python-dotenv's own parsing, without touching ``os.environ``) and located
line by line, so every value can say where it came from. Used by :mod:`assay.env.settings` only."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from pathlib import Path

from assay.errors import ConfigError


def find_dotenv(start: Path) -> Path | None:
    """The nearest `.env`: in ``start``, then each parent folder."""
    for folder in (start, *start.parents):
        candidate = folder / ".env"
        if candidate.is_file():
            return candidate
    return None


def read_dotenv(path: Path, *, discovered: bool = False) -> dict[str, tuple[str, int]]:
    """``{KEY: (value, line)}`` from one `.env` file; a line it cannot parse is a ConfigError.
    ``discovered``: the file was found by looking upwards from the working folder, not named by --env-file
    (the hint then says so, instead of pointing at a flag nobody gave)."""
    from dotenv import dotenv_values
    from dotenv.parser import parse_stream

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        where = "found by looking upwards from the working folder" if discovered else "given to --env-file"
        raise ConfigError(
            f"env file {path} ({where}) is not UTF-8 text (byte {exc.start})",
            hint="save it as UTF-8" + (", or name another file with --env-file PATH" if discovered else ""),
        ) from None
    except OSError as exc:
        hint = "check the file's permissions" if discovered else "check the path given to --env-file"
        raise ConfigError(f"cannot read env file {path}: {exc.strerror or exc}", hint=hint) from None
    lines: dict[str, int] = {}
    for binding in parse_stream(io.StringIO(text)):
        line = _first_content_line(binding.original.string, binding.original.line)
        if binding.error:
            raise ConfigError(
                f"{path}:{line}: malformed line in .env file",
                hint="write KEY=value (quote values with spaces or '#'); comment lines start with '#'",
            )
        if binding.key is not None:
            lines[binding.key] = line
    # dotenv_values gives python-dotenv's own quoting/escaping/${VAR} interpolation semantics.
    values = dotenv_values(stream=io.StringIO(text), interpolate=True)
    return {k: (v, lines.get(k, 0)) for k, v in values.items() if v is not None}


def _first_content_line(text: str, start: int) -> int:
    """python-dotenv reports a binding at its first line, blank lines before it included."""
    leading = text[: len(text) - len(text.lstrip())]
    return start + leading.count("\n")


def expand_path(text: str, env: Mapping[str, str]) -> str:
    """``$VAR`` / ``${VAR}`` from ``env`` (unknown ones left as they are), then a leading ``~`` from HOME."""

    def variable(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env.get(name, match.group(0))

    text = re.sub(r"\$(?:\{([^}]*)\}|(\w+))", variable, text)
    home = env.get("HOME")
    if home and (text == "~" or text.startswith("~/")):
        text = home + text[1:]
    return text
