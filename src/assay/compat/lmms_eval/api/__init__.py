"""``lmms_eval.api``: metrics, filters, registry and task names task helpers import."""
