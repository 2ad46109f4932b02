"""The parts catalog: sourced specifications, prices, origins and reliability."""

from .loader import Catalog, load_catalog
from .schema import Origin, Part, Source
from .specs import CATEGORIES, KINDS, SPEC_FIELDS

__all__ = ["Catalog", "load_catalog", "Part", "Source", "Origin", "SPEC_FIELDS", "KINDS", "CATEGORIES"]
