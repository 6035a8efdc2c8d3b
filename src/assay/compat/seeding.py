"""The global random state task code sees, seeded as lmms-eval seeds it before building tasks.

lmms-eval calls ``random.seed``, ``np.random.seed`` and ``torch.manual_seed`` with the ``--seed`` values
(``0,1234,1234,1234`` by default) before loading any task, so a ``process_docs`` that shuffles or a
helper that breaks ties with ``random.choice`` draws the same values in both tools. numpy and torch are
seeded only once task code has imported them (importing numpy costs a run ~50 ms and ~15 MB, torch
seconds): :func:`seed_numpy_if_imported` is called again after each task's code is imported, before its
documents are processed.
"""

from __future__ import annotations

import random
import sys


def seed_task_code(seed: int | None, numpy_seed: int | None, torch_seed: int | None) -> bool:
    """Seed the generators task code may use; returns whether numpy was seeded (it was imported)."""
    if seed is not None:
        random.seed(seed)
    numpy_seeded = seed_numpy_if_imported(numpy_seed)
    torch = sys.modules.get("torch")
    if torch_seed is not None and torch is not None:
        torch.manual_seed(torch_seed)
    return numpy_seeded


def seed_numpy_if_imported(numpy_seed: int | None) -> bool:
    """Seed numpy's global generator if task code has imported numpy; returns whether it did."""
    numpy = sys.modules.get("numpy")
    if numpy_seed is None or numpy is None:
        return False
    numpy.random.seed(numpy_seed)
    return True
