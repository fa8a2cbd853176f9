"""``course new``: copy a framework's capstone starter into a fresh folder.

The eight frameworks and the fallbacks come from the seed's metadata: an unknown
framework is the ``FRAMEWORK_NOT_SUPPORTED`` error, a language without a framework
falls back to that language's default (Express for Node.js, FastAPI for Python), and
neither falls back to the seed's overall ``fallback_to: express_defaults`` — the
Express starter, and the command says so rather than guessing silently.
"""
from __future__ import annotations

import argparse
import importlib.resources
import shutil
from pathlib import Path

from . import paths
from .errors import CourseError

FRAMEWORKS = {  # framework -> language, in the seed's order
    "express": "node", "nestjs": "node", "fastify": "node",
    "django": "python", "fastapi": "python", "flask": "python",
    "gin": "go", "spring": "java",
}
LANGUAGE_DEFAULTS = {"node": "express", "python": "fastapi", "go": "gin", "java": "spring"}
OVERALL_DEFAULT = "express"  # the seed's fallback_strategy: fallback_to: express_defaults
STARTERS = paths.DATA / "starters"
IGNORE = shutil.ignore_patterns("node_modules", "target", ".venv", "__pycache__", "dist")


class FrameworkNotSupported(CourseError):
    code = "FRAMEWORK_NOT_SUPPORTED"

    def __init__(self, framework: str):
        super().__init__(
            f"{self.code}: Requested framework not in supported list: {framework!r}. "
            f"Use one of: {', '.join(FRAMEWORKS)} (or --language {'/'.join(LANGUAGE_DEFAULTS)}).")


def resolve(framework: str | None, language: str | None) -> str:
    """The framework to use, applying the seed's fallbacks: a bare language's default, and
    Express (``express_defaults``) when neither is given."""
    if framework:
        name = framework.lower()
        if name not in FRAMEWORKS:
            raise FrameworkNotSupported(framework)
        if language and FRAMEWORKS[name] != language:
            raise CourseError(f"{name} is a {FRAMEWORKS[name]} framework, not {language}")
        return name
    if language:
        if language not in LANGUAGE_DEFAULTS:
            raise CourseError(f"unknown language {language!r}; use one of: {', '.join(LANGUAGE_DEFAULTS)}")
        return LANGUAGE_DEFAULTS[language]
    return OVERALL_DEFAULT


def new(dest: str | Path, *, framework: str | None = None, language: str | None = None) -> tuple[str, Path]:
    """Write the starter for ``framework`` into ``dest`` (absent or empty)."""
    name = resolve(framework, language)
    dest = Path(dest)
    with importlib.resources.as_file(STARTERS / name) as source:  # package data, wherever installed
        if not (source / "Procfile").is_file():
            raise CourseError(f"the {name} starter is missing from this installation ({source})")
        if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            raise CourseError(f"{dest} already exists and is not empty: choose a new folder "
                              f"(course new never overwrites your files)")
        if dest.exists():
            dest.rmdir()
        shutil.copytree(source, dest, ignore=IGNORE)
    return name, dest


def cmd_new(args) -> int:
    name, dest = new(args.dir, framework=args.framework, language=args.language)
    if not args.framework and not args.language:
        print(f"No --framework or --language given: using the seed's default, {name} "
              f"(fallback_to: express_defaults). Pick another with --framework NAME.")
    print(f"✓ wrote the {name} starter to {dest}\n\n"
          f"Next:\n  cd {dest}\n  course check .      # see which checklist items fail\n"
          f"  (read README.md there: the contract and the task)")
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "new", help="start a capstone in one of the eight frameworks",
        description="Copy a runnable starter (Procfile, dependencies, the contract's routes implemented "
                    "naively) into DIR. `course check DIR` then shows what production work is left.",
        epilog="frameworks: " + ", ".join(FRAMEWORKS) + "\n--language node → express, python → fastapi, "
               "go → gin, java → spring\nneither → express (the seed's express_defaults)\n\n"
               "example:\n  course new --framework fastify my-api",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", metavar="DIR", help="a new or empty folder")
    p.add_argument("--framework", "-f", help="one of: " + ", ".join(FRAMEWORKS))
    p.add_argument("--language", "-l", help="node, python, go or java: its default framework")
    p.set_defaults(func=cmd_new)
