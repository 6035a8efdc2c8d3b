"""A task's docs: local files without ``datasets``, Hub datasets through it, media archives, few-shot examples."""
