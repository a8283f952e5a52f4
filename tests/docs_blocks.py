"""The shell blocks of the README and docs/, as the docs tests read them: each ```bash block follows
a marker, `<!-- runs -->` (a test runs it), `<!-- serves: URL -->` (a test runs it until URL answers,
then stops it) or `<!-- does not run: why -->` (its commands' --help must work)."""

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO

BLOCK = re.compile(r"(?:<!-- (runs|serves: [^ >]*|does not run: [^>]*) -->\n)?```bash\n(.*?)```", re.S)


@dataclass(frozen=True)
class Block:
    """One shell block: where it is, whether it runs, and its text."""

    where: str  # page:line
    marker: str | None  # "runs", "serves: URL", "does not run: ...", or None when unmarked
    text: str

    @property
    def runs(self) -> bool:
        return self.marker == "runs"

    @property
    def serves(self) -> str | None:
        """The URL a block that serves until Ctrl-C answers on once it is up."""
        return self.marker.removeprefix("serves: ") if self.marker and self.marker.startswith("serves: ") else None


def pages() -> list[Path]:
    """The README first, then every page of docs/."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def blocks() -> list[Block]:
    """Every shell block of the docs, in reading order."""
    found = []
    for page in pages():
        text = page.read_text()
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start(2))
            found.append(Block(f"{page.relative_to(REPO)}:{line}", match.group(1), match.group(2)))
    return found


def commands(text: str) -> list[list[str]]:
    """A block's commands as words, comments dropped and continued lines joined."""
    joined = text.replace("\\\n", " ")
    return [words for line in joined.splitlines() if (words := shlex.split(line, comments=True))]


def heading_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def broken_links() -> list[str]:
    """Relative links of the docs whose file, or heading, does not exist."""
    broken = []
    for page in pages():
        for target in re.findall(r"\]\(([^)]+)\)", page.read_text()):
            if target.startswith("http"):
                continue
            path, _, anchor = target.partition("#")
            file = page.parent / path if path else page
            if not file.exists():
                broken.append(f"{page.relative_to(REPO)}: {target}")
                continue
            headings = re.findall(r"^#+ (.*)$", file.read_text(), re.M) if file.suffix == ".md" else []
            if anchor and anchor not in map(heading_anchor, headings):
                broken.append(f"{page.relative_to(REPO)}: {target}")
    return broken
