"""The documentation's link check (scripts/doc_links.py, which ./scripts/book and
./scripts/check run): the repository's documents pass it, and each kind of broken link fails
it, named by file and line."""

import importlib.util
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("doc_links", REPOSITORY / "scripts/doc_links.py")
doc_links = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(doc_links)

OWN = "https://github.com/mesh-lambda/mesh-lambda/blob/main/"


def test_the_repository_has_no_broken_link():
    assert doc_links.broken_links(REPOSITORY) == []


def write_tree(root: Path, chapter: str) -> None:
    (root / "docs/src").mkdir(parents=True)
    (root / "README.md").write_text("# Title\n\nSee [the book](docs/src/a.md#a-heading).\n")
    (root / "docs/src/a.md").write_text(f"# A heading\n\n## Two `words`\n\n{chapter}\n")
    (root / "FIGURES.md").write_text("<!-- ANCHOR: now -->\n| a |\n<!-- ANCHOR_END: now -->\n")


GOOD = (
    "[up](#a-heading) [down](#two-words) [readme](../../README.md#title) "
    f"[own]({OWN}FIGURES.md) [web](https://example.com/missing) `[code](nowhere.md)`\n\n"
    "{{#include ../../FIGURES.md:now}}\n\n```sh\n[fenced](nowhere.md)\n```"
)


def test_good_links_pass(tmp_path):
    write_tree(tmp_path, GOOD)
    assert doc_links.broken_links(tmp_path) == []
    assert doc_links.main(["doc_links", str(tmp_path)]) == 0


@pytest.mark.parametrize(
    ("chapter", "reported"),
    [
        ("[gone](b.md)", "docs/src/a.md:5: b.md: no such file"),
        ("[gone](#no-such-heading)", "docs/src/a.md:5: #no-such-heading: no heading with the id"),
        ("[gone](../../README.md#nope)", "docs/src/a.md:5: ../../README.md#nope: no heading"),
        (f"[gone]({OWN}GONE.md)", f"docs/src/a.md:5: {OWN}GONE.md: no such file"),
        ("{{#include ../../FIGURES.md:later}}", "docs/src/a.md:5: ../../FIGURES.md:later: no"),
        ("{{#include ../../GONE.md}}", "docs/src/a.md:5: ../../GONE.md: no such file"),
    ],
    ids=["file", "anchor", "anchor-in-another-file", "own-url", "include-anchor", "include"],
)
def test_a_broken_link_fails(tmp_path, capsys, chapter, reported):
    write_tree(tmp_path, chapter)

    assert doc_links.main(["doc_links", str(tmp_path)]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1 and printed[0].startswith(reported), printed
