"""Third-party packages lmms-eval task helpers import: which distribution, and which assay extra brings it.

A helper that fails to import names the missing distribution and the command that installs it, e.g.
``needs the Python package opencv-python-headless (module cv2): pip install 'assay[lmms]'``.
"""

from __future__ import annotations

#: import name -> (distribution on PyPI, the assay extra that installs it, or None)
PACKAGES: dict[str, tuple[str, str | None]] = {
    "loguru": ("loguru", "lmms"),
    "requests": ("requests", "lmms"),
    "openai": ("openai", "lmms"),
    "cv2": ("opencv-python-headless", "lmms"),
    "pycocotools": ("pycocotools", "lmms"),
    "pycocoevalcap": ("pycocoevalcap", "lmms"),
    "numpy": ("numpy", "lmms"),
    "pandas": ("pandas", "lmms"),
    "tqdm": ("tqdm", "lmms"),
    "pytz": ("pytz", "lmms"),
    "sklearn": ("scikit-learn", "lmms"),
    "scipy": ("scipy", "lmms"),
    "nltk": ("nltk", "lmms"),
    "sacrebleu": ("sacrebleu", "lmms"),
    "rouge_score": ("rouge-score", "lmms"),
    "more_itertools": ("more-itertools", "lmms"),
    "soundfile": ("soundfile", "lmms"),
    "pdf2image": ("pdf2image", "lmms"),
    "anls": ("anls", "lmms"),
    "evaluate": ("evaluate", "lmms"),
    "openpyxl": ("openpyxl", "lmms"),
    "antlr4": ("antlr4-python3-runtime", "lmms"),
    "rouge": ("rouge", "lmms"),
    "Levenshtein": ("levenshtein", "lmms"),
    "editdistance": ("editdistance", "lmms"),
    "jieba": ("jieba", "lmms"),
    "zss": ("zss", "lmms"),
    "langdetect": ("langdetect", "lmms"),
    "immutabledict": ("immutabledict", "lmms"),
    "distance": ("distance", "lmms"),
    "apted": ("apted", "lmms"),
    "lxml": ("lxml", "lmms"),
    "sympy": ("sympy", "lmms"),
    "latex2sympy2": ("math-verify", "lmms"),  # answered by its fork, latex2sympy2_extended (assay.compat)
    "latex2sympy2_extended": ("math-verify", "lmms"),
    "math_verify": ("math-verify", "lmms"),
    "word2number": ("word2number", "lmms"),
    "dotenv": ("python-dotenv", None),
    "yaml": ("pyyaml", None),
    "PIL": ("pillow", None),
    "jinja2": ("jinja2", None),
    "datasets": ("datasets", "hf"),
    "huggingface_hub": ("huggingface_hub", "hf"),
    "av": ("av", "video"),
    "decord": ("decord", None),
    "torch": ("torch", None),
    "torchvision": ("torchvision", None),
    "transformers": ("transformers", None),
    "spacy": ("spacy", None),
    "timm": ("timm", None),
    "einops": ("einops", None),
    "tiktoken": ("tiktoken", None),
    "google": ("google-genai", None),
    "anthropic": ("anthropic", None),
    "azure": ("azure-identity", None),
    "httpx": ("httpx", None),
    "pydantic": ("pydantic", None),
}


#: lmms_eval modules some task folders import that lmms-eval itself does not have (at the tree's commit)
NOT_IN_LMMS_EVAL = frozenset({"lmms_eval.azure_openai_compat"})


def missing_module(name: str) -> tuple[str, str]:
    """``(message, hint)`` for ``ModuleNotFoundError(name=...)`` raised by task code."""
    if name in NOT_IN_LMMS_EVAL:
        return (f"module {name} does not exist in lmms-eval either (a broken task folder)",
                "the task folder imports a module its own lmms-eval version lacks; fix the folder")
    if name == "lmms_eval" or name.startswith("lmms_eval."):
        return (
            f"module {name} is not part of assay's lmms_eval compatibility package",
            "install lmms-eval itself, or report the missing name to assay",
        )
    top = name.split(".")[0]
    dist, extra = PACKAGES.get(top, (top, None))
    install = f"pip install 'assay[{extra}]'" if extra else f"pip install {dist}"
    return f"needs the Python package {dist} (module {name})", install
