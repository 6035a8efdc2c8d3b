"""``lmms_eval.loggers.evaluation_tracker``: ``GeneralConfigTracker._get_model_name`` for task helpers."""

from __future__ import annotations

_PREFIXES = ("peft=", "delta=", "pretrained=", "model=", "model_version=", "model_name=", "model_id=", "path=",
             "engine=")


class GeneralConfigTracker:
    """Only the static helper task code calls; assay tracks the run itself."""

    @staticmethod
    def _get_model_name(model_args: str) -> str:
        """The model's name in a ``--model_args`` string (the first of lmms-eval's keys present, in its order)."""
        for prefix in _PREFIXES:
            if prefix in model_args:
                return model_args.split(prefix)[1].split(",")[0]
        return ""
