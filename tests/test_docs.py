"""The project carries its own design: what the code's comments point to is in it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT / "docs" / "design.md"
REFERENCE = re.compile(r'docs/design\.md,\s*"([^"]+)"')


def sources() -> list[Path]:
    return [
        path
        for folder in ("archive", "testimonies", "tests", "benchmarks")
        for path in (ROOT / folder).rglob("*.py")
    ]


def test_every_section_the_code_points_to_is_in_the_design():
    sections = set(re.findall(r"^## (.+)$", DESIGN.read_text("utf-8"), re.M))
    cited = {
        (path.relative_to(ROOT).as_posix(), name)
        for path in sources()
        for name in REFERENCE.findall(path.read_text("utf-8"))
    }
    assert cited, "the code points to the design somewhere"
    assert {(path, name) for path, name in cited if name not in sections} == set()


def test_no_comment_points_to_a_design_outside_the_repository():
    outside = re.compile(r"(?<![/\w])DESIGN\.md")
    assert [
        path.relative_to(ROOT).as_posix()
        for path in sources()
        if outside.search(path.read_text("utf-8"))
    ] == []
