"""A run goes on uvloop's event loop when uvloop is installed, else on asyncio's (assay.run.eventloop)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from assay.run.eventloop import run


async def loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_the_run_goes_on_uvloop_when_it_is_installed() -> None:
    pytest.importorskip("uvloop")
    assert run(loop_module()).startswith("uvloop")


def test_without_uvloop_the_run_goes_on_asyncios_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # an import of it fails, as where it is not installed
    assert run(loop_module()).startswith("asyncio")
