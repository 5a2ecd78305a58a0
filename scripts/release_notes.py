"""Prints one version's section of CHANGELOG.md (Keep a Changelog 1.1.0,
https://keepachangelog.com/en/1.1.0/): the lines under `## [VERSION] - YYYY-MM-DD` up to the
next `## ` heading, without the link reference definitions (`[0.1.0]: https://...`) that the
format keeps at the end of the file. The release's notes are these lines.

Refuses, with one line on stderr and exit status 1: no such section, a section with nothing in
it, a section without a date (still `[Unreleased]`, or not yet released), or two sections for
the same version.

Usage: release_notes.py VERSION [CHANGELOG.md]
"""

import re
import sys
from pathlib import Path

HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?\s*$")
LINK_DEFINITION = re.compile(r"^\[[^\]]+\]:\s+\S+")


class NotesError(Exception):
    pass


def section(changelog: str, version: str) -> str:
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in changelog.splitlines():
        if line.startswith("## "):
            match = HEADING.match(line)
            current = None
            if match and match["version"] == version:
                if not match["date"]:
                    raise NotesError(
                        f"CHANGELOG.md: the heading of {version} has no date "
                        f"(`## [{version}] - YYYY-MM-DD`): {line!r}"
                    )
                current = []
                found.append(current)
        elif line.startswith("# "):
            current = None
        elif current is not None and not LINK_DEFINITION.match(line):
            current.append(line)
    if not found:
        raise NotesError(f"CHANGELOG.md has no section `## [{version}] - YYYY-MM-DD`")
    if len(found) > 1:
        raise NotesError(f"CHANGELOG.md has {len(found)} sections for {version}")
    text = "\n".join(found[0]).strip()
    if not text:
        raise NotesError(f"CHANGELOG.md's section for {version} is empty")
    return text + "\n"


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: release_notes.py VERSION [CHANGELOG.md]", file=sys.stderr)
        return 2
    path = Path(argv[2] if len(argv) == 3 else "CHANGELOG.md")
    try:
        sys.stdout.write(section(path.read_text(encoding="utf-8"), argv[1]))
    except (NotesError, OSError, UnicodeDecodeError) as error:
        print(f"release notes: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
