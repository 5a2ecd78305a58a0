"""A version's release notes are its CHANGELOG.md section, in the Keep a Changelog 1.1.0 format
(https://keepachangelog.com/en/1.1.0/: `## [Unreleased]` first, then `## [X.Y.Z] - YYYY-MM-DD`
per release, newest first, and link reference definitions at the end of the file)."""

import pytest

from .conftest import load_script

release_notes = load_script("release_notes")

CHANGELOG = """# Changelog

All notable changes to this project will be documented in this file.

## [Unreleased]

### Added

- Something not released yet.

## [0.2.0] - 2027-01-15

### Changed

- The second release.
- [A link](https://example.com/) in an item stays.

## [0.1.0] - 2026-12-07

### Added

- The first release.

[unreleased]: https://github.com/mesh-lambda/mesh-lambda/compare/v0.2.0...HEAD
[0.2.0]: https://github.com/mesh-lambda/mesh-lambda/compare/v0.1.0...v0.2.0
[0.1.0]: https://github.com/mesh-lambda/mesh-lambda/releases/tag/v0.1.0
"""


def test_a_section_ends_at_the_next_heading():
    assert release_notes.section(CHANGELOG, "0.2.0") == (
        "### Changed\n\n- The second release.\n- [A link](https://example.com/) in an item stays.\n"
    )


def test_the_last_section_leaves_out_the_link_definitions():
    assert release_notes.section(CHANGELOG, "0.1.0") == "### Added\n\n- The first release.\n"


def test_the_repository_changelog_has_the_workspace_version():
    version = load_script("sbom").cargo_metadata(["wasm32-wasip1"])
    own = next(p["version"] for p in version["packages"] if p["name"] == "mesh-lambda")
    text = (release_notes.Path(__file__).resolve().parents[2] / "CHANGELOG.md").read_text()
    assert release_notes.section(text, own).strip()


@pytest.mark.parametrize(
    ("changelog", "version", "message"),
    [
        (CHANGELOG, "0.3.0", "has no section `## [0.3.0] - YYYY-MM-DD`"),
        (CHANGELOG, "Unreleased", "the heading of Unreleased has no date"),
        # A prefix of a version is not that version.
        (CHANGELOG, "0.2", "has no section `## [0.2] - YYYY-MM-DD`"),
        ("## [0.1.0] - 2026-12-07\n\n[0.1.0]: https://x/\n", "0.1.0", "section for 0.1.0 is empty"),
        ("## [0.1.0] - 2026-12-07\n- a\n## [0.1.0] - 2026-12-08\n- b\n", "0.1.0", "2 sections"),
    ],
)
def test_refused(changelog, version, message):
    with pytest.raises(release_notes.NotesError, match=message.replace("[", r"\[")):
        release_notes.section(changelog, version)


def test_the_command_line_says_why_on_one_line(tmp_path, capsys):
    path = tmp_path / "CHANGELOG.md"
    path.write_text(CHANGELOG)
    assert release_notes.main(["release_notes.py", "0.1.0", str(path)]) == 0
    assert capsys.readouterr().out == "### Added\n\n- The first release.\n"
    assert release_notes.main(["release_notes.py", "9.9.9", str(path)]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    assert release_notes.main(["release_notes.py", "0.1.0", str(tmp_path / "missing")]) == 1
