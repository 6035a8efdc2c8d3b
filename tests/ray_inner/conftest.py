"""These modules run inside the namespace tests/test_ray.py makes, against the cluster it started; a
plain ``pytest`` run collects them only through that test."""

from __future__ import annotations

import os

if "ASSAY_RAY_ADDRESS" not in os.environ:
    collect_ignore_glob = ["test_*.py"]
