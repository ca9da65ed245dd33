"""The study folder layout: every file the tiny study wrote is where `StudyLayout` says, and reading it back."""

import pytest

from nasbench_sim.activesel.layout import StudyLayout, load_losses, load_results
from nasbench_sim.errors import DataFormatError


def test_every_file_of_the_tiny_study_is_where_the_layout_says(tiny_study):
    config, out = tiny_study
    layout = StudyLayout(str(out))
    assert layout.root == out and layout.config.is_file() and layout.summary.is_file()
    runs, references = load_results(out)
    for _, record in runs.iterrows():
        assert layout.run_of(record).with_suffix(".json").is_file()
        assert load_losses(out, record).shape == (record["steps"],)
        where = {k: record[k] for k in ("seed", "epochs", "regime", "cell_index", "cell")}
        assert layout.run_log(**where).is_dir()
    for _, ref in references.iterrows():
        assert layout.reference(ref["seed"], ref["index"]).with_suffix(".probs.npy").is_file()
        assert layout.reference_log(ref["seed"], ref["index"]).is_dir()
    for seed in range(config.seeds):
        assert layout.subsets_meta(seed).is_file()
        for regime in config.regimes:
            assert layout.subset(seed, regime).is_file() and layout.subset(seed, regime, "added").is_file()
    # Nothing else: the named parts of the layout, then the report's files.
    others = {p.name for p in out.iterdir()} - {"config.json", "references", "subsets", "runs", "tensorboard"}
    assert all(name.endswith((".md", ".html", ".json", ".csv", ".png")) for name in others), others


def test_a_folder_without_runs_is_a_clear_error(tmp_path):
    with pytest.raises(DataFormatError, match="no finished training runs"):
        load_results(tmp_path)


def test_a_truncated_record_is_moved_aside_and_its_task_redone(tmp_path):
    # Catches a truncated study result JSON breaking resume with a JSONDecodeError traceback.
    import warnings

    from nasbench_sim.activesel.layout import read_record

    path = tmp_path / "run.json"
    path.write_text('{"seed": 0, "test_acc')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert read_record(path) is None
    assert "unreadable" in str(caught[0].message) and (tmp_path / "run.json.corrupt").exists()
    assert read_record(tmp_path / "missing.json") is None
    path.write_text('{"seed": 1}')
    assert read_record(path) == {"seed": 1}
