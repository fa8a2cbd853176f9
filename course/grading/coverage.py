"""Which checklist item is practised in which ecosystem: the README's practice table.

Read from each solution's ``checklist:`` metadata, the same tags the grader puts on every
test, so the table can't claim an exercise that doesn't grade the item. Node.js counts
JavaScript and TypeScript exercises alike. ``course build`` writes the table into the
README between two markers; ``course build --check`` fails when it is stale.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterable, Mapping

from ..checklist.items import ALL_ITEM_IDS
from . import spec

ECOSYSTEMS = {"node": "Node.js", "typescript": "Node.js", "python": "Python", "go": "Go", "java": "Java"}
COLUMNS = ("Node.js", "Python", "Go", "Java")
SEED_ITEMS = tuple(i for i in ALL_ITEM_IDS if i != "tracing")  # the 11 the seed's checklist counts
START, END = "<!-- practice-table:start -->", "<!-- practice-table:end -->"


@dataclasses.dataclass(frozen=True)
class Coverage:
    """item id → ecosystem → the exercises (ids) that grade it there."""

    cells: Mapping[str, Mapping[str, tuple[str, ...]]]

    def covered(self, items: Iterable[str] = SEED_ITEMS) -> int:
        return sum(1 for item in items for col in COLUMNS if self.cells.get(item, {}).get(col))

    def missing(self, items: Iterable[str] = SEED_ITEMS) -> list[tuple[str, str]]:
        return [(item, col) for item in items for col in COLUMNS if not self.cells.get(item, {}).get(col)]


def coverage(exercises: Iterable[spec.Exercise]) -> Coverage:
    cells: dict[str, dict[str, list[str]]] = {item: {col: [] for col in COLUMNS} for item in ALL_ITEM_IDS}
    for ex in sorted(exercises, key=lambda e: (e.section, e.id)):
        for item in ex.checklist:
            cells[item][ECOSYSTEMS[ex.language]].append(ex.id)
    return Coverage({item: {col: tuple(ids) for col, ids in row.items()} for item, row in cells.items()})


def markdown(cov: Coverage) -> str:
    """The table: one row per item, one column per ecosystem, exercise ids in the cells."""
    lines = ["| item | " + " | ".join(COLUMNS) + " |", "|---|" + "---|" * len(COLUMNS)]
    for item in ALL_ITEM_IDS:
        name = item if item in SEED_ITEMS else f"{item} (extra)"
        cells = [", ".join(f"`{i}`" for i in cov.cells[item][col]) or "—" for col in COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    total = len(SEED_ITEMS) * len(COLUMNS)
    lines.append("")
    lines.append(f"{cov.covered()}/{total} item × ecosystem pairs of the seed's checklist are graded "
                 "by an exercise outside the capstones (every capstone grades all eleven).")
    return "\n".join(lines)


def readme_with_table(readme: str, table: str) -> str:
    """``readme`` with the text between the markers replaced by ``table``."""
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README.md has no {START} … {END} block")
    return readme[:start + len(START)] + "\n" + table + "\n" + readme[end:]


def update_readme(readme: Path, exercises: Iterable[spec.Exercise], *, check: bool = False) -> list[str]:
    """Write the table into ``readme`` (or with ``check`` only compare); the changes, as
    ``course build`` reports them."""
    text = readme.read_text()
    new = readme_with_table(text, markdown(coverage(exercises)))
    if new == text:
        return []
    if not check:
        readme.write_text(new)
    return [f"stale: {readme.name} (the practice table)"]
