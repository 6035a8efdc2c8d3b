"""assay's ``lmms_eval`` compatibility package (see :mod:`assay.compat`).

Imported as ``lmms_eval`` by task helpers written for lmms-eval, when lmms-eval itself is not installed.
Its modules provide the names those helpers import, written for assay; modules inside it import each
other relatively, so they work under either name.
"""
