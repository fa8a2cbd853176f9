"""The 11 checklist items, loaded from ``items.yaml``.

Items are data so the course text, the report and the checks share one wording and
one set of references; the ids below are the stable contract (exercise metadata and
saved reports refer to them), and loading fails loudly if the YAML drifts from it.
"""
from __future__ import annotations

import functools
import importlib.resources

import yaml

from course.checklist.model import Item

ITEMS_FILE = importlib.resources.files("course.checklist") / "items.yaml"  # package data, wherever installed

ITEM_IDS: tuple[str, ...] = (
    "error-handling",
    "logging",
    "request-validation",
    "compression",
    "cors",
    "rate-limiting",
    "connection-pooling",
    "graceful-shutdown",
    "health-check",
    "metrics",
    "security-headers",
)


@functools.cache
def load_items() -> list[Item]:
    """All items in checklist order (cached; treat the list as read-only)."""
    raw = yaml.safe_load(ITEMS_FILE.read_text(encoding="utf-8"))
    items = [_parse(entry) for entry in raw]
    ids = tuple(i.id for i in items)
    if ids != ITEM_IDS:
        raise ValueError(f"{ITEMS_FILE.name} ids {ids} differ from ITEM_IDS {ITEM_IDS}")
    return items


def item(item_id: str) -> Item:
    """The item with this id; ``KeyError`` naming the known ids otherwise."""
    for it in load_items():
        if it.id == item_id:
            return it
    raise KeyError(f"unknown checklist item {item_id!r}; known: {', '.join(ITEM_IDS)}")


def _parse(entry: dict) -> Item:
    missing = {"id", "title", "why", "references"} - entry.keys()
    if missing:
        raise ValueError(f"item {entry.get('id', '?')!r} lacks {sorted(missing)}")
    return Item(
        id=str(entry["id"]),
        title=str(entry["title"]),
        why=" ".join(str(entry["why"]).split()),
        references=tuple(str(r) for r in entry["references"]),
        points=float(entry.get("points", 1)),
    )
