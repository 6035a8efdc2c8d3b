"""``lmms_eval.loggers``: the one tracker helper task folders use (model name from --model_args)."""
