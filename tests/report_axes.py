"""The axes of a plotly figure and their titles, for the report tests (issue 22: every axis titled with its unit)."""

from __future__ import annotations

import re

AXIS = re.compile(r"[xy]axis\d*")


def axis_name(ref: str) -> str:
    """A trace's axis reference as the layout names it: ``x`` → ``xaxis``, ``y3`` → ``yaxis3``."""
    return f"{ref[0]}axis{ref[1:]}"


def drawn_axes(figure) -> set[str]:
    """Every cartesian axis of the figure: those its layout sets and those its traces draw on (default ``x``/``y``)."""
    names = {k for k in figure.layout.to_plotly_json() if AXIS.fullmatch(k)}
    for trace in figure.data:
        for letter in "xy":
            if hasattr(type(trace), f"{letter}axis"):
                names.add(axis_name(getattr(trace, f"{letter}axis") or letter))
    return names


def untitled_axes(figure) -> list[str]:
    """The figure's axes without a title (none is the goal), sorted."""
    layout = figure.layout
    return sorted(name for name in drawn_axes(figure) if not (layout[name].title.text or "").strip())


def title_text(page: str) -> str:
    """The plain text of the page title of a plotly chart in an HTML page: the longest ``"text"`` string of its
    figure JSON (the title's, with its headline and inputs) decoded, line breaks as spaces, markup left out."""
    import json

    decoder = json.JSONDecoder()
    texts = [decoder.raw_decode(page[m.end() :])[0] for m in re.finditer(r'"text":(?=")', page)]
    return re.sub(r"<[^>]+>", "", max(texts, key=len).replace("<br>", " "))
