"""A MkDocs hook: links from docs/*.md to repository files outside docs/ (``../examples/line-us.yaml``) work in
the built site as they do on a repository browser.

Each such file is copied into the site under ``repo/`` (``repo/examples/line-us.yaml``), as it is (a Markdown
file such as ../README.md too, not rendered: its own links point into the repository), and the page's link is
pointed at the copy; a link to a file that does not exist is left alone for MkDocs' own check to report.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File

LINK = re.compile(r"\]\((\.\./[^)\s#]+)(#[^)\s]*)?\)")
PREFIX = "repo"


class RepoFile(File):
    """A repository file copied into the site as it is, whatever its extension."""

    def is_documentation_page(self) -> bool:
        return False


def _target(config, page_uri: str, link: str) -> str | None:
    """The repository-relative path of ``link`` in the page ``page_uri``, if it names a file outside docs/."""
    docs = Path(config["docs_dir"]).resolve()
    path = (docs / posixpath.dirname(page_uri) / link).resolve()
    root = docs.parent
    if path.is_file() and root in path.parents and docs not in path.parents:
        return path.relative_to(root).as_posix()
    return None


def on_files(files, config):
    root = Path(config["docs_dir"]).resolve().parent
    for page in list(files.documentation_pages()):
        text = Path(page.abs_src_path).read_text(encoding="utf-8")
        targets = {_target(config, page.src_uri, match.group(1)) for match in LINK.finditer(text)}
        for target in sorted(t for t in targets if t is not None):
            if files.get_file_from_path(f"{PREFIX}/{target}") is None:
                files.append(RepoFile.generated(config, f"{PREFIX}/{target}", abs_src_path=str(root / target)))
    return files


def on_page_markdown(markdown, page, config, files):
    def repoint(match: re.Match) -> str:
        target = _target(config, page.file.src_uri, match.group(1))
        if target is None:
            return match.group(0)
        link = posixpath.relpath(f"{PREFIX}/{target}", posixpath.dirname(page.file.src_uri) or ".")
        return f"]({link}{match.group(2) or ''})"

    return LINK.sub(repoint, markdown)
