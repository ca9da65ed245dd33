"""The report of the tiny study: the answer first, figures before tables, files, no NaN, units, relative paths."""

import json
import re
import shutil

from nasbench_sim.activesel.figures import FIGURES
from nasbench_sim.activesel.report import write_report


def test_report_files_exist_and_html_opens_with_its_images(tiny_study):
    _, out = tiny_study
    for name in (
        *(f.file for f in FIGURES),
        "report.md",
        "report.html",
        "summary.json",
        "regimes.csv",
        "ranking.csv",
        "cells_e2.csv",
    ):
        assert (out / name).exists(), name
    page = (out / "report.html").read_text()
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    for src in re.findall(r'<img src="([^"]+)"', page):
        assert (out / src).exists(), src
    assert len(re.findall(r"<img ", page)) == len(FIGURES)


def test_no_nan_anywhere_in_the_documents(tiny_study):
    # The tiny study has undefined statistics (one control cell: no Kendall tau): they must read as text.
    _, out = tiny_study
    for name in ("report.md", "report.html"):
        text = (out / name).read_text()
        assert not re.search(r"\bnan\b", text, flags=re.IGNORECASE), name
    assert "n/a (needs >= 2 cells)" in (out / "report.md").read_text()
    json.loads((out / "summary.json").read_text(), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def test_every_table_header_has_a_unit_or_is_a_label(tiny_study):
    _, out = tiny_study
    md = (out / "report.md").read_text()
    labels = {
        "regime",
        "score",
        "cell",
        "note",
        "TOST p",
        "seed pairs",
        "cells equivalent",
        "SGD steps per run",
        "Kendall tau vs independent full run",
    }  # counts, names
    for line in md.splitlines():
        if line.startswith("| regime") or line.startswith("| cell"):
            for header in (h.strip() for h in line.strip("|").split("|")):
                assert header in labels or "(" in header, header  # units in parentheses: (%), (s), (points), (x)


def _paragraphs(markdown: str) -> list[str]:
    return [p.strip() for p in markdown.split("\n\n") if p.strip()]


def test_the_report_leads_with_the_answer_in_one_sentence(tiny_study):
    _, out = tiny_study
    summary = json.loads((out / "summary.json").read_text())
    title, first = _paragraphs((out / "report.md").read_text())[:2]
    assert title == "# Active-selection study" and first == f"**Answer:** {summary['answer']}"
    # One sentence: a single final full stop (numbers like 1.00 have no space after their point).
    assert first.endswith(".") and not re.search(r"[.!?]\s", first[:-1]), first
    assert "active subset" in first and "Kendall tau" in first and "equivalent" in first
    page = (out / "report.html").read_text()
    assert re.search(r"</h1>\s*<p class='answer'><strong>Answer:</strong> ", page)


def test_figures_come_before_the_long_tables(tiny_study):
    _, out = tiny_study
    md = (out / "report.md").read_text()
    assert md.index("![") < md.index("| regime")
    page = (out / "report.html").read_text()
    assert page.index("<img ") < page.index("<table")
    assert page.index("<h2>Figures</h2>") < page.index("<h2>Regimes")


def test_the_report_has_no_absolute_path(tiny_study, tmp_path):
    # A study of data given by an absolute path, reported into another folder: both appear relative to the report.
    config, out = tiny_study
    study = tmp_path / "study"
    shutil.copytree(out, study, ignore=shutil.ignore_patterns("tensorboard", "*.png", "report.*"))
    description = json.loads((study / "config.json").read_text())
    description["data"]["source"] = str(tmp_path / "data" / "mnist.pkl.gz")
    (study / "config.json").write_text(json.dumps(description))
    dest = tmp_path / "docs" / "activesel"
    write_report(study, config, dest=dest)
    for name in ("report.md", "report.html", "summary.json"):
        text = (dest / name).read_text()
        assert str(tmp_path) not in text and not re.search(r"(?<![\w.])/(tmp|home|root|work)/", text), name
    assert "(../../data/mnist.pkl.gz)" in (dest / "report.md").read_text()
    assert json.loads((dest / "summary.json").read_text())["data"]["source"] == "../../data/mnist.pkl.gz"
