"""Label, colour and marker of every algorithm of an experiment, fixed once and kept in its metadata.

Built-in searchers keep their registry colours; any other algorithm (a user's class, a plugin
without a colour, a renamed built-in) gets the first colour of a fixed palette that no other
algorithm of the experiment uses, so no two are alike, and `plot` redraws them the same in a
fresh process.

Example:
    >>> from nasbench_sim.harness.styles import assign_styles
    >>> from nasbench_sim.search.registry import resolve
    >>> styles = assign_styles(resolve("rs,re"))
    >>> styles["re"]["label"], styles["re"]["color"]
    ('Regularized evolution', '#E69F00')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nasbench_sim.search.registry import ALGORITHMS, AlgorithmSpec

#: Colours for algorithms without one (none of them is a built-in's colour).
PALETTE = (
    "#AA3377",
    "#228833",
    "#4477AA",
    "#EE6677",
    "#66CCEE",
    "#CCBB44",
    "#117733",
    "#332288",
    "#DDCC77",
    "#88CCEE",
    "#661100",
    "#6699CC",
    "#AA4499",
    "#999933",
    "#EE7733",
    "#0077BB",
)
#: Markers for algorithms without one.
MARKERS = ("d", "8", "H", "1", "2", "3", "4", "+", "x", "|")
GREY = {"color": "#777777", "marker": "o"}


def assign_styles(
    specs: Mapping[str, AlgorithmSpec], taken: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, dict[str, str]]:
    """name -> {'label', 'color', 'marker'} for every algorithm; styles in `taken` are kept as they are."""
    out = {name: dict(style) for name, style in (taken or {}).items()}
    for name, spec in specs.items():
        if name in out:
            continue
        used_colors = {s["color"] for s in out.values()}
        used_markers = {s["marker"] for s in out.values()}
        color = spec.color if spec.color and spec.color not in used_colors else None
        marker = spec.marker or None
        if color is None:
            color = next((c for c in PALETTE if c not in used_colors), GREY["color"])
        if marker is None:
            marker = next((m for m in MARKERS if m not in used_markers), GREY["marker"])
        out[name] = {"label": spec.label or name, "color": color, "marker": marker}
    return out


def style_of(name: str, meta: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The recorded style of `name` in an experiment's metadata, else the registry's, else grey."""
    recorded = ((meta or {}).get("algorithms") or {}).get(name, {}).get("style")
    if recorded:
        return dict(recorded)
    if name in ALGORITHMS:
        spec = ALGORITHMS[name]
        return {"label": spec.label or name, "color": spec.color or GREY["color"], "marker": spec.marker or "o"}
    return {"label": name, **GREY}


def label_of(name: str, meta: Mapping[str, Any] | None = None) -> str:
    """The display label of `name` in an experiment (see `style_of`)."""
    return style_of(name, meta)["label"]
