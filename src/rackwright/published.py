"""A computed figure held against a published one: the relative error and whether it is within tolerance, and the
verdict and notes of the validation tables that print it (``docs/validation.md``)."""

from __future__ import annotations

from typing import TYPE_CHECKING


class RelativeCheck:
    """Mixin for a computed figure against a published one with a relative ``tolerance``.

    The class it is mixed into provides ``published``, ``computed`` and ``tolerance`` (racks and sites).
    """

    if TYPE_CHECKING:  # declared for the type checker only: a pydantic model would take them as its fields
        published: float
        computed: float
        tolerance: float

    @property
    def error(self) -> float:
        """Relative error of the computed figure (absolute error where the published value is 0)."""
        return (self.computed - self.published) / self.published if self.published else self.computed

    @property
    def within(self) -> bool:
        return abs(self.error) <= self.tolerance + 1e-9


def verdict(ok: bool, known_miss: str) -> str:
    """A table's verdict cell: ``yes``, or a bold ``no`` marked as a known miss where the case carries a reason."""
    return "yes" if ok else ("**no** (known miss)" if known_miss else "**no**")


def listed(title: str, items: list[str]) -> str:
    """A titled Markdown list to follow a table (the reasons of its misses, its notes); nothing where none."""
    return f"\n{title}:\n\n" + "\n".join(items) + "\n" if items else ""
