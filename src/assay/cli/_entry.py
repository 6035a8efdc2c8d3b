"""Shared entry for every subcommand: settings once, logging through the redactor, errors mapped."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TYPE_CHECKING

from assay.errors import AssayError

if TYPE_CHECKING:
    from assay.env.credentials import Redactor


def run_subcommand(module_name: str, args: argparse.Namespace) -> int:
    from assay.env.credentials import Redactor
    from assay.env.log import configure_logging
    from assay.env.settings import load_settings

    redactor = Redactor()
    debug = (getattr(args, "verbosity", None) or "").upper() == "DEBUG"
    try:
        settings = load_settings(
            env_files=args.env_file,
            overrides={"verbosity": args.verbosity},
            flag_names={"verbosity": "--verbosity"},
        )
        debug = settings.verbosity == "DEBUG"
        redactor.add_settings(settings)
        configure_logging(settings.verbosity, redactor)
        module = importlib.import_module(module_name)
        return int(module.run(args, settings, redactor))
    except AssayError as exc:  # the user's input or the world, said in one line: no traceback, even at DEBUG
        print_error(exc.message, exc.hint, False, redactor)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still no secret and no traceback unless asked for
        print_error(
            f"unexpected {type(exc).__name__}: {exc}",
            "rerun with --verbosity DEBUG for the traceback, and please report it",
            debug,
            redactor,
        )
        return 1


def print_error(message: str, hint: str, debug: bool, redactor: Redactor) -> None:
    """``error: …`` and ``hint: …`` through the redactor; with ``debug`` (unexpected errors at DEBUG) the
    traceback first."""
    if debug:
        import traceback

        # The traceback goes through the redactor too: exception text can carry request details.
        print(redactor.redact(traceback.format_exc()), file=sys.stderr, end="")
    print(f"error: {redactor.redact(message)}", file=sys.stderr)
    if hint:
        print(f"hint: {redactor.redact(hint)}", file=sys.stderr)
