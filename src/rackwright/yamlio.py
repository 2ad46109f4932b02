"""Read YAML with line numbers, and turn validation errors into readable problems.

Shared by the loaders of every input kind, so every input error reads the same:
``file:line:column: slots[3].part: message (fix: hint)``; :class:`Strict` is the base of their schemas.

Every YAML text is measured before it is loaded (:func:`check_yaml_bounds`): a few hundred bytes of aliases
can expand to millions of nodes (an "alias bomb"), and a few kilobytes of brackets nest deeper than the
loader's recursion can go.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, Event, ScalarEvent
from ruamel.yaml.main import CParser  # libyaml's parser (ruamel.yaml.clib), None where it is not installed

from .errors import InputError, Problem


class Strict(BaseModel):
    """The base of every input file's schema: an unknown field is an error (a typo is never ignored), NaN or
    infinity is no number, and a field spelled as YAML spells it (``yield``, ``from``) is read into its Python name."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)


STR_TAG = "tag:yaml.org,2002:str"

# The limits of a YAML text. Measured on every YAML and JSON file of examples/, tests/data/, validation/ and
# the package (the parts catalog included), the largest is 31,668 characters, 1,126 nodes and 8 levels deep,
# and none uses an alias.
#: Characters: 30x the largest file; the round-trip loader reads about 0.3 MB a second.
MAX_CHARS = 1_000_000
#: Levels of nesting: 8x the deepest file, and far inside the recursion limit of the loader and of to_plain.
MAX_DEPTH = 64
#: Nodes (scalars and collections, each alias counted as the nodes it repeats): 90x the largest file; what
#: follows the parse (to_plain, validation, copies, JSON) walks every one.
MAX_NODES = 100_000
#: Aliases (``*name``): none of the files uses one; a hand-written file needs a few.
MAX_ALIASES = 1_000


def read_yaml(path: str | Path) -> Any:
    """Load a YAML file keeping line information (ruamel round-trip types).

    Raises :class:`InputError` for unreadable files and YAML syntax errors,
    with the line and column of the error.
    """
    return parse_yaml_text(read_input_text(path, "a YAML file"), str(path))


