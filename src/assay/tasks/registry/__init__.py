"""Finding tasks: discovery of task folders, the name index (and its cache), ``assay tasks --check``."""
