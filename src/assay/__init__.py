"""assay: evaluate large multimodal models on benchmarks, through their APIs.

The public API is re-exported here lazily, so ``import assay`` (and ``assay --help``) stay instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assay.env.aliases import install as _install_old_import_paths
from assay.env.lazy import lazy_getattr

__all__ = [
    "AssayError",
    "ConfigError",
    "CredentialError",
    "EvaluationResult",
    "ProviderError",
    "ResultsDocument",
    "RunFailedError",
    "SampleRecord",
    "Settings",
    "evaluate",
    "load_settings",
    "read_results",
    "sweep",
]

_EXPORTS = {
    "evaluate": "assay.api",
    "sweep": "assay.api",
    "EvaluationResult": "assay.run",
    "Settings": "assay.env.settings",
    "load_settings": "assay.env.settings",
    "AssayError": "assay.errors",
    "ConfigError": "assay.errors",
    "CredentialError": "assay.errors",
    "ProviderError": "assay.errors",
    "RunFailedError": "assay.errors",
    "ResultsDocument": "assay.records",
    "SampleRecord": "assay.records",
    "read_results": "assay.records",
}

if TYPE_CHECKING:
    from assay.api import evaluate, sweep
    from assay.env.settings import Settings, load_settings
    from assay.errors import AssayError, ConfigError, CredentialError, ProviderError, RunFailedError
    from assay.records import ResultsDocument, SampleRecord, read_results
    from assay.run import EvaluationResult


__getattr__ = lazy_getattr(__name__, _EXPORTS)
_install_old_import_paths()  # assay.settings, assay.plan … (see assay/env/aliases.py)
