"""The benchmark (``poetbench eval``): ``plan``, ``stages`` (generate, score, held-out, summarise,
write), ``stats`` (CIs, paired tests, distances) and ``rundir`` (one folder, one run)."""

from poetbench.eval.plan import EvalOptions
from poetbench.eval.stages import EvalResult, run_eval

__all__ = ["EvalOptions", "EvalResult", "run_eval"]
