"""``lmms_eval.tasks``: spans the ``…/lmms_eval/tasks`` folders of the included task trees.

``from lmms_eval.tasks._task_utils.file_utils import generate_submission_file`` or
``from lmms_eval.tasks.mmbench.mmbench_evals import MMBench_Evaluator`` resolve to the included tree's
own files, as they do inside lmms-eval. :func:`assay.compat.activate` adds folders as tasks load.
"""

from assay.compat import task_roots

__path__ = [*__path__, *(root for root in task_roots() if root not in __path__)]
