"""Run (or resume) the performance-estimation lab: the study underneath, then every estimator, then the report.

Example:
    >>> from nasbench_sim.activesel import StudyConfig, TrainConfig
    >>> from nasbench_sim.lab.config import LabConfig
    >>> from nasbench_sim.lab.run import run_lab
    >>> study = StudyConfig(data="digits", known_cells=("resnet-like",), random_cells=3, regimes=("full", "random"),
    ...                     control_epochs=0, training=TrainConfig(stem_channels=4, device="cpu"), out="results/demo/study")
    >>> run_lab(LabConfig(study=study, resolution=4, out="results/demo"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from nasbench_sim._io import atomic_write_json
from nasbench_sim._nn import resolve_device
from nasbench_sim._runner import run_tasks
from nasbench_sim.activesel.study import cached_data, run_study
from nasbench_sim.errors import ConfigError, DataFormatError
from nasbench_sim.lab.config import LabConfig
from nasbench_sim.lab.layout import LabLayout
from nasbench_sim.lab.report import write_lab_report
from nasbench_sim.lab.tasks import check_resolution, is_done, lab_tasks, run_task, write_record


def _check_folder(config: LabConfig) -> None:
    """Refuse a folder that holds a lab of another configuration; record this one."""
    layout = LabLayout(config.out)
    identity = config.identity()
    if layout.config.exists():
        try:
            earlier = json.loads(layout.config.read_text())
        except (OSError, ValueError) as exc:
            raise DataFormatError(f"{layout.config}: unreadable ({exc})") from None
        if earlier.get("identity") != json.loads(json.dumps(identity)):
            raise ConfigError(
                f"{layout.root} holds a lab with another configuration; use another folder (or delete it)"
            )
    atomic_write_json(layout.config, {"identity": identity, "estimators": list(config.estimators)})


def run_lab(config: LabConfig, *, progress: bool = True) -> Path:
    """Run the study (resumed or reused), every estimator not done yet, and write the report; the lab folder.

    Raises:
        ConfigError: CUDA asked for but absent, a resolution that does not divide the images, or a
            folder holding another configuration (nothing is written then).
        DataFormatError: the data cannot be read.
        RunInterruptedError: Ctrl-C; finished tasks are kept and a rerun resumes.
    """
    resolve_device(config.study.training.device)
    data = cached_data(config.study)
    if "resolution" in config.estimators:
        check_resolution(data, config.resolution)
    _check_folder(config)
    run_study(replace(config.study, workers=config.workers), progress=progress, report=False)
    for phase in (1, 2):
        run_tasks(
            lab_tasks(config, phase=phase),
            run_task,
            on_result=write_record,
            is_done=is_done,
            workers=config.workers,
            progress=progress,
            desc=f"lab phase {phase}",
            unit="task",
        )
    write_lab_report(config)
    return LabLayout(config.out).root
