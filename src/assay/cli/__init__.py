"""Command line: the only place that reads ``sys.argv``.

Start-up is kept instant: only argparse is imported here; each subcommand imports its own module
(and that module its heavy dependencies) after parsing.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

# subcommand -> (module, one-line help). Each module has add_arguments(parser) and run(args, settings).
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("assay.cli.run_cmd", "evaluate a model on tasks"),
    "doctor": ("assay.cli.doctor_cmd", "show settings and credentials; check a run's requirements"),
    "tasks": ("assay.cli.tasks_cmd", "list tasks and groups, or show one task's resolved config"),
    "cache": ("assay.cli.cache_cmd", "inspect or clear the response cache"),
    "push": ("assay.cli.push_cmd", "upload a finished run to W&B and/or the Hugging Face Hub"),
    "report": ("assay.cli.report_cmd", "an HTML report of a run, of runs side by side, or of a folder of runs"),
    "models": ("assay.cli.models_cmd", "list every model provider (built-in and plugins) and what it needs"),
}


def add_env_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags every subcommand shares: where settings come from and how loud to be."""
    parser.add_argument(
        "--env-file",
        action="append",
        default=None,
        metavar="PATH",
        help="read this .env file instead of discovering one (repeatable; later files win)",
    )
    parser.add_argument(
        "--verbosity",
        default=None,
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default: VERBOSITY or INFO)",
    )


class _Parser(argparse.ArgumentParser):
    """argparse, except that its error message never echoes a value shaped like a credential (a key pasted
    into `--limit` or left as a stray argument would otherwise land in the terminal and CI logs)."""

    def error(self, message: str) -> NoReturn:
        import re

        from assay.env.masking import looks_like_credential

        def hide(match: re.Match[str]) -> str:
            return "<hidden: looks like a credential>" if looks_like_credential(match.group(0).strip("'")) else \
                match.group(0)

        super().error(re.sub(r"'[^']*'|[^\s',:]+", hide, message))


def build_parser(load_subcommand_args: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="assay",
        description="Evaluate large multimodal models on benchmarks through their APIs.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        add_env_arguments(sp)
        # Only the chosen subcommand's module is imported (for its flags); `assay --help` imports none.
        if name == load_subcommand_args:
            importlib.import_module(module_name).add_arguments(sp)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in args_list if not a.startswith("-")), None)
    if _missing_command(args_list):
        return 2
    parser = build_parser(chosen if chosen in SUBCOMMANDS else None)
    args = parser.parse_args(args_list)
    if args.version:
        from importlib.metadata import version

        print(f"assay {version('assay')}")
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    from assay.cli._entry import run_subcommand

    code = run_subcommand(SUBCOMMANDS[args.command][0], args)
    if argv is None:  # the process ends now (not a caller's in-process use): see ignore_stop_signals
        from assay.cli.exiting import end_process
        from assay.cli.signals import ignore_stop_signals, leave_now_if_threads_linger

        ignore_stop_signals()
        leave_now_if_threads_linger(code)  # threads task code left behind must not keep the process alive
        end_process(code)
    return code


#: Flags only `assay run` takes: a command line that starts with one of them (or with a model name) is an
#: lmms-eval command line with `run` forgotten.
_RUN_FLAGS = ("--model", "--model_args", "--tasks", "--limit", "--output_path", "--log_samples", "--gen_kwargs",
              "--config", "--include_path", "--batch_size", "--predict_only", "--use_cache")


def _missing_command(args: list[str]) -> bool:
    """`assay --model openai …` or `assay openai …`: say to put `run` first (argparse would say "invalid
    choice"). The arguments are not echoed: they may hold a key."""
    if not args or args[0] in SUBCOMMANDS or args[0] in ("-h", "--help", "--version"):
        return False
    first = args[0].split("=", 1)[0]
    run_like = first in _RUN_FLAGS or any(a.split("=", 1)[0] in ("--model", "--tasks") for a in args)
    if not run_like:
        return False
    from assay.env.masking import looks_like_credential

    shown = "<hidden>" if looks_like_credential(first) else first
    print(f"error: `{shown}` is not an assay command" if not first.startswith("-") else
          f"error: {first} is a flag of `assay run`, and no command was given", file=sys.stderr)
    print("hint: put `run` first: assay run --model … --tasks … (lmms-eval's flags are `assay run`'s flags)",
          file=sys.stderr)
    return True
