"""Before the first paid request: the run's plan, what it requires (credentials, endpoints), live probes."""

from typing import TYPE_CHECKING

from assay.env.lazy import moved_names

if not TYPE_CHECKING:  # the old module's names, for code written before it became this package
    __getattr__ = moved_names(__name__, "assay.preflight.requirements")
