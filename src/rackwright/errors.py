"""The one exception type for bad user input.

Library code raises :class:`InputError` (never prints or exits); the CLI turns it
into one readable message and exit code 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Problem:
    """One thing wrong with an input: where it is, what is wrong, how to fix it."""

    message: str
    path: str = ""
    hint: str = ""
    line: int | None = None
    column: int | None = None

    def render(self, file: str | None) -> str:
        where = file or ""
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: " if where else ""
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.hint:
            text += f" (fix: {self.hint})"
        return text


@dataclass
class InputError(ValueError):
    """Malformed input: a file that cannot be read, parsed or validated, or a value outside its domain.

    A :class:`ValueError`, so that Python callers that catch bad values catch it too; its text is the
    message the CLI prints.
    """

    file: str | None
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def single(cls, file: str | None, message: str, path: str = "", hint: str = "", line=None, column=None):
        return cls(file, [Problem(message, path, hint, line, column)])

    def __str__(self) -> str:
        return "\n".join(p.render(self.file) for p in self.problems)
