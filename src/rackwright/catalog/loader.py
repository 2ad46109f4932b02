"""Load the parts catalog: every ``data/*.yaml`` file of the package, one per family.

A family file is ``{family: name, parts: [part, ...]}``; each part follows
:class:`rackwright.catalog.schema.Part`. Extra catalog files (a lab's own parts)
can be layered on top with :func:`load_catalog`'s ``extra`` argument.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from collections.abc import Iterable, Iterator
from difflib import get_close_matches
from functools import lru_cache
from pathlib import Path

import pydantic
from pydantic import ValidationError

from ..cache import cache_dir
from ..errors import InputError, Problem
from ..yamlio import problems_from_validation, read_yaml, to_plain
from .schema import Part

DATA_DIR = Path(__file__).parent / "data"


class Catalog:
    """Parts by id, with look-up that suggests the nearest id on a miss."""

    def __init__(self, parts: Iterable[Part]):
        self.parts: dict[str, Part] = {}
        for part in parts:
            self.parts[part.id] = part

    def __contains__(self, part_id: str) -> bool:
        return part_id in self.parts

    def __iter__(self) -> Iterator[Part]:
        return iter(self.parts.values())

    def __len__(self) -> int:
        return len(self.parts)

    def suggest(self, part_id: str) -> str:
        close = get_close_matches(str(part_id), self.parts, n=1, cutoff=0.5)
        return f"did you mean {close[0]!r}?" if close else "run `rackwright catalog list` to see the part ids"

    def get(self, part_id: str) -> Part:
        """The part ``part_id``; raises ``KeyError`` whose message suggests a near id."""
        try:
            return self.parts[part_id]
        except KeyError:
            raise KeyError(f"unknown part {part_id!r}; {self.suggest(part_id)}") from None

    def by_kind(self, kind: str) -> list[Part]:
        return [p for p in self.parts.values() if p.kind == kind]

    def explode(
        self, part_id: str, count: float = 1.0, path: tuple[str, ...] = ()
    ) -> list[tuple[Part, float, tuple[str, ...]]]:
        """The part and everything it contains, depth first: ``(part, total count, ids of its assemblies)``."""
        part = self.get(part_id)
        rows = [(part, count, path)]
        for child in part.contains:
            rows.extend(self.explode(child.part, count * child.count, path + (part.id,)))
        return rows


def load_family(path: Path) -> list[Part]:
    """Validate one family file; raise :class:`InputError` listing every bad part."""
    root = read_yaml(path)
    if not isinstance(root, dict) or "parts" not in root or not isinstance(root["parts"], list):
        raise InputError.single(
            str(path),
            "a catalog file is a mapping with a 'parts' list",
            hint="start the file with 'family: NAME' and 'parts:'",
        )
    parts, problems = [], []
    for index, raw in enumerate(root["parts"]):
        try:
            parts.append(Part.model_validate(to_plain(raw)))
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, root, ("parts", index)))
    if problems:
        raise InputError(str(path), problems)
    return parts


def _check_catalog(families: dict[str, list[Part]]) -> None:
    """Ids are unique across the built-in families and every ``contains`` resolves."""
    seen: dict[str, str] = {}
    problems: list[Problem] = []
    for file, parts in families.items():
        for part in parts:
            if part.id in seen:
                problems.append(Problem(f"duplicate part id {part.id!r} (also in {seen[part.id]})", part.id))
            seen[part.id] = file
    catalog = Catalog(p for parts in families.values() for p in parts)
    for part in catalog:
        for i, child in enumerate(part.contains):
            if child.part not in catalog:
                problems.append(
                    Problem(
                        f"contains unknown part {child.part!r}",
                        f"{part.id}.contains[{i}].part",
                        catalog.suggest(child.part),
                    )
                )
    if problems:
        raise InputError("catalog", problems)


#: Code that decides what a validated part is: a change to any of it invalidates the cached catalog.
_VALIDATING_CODE = [Path(__file__).parent / name for name in ("schema.py", "specs.py", "loader.py")] + [
    Path(__file__).parents[1] / name for name in ("units.py", "validity.py", "yamlio.py", "errors.py")
]


#: Cached catalogs kept (one per catalog and rackwright version in use, e.g. several virtual environments).
KEEP_CATALOGS = 4


def _cache_file() -> Path | None:
    """The cached built-in catalog's file, named by the hash of the catalog files and the code that validates them."""
    folder = cache_dir()
    if folder is None:
        return None
    digest = hashlib.sha256(f"{sys.version}|{pydantic.VERSION}".encode())
    for path in sorted(DATA_DIR.glob("*.yaml")) + _VALIDATING_CODE:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return folder / f"catalog-{digest.hexdigest()[:32]}.pickle"


def builtin_families() -> dict[str, list[Part]]:
    """The validated built-in families, from the cache when this catalog was validated before (milliseconds
    instead of a second of YAML parsing and validation)."""
    cached = _cache_file()
    if cached is not None and cached.is_file():
        try:
            return pickle.loads(cached.read_bytes())
        except Exception:  # noqa: BLE001 - a truncated or foreign file: validate afresh and overwrite it
            pass
    families = {path.name: load_family(path) for path in sorted(DATA_DIR.glob("*.yaml"))}
    _check_catalog(families)
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(pickle.dumps(families, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(partial, cached)  # atomic: a concurrent reader sees the old file or the whole new one
            for stale in sorted(cached.parent.glob("catalog-*.pickle"), key=os.path.getmtime)[:-KEEP_CATALOGS]:
                stale.unlink(missing_ok=True)
        except OSError:
            pass
    return families


@lru_cache(maxsize=8)
def load_catalog(extra: tuple[str, ...] = ()) -> Catalog:
    """The built-in catalog, plus any ``extra`` family files whose ids override built-in ones."""
    parts = [p for parts in builtin_families().values() for p in parts]
    parts += [p for path in extra for p in load_family(Path(path))]
    return Catalog(parts)
