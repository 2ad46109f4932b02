"""A griffe extension for the API reference: the docstrings' Sphinx markup read as Markdown.

The docstrings of rackwright cross-reference in reStructuredText (``:func:`~.schema.load_site```) and show
examples as doctest lines or ``::`` literal blocks. mkdocstrings renders Markdown, so once a package is loaded
each docstring's roles become links to the documented object (optional ones: a target the reference does not
show stays plain code), ``>>>`` runs become fenced Python blocks, ``::`` reads as reStructuredText shows it (a
colon, or nothing where it stands alone or after a space), and units in brackets side by side (``[A] [3]``) stay
text rather than a Markdown reference link.
"""

from __future__ import annotations

import re
import textwrap

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|mod|meth|attr|data|obj|exc):`(~?)([\w.]+)`")
DOCTEST = re.compile(r"^(?:>>>|\.\.\.)(?: |$)")


def _exists(root: griffe.Object, path: str) -> bool:
    try:
        root.modules_collection[path]
    except (KeyError, ValueError, griffe.AliasResolutionError):
        return False
    return True


def _candidates(obj: griffe.Object, target: str) -> list[str]:
    """The full paths ``target`` may name seen from ``obj``: relative to its class, module and their packages."""
    scopes = [obj.path, *(p.path for p in _parents(obj))]
    if target.startswith("."):
        return [scope + target for scope in scopes]
    return [f"{scope}.{target}" for scope in scopes] + [target]


def _parents(obj: griffe.Object) -> list[griffe.Object]:
    parents: list[griffe.Object] = []
    node = obj.parent
    while node is not None:
        parents.append(node)
        node = node.parent
    return parents


def _link(obj: griffe.Object, match: re.Match) -> str:
    short, target = match.group(1), match.group(2)
    title = target.rsplit(".", 1)[-1] if short else target.lstrip(".")
    found = next((path for path in _candidates(obj, target) if _exists(obj, path)), None)
    if found is None:
        return f"`{title}`"
    return f'<autoref identifier="{found}" optional><code>{title}</code></autoref>'


def _fence_doctests(text: str) -> str:
    """Wrap each run of ``>>>``/``...`` lines in a fenced Python block."""
    out: list[str] = []
    inside = False
    for line in text.splitlines():
        doctest = bool(DOCTEST.match(line))
        if doctest and not inside:
            out.append("```python")
        elif not doctest and inside:
            out.append("```")
        inside = doctest
        out.append(line)
    if inside:
        out.append("```")
    return "\n".join(out)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _fence_literal_blocks(text: str) -> str:
    """Each reStructuredText literal block (the indented lines after a paragraph ending ``::``) as a fenced block;
    the ``::`` reads as reStructuredText shows it: gone when alone or after a space, else one colon."""
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.rstrip().endswith("::"):
            out.append(line)
            continue
        intro = line.rstrip()[:-2]
        base = _indent(line)
        if intro.strip():
            out.append(intro.rstrip() if intro.endswith((" ", "\t")) else intro + ":")
        block = []
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > base):
            block.append(lines[i])
            i += 1
        while block and not block[-1].strip():
            block.pop()
        code = textwrap.dedent("\n".join(block)).strip("\n")
        out += ["", " " * base + "```", *(" " * base + row for row in code.splitlines()), " " * base + "```", ""]
    return "\n".join(out)


def markdown(obj: griffe.Object, text: str) -> str:
    """The Markdown of one docstring."""
    text = ROLE.sub(lambda match: _link(obj, match), text)
    text = text.replace("] [", "] \\[")  # units in brackets, "[A] [3]", are not a Markdown reference link
    return _fence_doctests(_fence_literal_blocks(text))


class SphinxRoles(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if obj.docstring is not None:
                obj.docstring.value = markdown(obj, obj.docstring.value)
            stack.extend(member for member in obj.members.values() if isinstance(member, griffe.Object))
