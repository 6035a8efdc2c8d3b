"""The global random state task code sees, seeded as lmms-eval seeds it before building tasks.

lmms-eval calls ``random.seed``, ``np.random.seed`` and ``torch.manual_seed`` with the ``--seed`` values
(``0,1234,1234,1234`` by default) before loading any task, so a ``process_docs`` that shuffles or a
helper that breaks ties with ``random.choice`` draws the same values in both tools. numpy is seeded when it
is installed, torch only when task code has already imported it (importing torch takes seconds).
"""

from __future__ import annotations

import importlib.util
import random
import sys


def seed_task_code(seed: int | None, numpy_seed: int | None, torch_seed: int | None) -> None:
    if seed is not None:
        random.seed(seed)
    if numpy_seed is not None and importlib.util.find_spec("numpy") is not None:
        import numpy

        numpy.random.seed(numpy_seed)
    torch = sys.modules.get("torch")
    if torch_seed is not None and torch is not None:
        torch.manual_seed(torch_seed)
