"""Where a word too wide for its column breaks: one rule for the tables (report.tables) and the help
(rackwright.cli.common). Standard library only, so that ``rackwright --help`` folds its words without importing
the tables and the figure tables behind them."""

from __future__ import annotations

#: Where a folded word breaks by preference: after one of these (a ``-`` starts the next line instead).
BREAK_AFTER = "/.;:,?&=_"


def break_offsets(word: str, width: int) -> list[int]:
    """Offsets in ``word`` where it breaks into pieces of at most ``width`` characters: after the last of
    :data:`BREAK_AFTER` or before the last ``-`` past half the width, else at the width (the tables' URLs and paths
    and the help's long words fold alike)."""
    offsets, start = [], 0
    while len(word) - start > width:
        window = word[start : start + width + 1]
        cut = max((i + 1 for i, c in enumerate(window[:-1]) if c in BREAK_AFTER), default=0)
        cut = max(cut, max((i for i, c in enumerate(window) if c == "-" and i), default=0))
        start += cut if cut > width // 2 else width
        offsets.append(start)
    return offsets
