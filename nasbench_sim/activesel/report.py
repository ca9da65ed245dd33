"""Report of an active-selection study: CSV tables, Markdown, HTML and a JSON summary, with the figures.

Everything is read back from the study folder (`layout.load_results`), so a
report can be rebuilt without retraining as long as the study folder exists.
The report leads with its answer in one sentence (`summary.answer`), then the
setup, the verdicts and the figures (`figures.FIGURES`), then the long tables
(`tables`). The Markdown and the HTML are rendered from one list of blocks, so
both say the same in the same order; paths in them are relative to the
report's folder. Evaluation during training stays in TensorBoard
(`<study>/tensorboard`).

Example:
    >>> from nasbench_sim.activesel.report import portable_source
    >>> portable_source("/data/mnist/mnist.pkl.gz", "/data/docs"), portable_source("sklearn.datasets.load_digits", ".")
    ('../mnist/mnist.pkl.gz', 'sklearn.datasets.load_digits')
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from nasbench_sim._io import atomic_write_bytes
from nasbench_sim.activesel.config import StudyConfig
from nasbench_sim.activesel.data import ImageData
from nasbench_sim.activesel.figures import FIGURES, FigureData, save_figure
from nasbench_sim.activesel.layout import StudyLayout, load_results
from nasbench_sim.activesel.stats import analyse
from nasbench_sim.activesel.summary import selection_diagnostics, summary
from nasbench_sim.activesel.tables import budget_tables, data_tables

TITLE = "Active-selection study"
#: A block of the document: (kind, payload); kinds 'h1', 'h2', 'answer', 'p', 'ul', 'table', 'figure'.
Block = tuple[str, Any]


def portable_source(source: str, dest: str | os.PathLike) -> str:
    """`source` relative to the folder `dest` when it is a path (absolute, or relative and existing)."""
    path = Path(source)
    if not (path.is_absolute() or path.exists()):
        return source  # not a path, e.g. 'sklearn.datasets.load_digits'
    try:
        return Path(os.path.relpath(path.resolve(), Path(dest).resolve())).as_posix()
    except ValueError:  # another drive (Windows): no relative path exists
        return path.name


def _write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def _setup(config: StudyConfig, info: dict[str, Any]) -> list[str]:
    """The study's setup, one line each: data, candidates, references, known cells, runs."""
    data = info["data"]
    sizes = data["sizes"]
    t = config.training
    known = info["known_cells"]
    pct = known["mean_full_test_accuracy_pct"]
    control = (
        f"; control: {config.control_epochs} epochs on the first {config.control_cells} cells "
        f"({', '.join(config.control_regimes)})"
        if config.has_control
        else ""
    )
    return [
        f"Data: {data['name']} ({data['source']}); pool {sizes['train']:,} training "
        f"images, {sizes['validation']:,} validation, {sizes['test']:,} test.",
        f"Candidates: {config.num_cells} NB101 cells ({', '.join(config.known_cells)} and {config.random_cells} seeded "
        f"random cells), {config.seeds} seed(s); network stem {t.stem_channels}, {t.num_stacks} stacks x "
        f"{t.cells_per_stack} cell(s); AdamW lr {t.lr:g} cosine, batch {t.batch_size}, {t.epochs} epoch(s)"
        f"{control}; device {t.device}.",
        f"Reference models: {config.reference_cell}, trained on the random {config.selection.random_fraction:.0%} "
        f"({config.selection.reference_models} initialisations for EL2N; the first scores L1 and entropy).",
        "Mean full-data test accuracy of the known cells: "
        + (f"{pct:.2f}%" if pct is not None else "n/a")
        + f" (target >= {info['definitions']['known_cells_target_pct']}%: "
        f"{'met' if known['target_met'] else 'not met'}).",
        f"Runs: {info['runs']} training runs and {info['reference_models']} reference models; "
        f"{info['wall_seconds_total'] / 60:.1f} min of run time in all.",
    ]


def document(
    info: dict[str, Any], setup: list[str], figures: list[tuple[str, str]], tables: list[tuple[str, pd.DataFrame]]
) -> list[Block]:
    """The report's blocks in order: answer, setup, verdicts, figures, then the long tables.

    Args:
        info: `summary.summary`'s dict (its 'answer' and the budgets' verdicts).
        setup: lines describing the study.
        figures: (file name relative to the report, caption) of each drawn figure.
        tables: (title, display table) of every budget.
    """
    verdicts = [v for budget in info["budgets"] for v in budget["verdicts"]]
    blocks: list[Block] = [("h1", TITLE), ("answer", info["answer"]), ("ul", setup)]
    blocks += [("h2", "Outcome"), ("ul", verdicts), ("h2", "Figures")]
    blocks += [("figure", figure) for figure in figures]
    for title, table in tables:
        blocks += [("h2", title), ("table", table)]
    blocks.append(
        (
            "p",
            "Definitions: see `nasbench_sim/activesel/stats.py`. Evaluation during training: "
            "`nasbench-sim activesel dashboard <study folder>` (TensorBoard).",
        )
    )
    return blocks


