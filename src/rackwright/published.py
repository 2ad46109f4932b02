"""A computed figure held against a published one: the relative error and whether it is within tolerance."""

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
