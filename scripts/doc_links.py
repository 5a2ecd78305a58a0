"""Checks the links of the documentation: every relative link and `#anchor` in README.md,
ARCHITECTURE.md, BENCHMARKS.md, CHANGELOG.md, integration/README.md and the book's chapters
(docs/src/*.md) resolves, and so does every `{{#include FILE:ANCHOR}}` of the book. Links to
this repository's own files by its URL
(`https://github.com/mesh-lambda/mesh-lambda/blob/main/PATH`, `tree/main`) are checked as
PATH, so the book's links to files outside it work on the web and here alike. Other URLs are
not fetched.

    .venv/bin/python scripts/doc_links.py [ROOT]     (default: the repository)

Prints one line per broken link, `FILE:LINE: TARGET: why`, and exits 1 if there is any.
Anchors are the heading ids mdBook and GitHub give: lower case, letters, digits, `-` and `_`
kept, spaces made `-`, the rest dropped, a repeated id suffixed `-1`, `-2`, ...
"""

import re
import sys
from pathlib import Path

REPOSITORY_URL = re.compile(r"https://github\.com/mesh-lambda/mesh-lambda/(?:blob|tree)/main/(.*)")
DOCUMENTS = [
    "README.md",
    "ARCHITECTURE.md",
    "BENCHMARKS.md",
    "CHANGELOG.md",
    "integration/README.md",
]
BOOK = "docs/src"

FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"`+[^`]*`+")
# [text](target) or ![alt](target), the target without spaces, an optional "title" after it.
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INCLUDE = re.compile(r"\{\{#include\s+([^}\s]+)\s*\}\}")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def prose_lines(text: str):
    """(line number, line) outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def heading_id(heading: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = text.replace("`", "").strip().lower()
    return "".join(c if c.isalnum() or c in "-_" else "-" if c.isspace() else "" for c in text)


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for _, line in prose_lines(path.read_text()):
        match = HEADING.match(line)
        if not match:
            continue
        base = heading_id(match[2])
        unique, counter = base, 0
        while unique in found:
            counter += 1
            unique = f"{base}-{counter}"
        found.add(unique)
    return found


def include_anchors(path: Path) -> set[str]:
    return set(re.findall(r"ANCHOR:\s*([\w-]+)", path.read_text()))


def problem(root: Path, source: Path, target: str) -> str | None:
    """Why `target`, linked from `source`, does not resolve (None: it does)."""
    own = REPOSITORY_URL.match(target)
    if own:
        path_part, _, anchor = own[1].partition("#")
        resolved = root / path_part
    elif SCHEME.match(target):
        return None
    else:
        path_part, _, anchor = target.partition("#")
        resolved = source.parent / path_part if path_part else source
    if not resolved.exists():
        return "no such file"
    if anchor:
        if resolved.is_dir() or resolved.suffix != ".md":
            return "an anchor into a file that is not Markdown"
        if anchor not in anchors(resolved):
            return f"no heading with the id #{anchor} in {resolved.relative_to(root)}"
    return None


def broken_links(root: Path) -> list[str]:
    sources = [root / name for name in DOCUMENTS if (root / name).exists()]
    sources += sorted((root / BOOK).glob("*.md"))
    if not sources:
        return [f"{root}: no documentation found"]
    broken = []
    for source in sources:
        name = source.relative_to(root)
        for number, line in prose_lines(source.read_text()):
            for match in INCLUDE.finditer(line):
                file, _, anchor = match[1].partition(":")
                included = source.parent / file
                if not included.exists():
                    broken.append(f"{name}:{number}: {match[1]}: no such file")
                elif anchor and anchor not in include_anchors(included):
                    broken.append(f"{name}:{number}: {match[1]}: no ANCHOR: {anchor} there")
            for match in LINK.finditer(CODE_SPAN.sub("", line)):
                why = problem(root, source, match[1])
                if why:
                    broken.append(f"{name}:{number}: {match[1]}: {why}")
    return broken


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    broken = broken_links(root)
    for line in broken:
        print(line)
    if broken:
        print(f"doc_links: {len(broken)} broken link(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