def read_input_text(path: str | Path, what: str = "a file") -> str:
    """The text of an input file (UTF-8, a byte-order mark allowed); InputError when it cannot be read."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError.single(str(path), "file not found", hint="check the path") from None
    except IsADirectoryError:
        raise InputError.single(str(path), f"is a directory, not {what}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.single(str(path), f"cannot read file: {exc}") from None


def parse_yaml_text(text: str, file: str | None = None) -> Any:
    check_yaml_bounds(text, file)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise InputError.single(
            file,
            f"YAML syntax error: {exc.problem or exc.context}",
            line=line,
            column=column,
            hint="fix the YAML syntax at this position",
        ) from None
    except Exception as exc:  # ruamel raises a few non-marked errors (e.g. duplicate keys)
        raise InputError.single(file, f"YAML error: {exc}") from None


def parse_yaml_plain(text: str) -> Any:
    """Plain dicts and lists from YAML text, without line information: ruamel's safe loader, on its C
    parser (``ruamel.yaml.clib``) where installed, about 4x faster than the round trip of
    :func:`parse_yaml_text` and with the same YAML 1.2 resolver (``yes`` stays a string, ``1e3`` is a
    float). For the hot path of text that is expected to be valid; its errors carry no field lines, so a
    caller that must report problems parses again with :func:`parse_yaml_text`."""
    check_yaml_bounds(text)
    yaml = YAML(typ="safe")
    yaml.allow_duplicate_keys = False
    return yaml.load(text)


def check_yaml_bounds(text: str, file: str | None = None) -> None:
    """Raise :class:`InputError` where ``text`` exceeds :data:`MAX_CHARS`, :data:`MAX_DEPTH`, :data:`MAX_NODES`
    or :data:`MAX_ALIASES`, before anything is composed: one pass over the parser's events, without recursion,
    on the C parser (``ruamel.yaml.clib``, 20x faster than ruamel's own) where installed. Where that parser
    stops early (libyaml refuses a little YAML, ``{a:1}`` say, that ruamel's parser reads), the text is
    measured again on ruamel's. A syntax error is left to the loader, which stops at it too and reports it."""
    if len(text) > MAX_CHARS:
        line = text.count("\n", 0, MAX_CHARS) + 1
        column = MAX_CHARS - text.rfind("\n", 0, MAX_CHARS)
        raise InputError.single(
            file,
            f"YAML is longer than {MAX_CHARS:,} characters",
            line=line,
            column=column,
            hint="split it into smaller files",
        )
    if CParser is None or not _measured_to_the_end(_c_events(text), file):
        _measured_to_the_end(YAML(typ="rt").parse(text), file)


def _c_events(text: str) -> Iterator[Event]:
    """The C parser's events, without the YAML object (it builds a loader class per call: 3x the parse)."""
    parser = CParser(text)
    while parser.check_event():
        yield parser.get_event()


def _measured_to_the_end(events: Iterator[Event], file: str | None) -> bool:
    """Measure ``events`` (:class:`_Measure`); False where the parser stopped on an error before the end."""
    measure = _Measure(file)
    while True:
        try:
            event = next(events)
        except StopIteration:
            return True
        except Exception:  # noqa: BLE001 - a syntax error (ruamel raises a few kinds): the loader reports it
            return False
        measure.add(event)


class _Measure:
    """Depth, nodes (aliases expanded) and aliases of a YAML event stream so far; InputError past a limit."""

    def __init__(self, file: str | None):
        self.file = file
        self.nodes = 0
        self.aliases = 0
        self.open: list[tuple[str | None, int]] = []  # each open collection: its anchor, the node count before it
        self.sizes: dict[str, int | None] = {}  # each anchor: the nodes it stands for; None while still open

    def add(self, event: Event) -> None:
        if isinstance(event, AliasEvent):
            self.add_alias(event)
        elif isinstance(event, ScalarEvent):
            self.grow(event, 1)
            if event.anchor is not None:
                self.sizes[event.anchor] = 1
        elif isinstance(event, CollectionStartEvent):
            self.open_collection(event)
        elif isinstance(event, CollectionEndEvent):
            anchor, before = self.open.pop()
            if anchor is not None:
                self.sizes[anchor] = self.nodes - before

    def open_collection(self, event: CollectionStartEvent) -> None:
        self.grow(event, 1)
        self.open.append((event.anchor, self.nodes - 1))
        if event.anchor is not None:
            self.sizes[event.anchor] = None
        if len(self.open) > MAX_DEPTH:
            raise self.error(
                event,
                f"YAML nests deeper than {MAX_DEPTH} levels",
                "flatten the structure: a design nests a few levels deep",
            )

    def add_alias(self, event: AliasEvent) -> None:
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise self.error(
                event, f"YAML has more than {MAX_ALIASES:,} aliases (*name)", "write the repeated values out"
            )
        size = self.sizes.get(event.anchor, 1)  # an unknown anchor: the loader refuses it
        if size is None:
            raise self.error(
                event,
                f"alias *{event.anchor} inside its own anchor &{event.anchor} repeats it without end",
                "remove the alias",
            )
        self.grow(event, size)

    def grow(self, event: Event, nodes: int) -> None:
        self.nodes += nodes
        if self.nodes > MAX_NODES:
            raise self.error(
                event,
                f"YAML holds more than {MAX_NODES:,} nodes, each alias counted as the nodes "
                "it repeats (an alias bomb?)",
                "split the file, or repeat fewer values",
            )

    def error(self, event: Event, message: str, hint: str) -> InputError:
        mark = event.start_mark
        return InputError.single(self.file, message, line=mark.line + 1, column=mark.column + 1, hint=hint)


def to_plain(node: Any) -> Any:
    """Convert ruamel containers into plain dicts and lists, and an explicit ``!!str`` scalar into its string
    (as :func:`parse_yaml_plain` reads it; the round trip keeps it as a ``TaggedScalar``)."""
    if isinstance(node, dict):
        return {str(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, TaggedScalar) and node.tag.value == STR_TAG:
        return node.value
    return node


def location(root: Any, loc: tuple) -> tuple[int | None, int | None]:
    """Line and column (1-based) of the deepest node of ``loc`` found in ``root``."""
    node, line, column = root, None, None
    for key in loc:
        if isinstance(node, CommentedMap) and key in node:
            position = node.lc.key
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
            position = node.lc.item
        else:
            break
        try:
            line, column = (n + 1 for n in position(key))
        except (KeyError, TypeError):
            pass
        node = node[key]
    return line, column


def leaf_location(merged: Any, root: Any, loc: tuple) -> tuple:
    """Map a location in a merged design onto the leaf file's own YAML.

    List items are matched by their ``id`` (the merged list mixes inherited items);
    where an item is not in the leaf file, the location stops at the list itself.
    """
    out: list = []
    node, leaf = merged, root
    for key in loc:
        if isinstance(key, int):
            item = node[key] if isinstance(node, list) and 0 <= key < len(node) else None
            ident = item.get("id") if isinstance(item, dict) else None
            matches = (
                [j for j, x in enumerate(leaf) if isinstance(x, dict) and x.get("id") == ident]
                if isinstance(leaf, list) and ident is not None
                else []
            )
            if not matches:
                break
            out.append(matches[0])
            node, leaf = item, leaf[matches[0]]
        else:
            if not isinstance(node, dict) or not isinstance(leaf, dict) or key not in leaf:
                break
            out.append(key)
            node, leaf = node.get(key), leaf[key]
    return tuple(out)


def field_path(loc: tuple) -> str:
    """``("slots", 3, "part")`` → ``"slots[3].part"``."""
    text = ""
    for key in loc:
        if isinstance(key, int):
            text += f"[{key}]"
        else:
            text += ("." if text else "") + str(key)
    return text


def problems_from_validation(
    exc: ValidationError, root: Any = None, prefix: tuple = (), merged: Any = None
) -> list[Problem]:
    """One :class:`Problem` per pydantic error, with field path and YAML position.

    ``merged`` is the merged mapping of a design that extends others: positions are
    then looked up in the leaf file by item id (see :func:`leaf_location`).
    """
    problems = []
    for error in exc.errors(include_url=False):
        loc = prefix + tuple(k for k in error["loc"] if not (isinstance(k, str) and k.startswith("function-")))
        loc = tuple(k for k in loc if k not in ("str", "float", "int", "dict[str,str]", "list[...]"))
        message, hint = _explain(error)
        where = loc if merged is None else leaf_location(merged, root, loc)
        line, column = location(root, where) if root is not None else (None, None)
        problems.append(Problem(message, field_path(loc), hint, line, column))
    return problems


def _explain(error: ErrorDetails) -> tuple[str, str]:
    kind, message = error["type"], error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if kind == "extra_forbidden":
        return "unknown field", "remove it or check its spelling against the docs"
    if kind == "missing":
        return "required field is missing", "add it"
    if kind.startswith("greater_than") or kind.startswith("less_than"):
        return message, "use a value in the allowed range"
    if kind == "string_too_long":
        return f"longer than {error['ctx']['max_length']:,} characters", "shorten it"
    return message, ""


class LocatedInput:
    """Mixin for a loaded input file: problems and errors at a field path, with the YAML line and column.

    The class it is mixed into provides ``file`` (the path, for messages) and ``root`` (the YAML nodes, or None).
    """

    if TYPE_CHECKING:  # declared for the type checker only: a pydantic model would take them as its fields
        file: str | None
        root: Any

    def problem(self, message: str, loc: tuple, hint: str = "") -> Problem:
        line, column = location(self.root, loc) if self.root is not None else (None, None)
        return Problem(message, field_path(loc), hint, line, column)

    def error(self, message: str, loc: tuple, hint: str = "") -> InputError:
        return InputError(self.file, [self.problem(message, loc, hint)])
