"""The checklist items, loaded from ``items.yaml``: the seed's 11, then the extras.

Items are data so the course text, the report and the checks share one wording and
one set of references; the ids below are the stable contract (exercise metadata and
saved reports refer to them), and loading fails loudly if the YAML drifts from it.

The seed's production checklist has 11 items, and a score out of 11 is what learners,
capstone READMEs and grade books mean by "passes the checklist". Items the course adds
beyond it (``EXTRA_ITEM_IDS``: tracing, which the seed's observability block asks for)
are checked and reported beside them only when asked (``course check --items all``), so
the default score keeps its meaning.
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
EXTRA_ITEM_IDS: tuple[str, ...] = ("tracing",)  # beyond the seed's list: counted only with --items all
ALL_ITEM_IDS: tuple[str, ...] = ITEM_IDS + EXTRA_ITEM_IDS


@functools.cache
def load_items(*, extra: bool = False) -> list[Item]:
    """The seed's 11 items in checklist order, then (``extra=True``) the course's extras
    (cached; treat the list as read-only)."""
    raw = yaml.safe_load(ITEMS_FILE.read_text(encoding="utf-8"))
    items = [_parse(entry) for entry in raw]
    ids = tuple(i.id for i in items)
    if ids != ALL_ITEM_IDS:
        raise ValueError(f"{ITEMS_FILE.name} ids {ids} differ from ALL_ITEM_IDS {ALL_ITEM_IDS}")
    flagged = tuple(i.id for i in items if i.extra)
    if flagged != EXTRA_ITEM_IDS:
        raise ValueError(f"{ITEMS_FILE.name} marks {flagged} `extra: true`, expected {EXTRA_ITEM_IDS}")
    return items if extra else [i for i in items if not i.extra]


def item(item_id: str) -> Item:
    """The item with this id (seed or extra); ``KeyError`` naming the known ids otherwise."""
    for it in load_items(extra=True):
        if it.id == item_id:
            return it
    raise KeyError(f"unknown checklist item {item_id!r}; known: {', '.join(ALL_ITEM_IDS)}")


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
        extra=bool(entry.get("extra", False)),
    )
