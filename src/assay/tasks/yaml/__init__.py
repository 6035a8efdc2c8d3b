"""The task format: YAML loading (lmms-eval dialect), ``include:``, templates, keys, the typed config, ``!function``."""
