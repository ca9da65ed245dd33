"""Active-selection companion: does training NAS candidates on an informative subset rank them like full training?

Example:
    >>> from nasbench_sim.activesel import StudyConfig, run_study
    >>> run_study(StudyConfig(data="digits", archs=3, seeds=1, out="results/activesel-demo"))  # doctest: +SKIP
"""

from nasbench_sim.activesel.selection import SelectionConfig
from nasbench_sim.activesel.study import StudyConfig, analyse, candidate_cells, run_study
from nasbench_sim.activesel.train import TrainConfig, train

__all__ = ["SelectionConfig", "StudyConfig", "TrainConfig", "analyse", "candidate_cells", "run_study", "train"]
