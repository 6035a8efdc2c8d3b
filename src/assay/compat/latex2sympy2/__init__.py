"""``latex2sympy2``, answered by ``latex2sympy2_extended`` (math-verify's maintained fork of it).

MathVision, STARE and EMMA helpers do ``from latex2sympy2 import latex2sympy``. The original package pins
``antlr4-python3-runtime==4.7.2``, which cannot be installed beside math-verify's parser (the ``lmms``
extra needs both), so when it is absent this module gives the same function from the fork, which parses
the same LaTeX into the same SymPy expressions. Installing the real ``latex2sympy2`` makes it win.
"""

from __future__ import annotations

import logging

try:
    from latex2sympy2_extended import latex2sympy
except ImportError as exc:  # pragma: no cover - the lmms extra brings it
    raise ImportError("latex2sympy2 is answered by latex2sympy2_extended, which is not installed; "
                      "pip install 'assay[lmms]'") from exc

logging.getLogger("assay.compat").info("latex2sympy2 is answered by latex2sympy2_extended (math-verify's fork)")

__all__ = ["latex2sympy"]
