"""The same echo provider, registered the lmms-eval way (LMMS_EVAL_PLUGINS=assay_test_plugin)."""

from __future__ import annotations

from typing import ClassVar

from assay_test_plugin.provider import EchoProvider


class EchoLegacy(EchoProvider):
    name: ClassVar[str] = "echo_legacy"