def _markdown_table(table: pd.DataFrame) -> str:
    if table.empty:
        return "(no rows)"
    return table.to_markdown(index=False, disable_numparse=True)  # keep '1.00' as written


def to_markdown(blocks: list[Block]) -> str:
    """The blocks as Markdown."""
    out = []
    for kind, payload in blocks:
        if kind == "h1":
            out.append(f"# {payload}")
        elif kind == "h2":
            out.append(f"## {payload}")
        elif kind == "answer":
            out.append(f"**Answer:** {payload}")
        elif kind == "p":
            out.append(payload)
        elif kind == "ul":
            out.append("\n".join(f"- {item}" for item in payload))
        elif kind == "table":
            out.append(_markdown_table(payload))
        elif kind == "figure":
            file, caption = payload
            out.append(f"![{caption}]({file})")
    return "\n\n".join(out) + "\n"


_NUMBER = re.compile(r"^[+-]?[\d,]+(\.\d+)?( \[| ±| \(|$)")


def _html_table(table: pd.DataFrame) -> str:
    """An HTML table; columns whose cells all start with a number are right-aligned."""
    if table.empty:
        return "<p>(no rows)</p>"
    numeric = [all(_NUMBER.match(str(v)) for v in table[c]) for c in table.columns]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    rows = []
    for values in table.itertuples(index=False):
        cells = "".join(
            f"<td class='{'num' if n else 'txt'}'>{html.escape(str(v))}</td>"
            for v, n in zip(values, numeric, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _inline(text: str) -> str:
    """Escaped HTML text with `code` spans."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def to_html(blocks: list[Block]) -> str:
    """The blocks as a standalone HTML page."""
    body = []
    for kind, payload in blocks:
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{html.escape(payload)}</{kind}>")
        elif kind == "answer":
            body.append(f"<p class='answer'><strong>Answer:</strong> {_inline(payload)}</p>")
        elif kind == "p":
            body.append(f"<p>{_inline(payload)}</p>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in payload) + "</ul>")
        elif kind == "table":
            body.append(_html_table(payload))
        elif kind == "figure":
            file, caption = (html.escape(x) for x in payload)
            body.append(f'<figure><img src="{file}" alt="{caption}"><figcaption>{caption}</figcaption></figure>')
    return _page("\n".join(body))


def _page(body: str) -> str:
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1250px;margin:2em auto;padding:0 1em;color:#222}"
        ".answer{font-size:17px;line-height:1.45;background:#f6f6f6;border-left:4px solid #D55E00;padding:.6em 1em}"
        "table{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}"
        "th,td{border:1px solid #ccc;padding:3px 6px;text-align:left}th{background:#f2f2f2}"
        "td.num{text-align:right;white-space:nowrap}img{max-width:100%}figure{margin:1em 0}"
        "figcaption{color:#555;font-size:13px}"
    )
    return (
        f"<!doctype html>\n<html lang='en'><head><meta charset='utf-8'><title>{TITLE}</title>"
        f"<style>{style}</style></head><body>\n{body}\n</body></html>\n"
    )


def _finite(obj: Any) -> Any:
    """Replace non-finite floats (none should remain) by None so the JSON is valid."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_report(
    out: str | os.PathLike, config: StudyConfig, *, data: ImageData | None = None, dest: str | os.PathLike | None = None
) -> list[Path]:
    """Write the report of the study in `out` to `dest` (default: `out`); returns the written paths.

    Args:
        out: study folder.
        config: its configuration.
        data: its data, for the image grid of picked samples (None: no grid).
        dest: where the report files go.
    """
    layout = StudyLayout(out)
    dest = Path(dest) if dest is not None else layout.root
    runs, references = load_results(layout.root)
    description = json.loads(layout.config.read_text())
    analyses = analyse(runs, references, config)
    info = summary(analyses, config, runs, references)
    info["data"] = {**description["data"], "source": portable_source(description["data"]["source"], dest)}
    info["candidates"] = description["candidates"]
    info["config"] = description["config"]
    written: list[Path] = []

    inputs = FigureData(layout=layout, runs=runs, analysis=analyses[0], data=data)
    drawn = []
    for figure in FIGURES:
        fig = figure.draw(inputs)
        if fig is not None:
            save_figure(fig, dest / figure.file)
            written.append(dest / figure.file)
            drawn.append((figure.file, figure.caption))
    if data is not None:
        info["picked_samples"] = selection_diagnostics(layout, data)

    tables: list[tuple[str, pd.DataFrame]] = []
    for k, analysis in enumerate(analyses):
        suffix = "" if k == 0 else f"_e{analysis.epochs}"
        tables += budget_tables(analysis)
        for name, table in data_tables(analysis).items():
            path = dest / f"{name}{suffix}.csv"
            _write_text(path, table.to_csv(index=False))
            written.append(path)

    blocks = document(info, _setup(config, info), drawn, tables)
    _write_text(dest / "report.md", to_markdown(blocks))
    _write_text(dest / "report.html", to_html(blocks))
    _write_text(dest / "summary.json", json.dumps(_finite(info), indent=2, sort_keys=True, allow_nan=False) + "\n")
    written += [dest / "report.md", dest / "report.html", dest / "summary.json"]
    return written
