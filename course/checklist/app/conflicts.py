"""DEPENDENCY_CONFLICT: tell a version conflict apart from any other failed build, and say
which packages clash and how to get out.

A failed ``npm ci``, ``pip install``, ``go build`` or ``mvn package`` prints pages of
output; the learner needs two facts from it — *which* packages disagree and *what to
change*. Each toolchain words a conflict its own way, so each has a reader here that
returns a typed :class:`Conflict`, or ``None`` when the failure is something else (a
syntax error, a network outage) and the raw output stays the best explanation.

Recognised, from the tools' own messages:

* npm — ``code ERESOLVE`` (peer dependencies that no single version satisfies), and
  ``npm ci``'s "package.json and package-lock.json are not in sync" (``Invalid: lock
  file's x@1 does not satisfy x@^2``);
* pip — ``ResolutionImpossible`` ("Cannot install A and B because these package versions
  have conflicting dependencies", and the "conflict is caused by" lines when shown);
* Go — a module that ``requires go >= N`` than the toolchain (``GOTOOLCHAIN=local``),
  ``ambiguous import`` (one package in two modules), a module whose declared path differs
  from the required one;
* Maven — the resolver's "Could not resolve version conflict among [...]" (hard version
  ranges), and the enforcer's ``DependencyConvergence`` / ``RequireUpperBoundDeps`` errors.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from ...codes import DEPENDENCY_CONFLICT
from .errors import ANSI_ESCAPE


@dataclasses.dataclass(frozen=True)
class Conflict:
    """A version conflict found in a build's output."""

    toolchain: str  # npm | pip | go | maven
    packages: tuple[str, ...]  # the packages that disagree, as the tool names them
    detail: str  # the decisive line(s) of the tool's output
    recovery: str  # what to change, for this toolchain
    code: str = DEPENDENCY_CONFLICT.code

    def message(self, what: str) -> str:
        names = ", ".join(self.packages) or "(see the output below)"
        return (f"{self.code}: `{what}` failed on a package version conflict ({self.toolchain}): {names}.\n"
                f"{self.detail}\n"
                f"Recovery ({DEPENDENCY_CONFLICT.recovery.lower()}): {self.recovery}")


def classify(output: str) -> Conflict | None:
    """The version conflict that made a build fail, or ``None`` if it failed for another reason."""
    text = ANSI_ESCAPE.sub("", output)
    for reader in (_npm, _pip, _go, _maven):
        found = reader(text)
        if found is not None:
            return found
    return None


def _unique(names: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if n))


# --------------------------------------------------------------------------- npm
NPM_PREFIX = re.compile(r"^npm (?:error|ERR!|warn|WARN) ?", re.MULTILINE)


def _npm(text: str) -> Conflict | None:
    body = NPM_PREFIX.sub("", text)
    if re.search(r"\bcode ERESOLVE\b|\bERESOLVE (?:unable|could not)", text):
        found = re.findall(r"^Found: (\S+@\S+)", body, re.MULTILINE)
        wanted = re.findall(r"^peer (\S+@\S+) from (\S+@\S+)", body, re.MULTILINE)
        conflicting = re.findall(r"^Conflicting peer dependency: (\S+@\S+)", body, re.MULTILINE)
        detail = [f"found {f}" for f in found] + [f"{who} wants {peer}" for peer, who in wanted]
        packages = _unique(found + [who for _, who in wanted])
        culprit = wanted[0][1] if wanted else "the package that declares the peer dependency"
        peer = wanted[0][0] if wanted else "the peer"
        return Conflict(
            "npm", packages, "npm ERESOLVE: " + ("; ".join(detail) or "peer dependencies cannot be satisfied")
            + (f" (conflicting peer: {', '.join(conflicting)})" if conflicting else ""),
            f"make the versions agree in package.json — upgrade {found[0] if found else 'the installed package'} "
            f"to what {culprit} asks for ({peer}), or pick a {culprit.rsplit('@', 1)[0]} release that accepts it — "
            "then run `npm install` to rewrite package-lock.json and commit both. --legacy-peer-deps or --force "
            "only hide the conflict until it breaks at run time.")
    invalid = re.findall(r"Invalid: lock file's (\S+@\S+) does not satisfy (\S+@\S+)", body)
    if invalid:
        return Conflict(
            "npm", _unique([spec for pair in invalid for spec in pair]),
            "npm ci: package.json and package-lock.json disagree: "
            + "; ".join(f"the lock has {have}, package.json wants {want}" for have, want in invalid),
            "run `npm install` so the lock matches package.json, check the app still works, and commit "
            "package-lock.json with package.json (npm ci installs exactly the lock, never resolves anew).")
    return None


# --------------------------------------------------------------------------- pip
def _pip(text: str) -> Conflict | None:
    if "ResolutionImpossible" not in text:
        return None
    causes = re.findall(r"^\s+(The user requested \S+|\S+ \S+ depends on \S+.*)$", text, re.MULTILINE)
    packages: list[str] = []
    for cause in causes:
        m = re.match(r"The user requested (\S+)|(\S+) (\S+) depends on (\S+)", cause)
        if m and m.group(1):
            packages.append(m.group(1))
        elif m:
            packages += [f"{m.group(2)}=={m.group(3)}", re.split(r"[<>=!~;\[ ]", m.group(4))[0]]
    cannot = re.search(r"Cannot install (.+?) because these package versions have conflicting dependencies", text)
    if cannot:
        packages += [_requirement_at(part.strip()) for part in re.split(r",\s*|\s+and\s+", cannot.group(1))]
    detail = "pip ResolutionImpossible: " + ("; ".join(c.strip() for c in causes) if causes
                                             else (cannot.group(0) if cannot else "no set of versions fits"))
    return Conflict(
        "pip", _unique(packages), detail,
        "change requirements.txt so one version of each package satisfies every requirement: loosen or drop "
        "the pin that the others cannot accept (pin the framework, let it choose its own dependencies), then "
        "check with `python -m pip install -r requirements.txt` in a fresh venv.")


def _requirement_at(part: str) -> str:
    """``-r /x/requirements.txt (line 2)`` → the requirement written on that line."""
    m = re.match(r"-r (\S+) \(line (\d+)\)", part)
    if not m:
        return part
    try:
        lines = Path(m.group(1)).read_text(encoding="utf-8", errors="replace").splitlines()
        return lines[int(m.group(2)) - 1].split("#")[0].strip() or part
    except (OSError, IndexError):
        return part


# --------------------------------------------------------------------------- Go
def _go(text: str) -> Conflict | None:
    newer = re.findall(r"(?:go: )?(?:module )?(\S+?)(?:@(\S+))? requires go >= (\S+) \(running go (\S+?)[;)]", text)
    if newer:
        mods = [f"{m}@{v}" if v else m for m, v, _, _ in newer]
        need, have, module = newer[0][2], newer[0][3], newer[0][0]
        if module.startswith((".", "/")):  # a replace directive points at a folder
            fix = f"lower the `go` line in {module}/go.mod to what it really needs, or point the replace elsewhere"
        else:
            fix = f"require an older release of {module} that supports go {have} (`go get {module}@vX.Y.Z`)"
        return Conflict(
            "go", _unique(mods), f"go: {mods[0]} requires go >= {need}; this toolchain is go {have} "
            "(GOTOOLCHAIN=local: no other Go is downloaded)",
            f"{fix}, then `go mod tidy`; or install Go >= {need}.")
    ambiguous = re.search(r"ambiguous import: found package (\S+) in multiple modules:\s*((?:\s+\S+.*\n?)+)", text)
    if ambiguous:
        mods = re.findall(r"^\s+(\S+)", ambiguous.group(2), re.MULTILINE)
        return Conflict(
            "go", _unique(mods), f"go: package {ambiguous.group(1)} is provided by several modules",
            "require only one of these modules (drop the other from go.mod, or move to a version where the "
            "package left the parent module), then `go mod tidy`.")
    path = re.search(r"module declares its path as: (\S+)\s+but was required as: (\S+)", text)
    if path:
        return Conflict(
            "go", (path.group(2), path.group(1)), path.group(0).strip(),
            f"require the module by its declared path {path.group(1)} (or fix the replace directive), "
            "then `go mod tidy`.")
    return None


# --------------------------------------------------------------------------- Maven
def _maven(text: str) -> Conflict | None:
    ranges = re.search(r"Could not resolve version conflict among \[(.+?)\](?: ->|$)", text, re.MULTILINE)
    if ranges:
        paths = [p.strip() for p in re.split(r",\s*(?=[\w.-]+:[\w.-]+:)", ranges.group(1))]
        wanted = [p.split(" -> ")[-1] for p in paths]
        who = [p.split(" -> ")[0] for p in paths]
        target = wanted[0].split(":")[:2] if wanted else ["", ""]
        return Conflict(
            "maven", _unique(who + wanted), "Maven: " + "; ".join(f"{w} needs {n}" for w, n in zip(who, wanted,
                                                                                                     strict=True)),
            f"these hard version ranges leave no version of {':'.join(target)} that fits all: use releases "
            "whose ranges overlap, or exclude the dependency from one of them and declare one version in "
            "<dependencyManagement>; `mvn dependency:tree -Dverbose` shows who asks for what.")
    convergence = re.findall(r"Dependency convergence error for (\S+)", text)
    upper = re.findall(r"Require upper bound dependencies error for (\S+)", text)
    if convergence or upper:
        found = convergence + upper
        rule = "DependencyConvergence" if convergence else "RequireUpperBoundDeps"
        return Conflict(
            "maven", _unique(found), f"Maven enforcer {rule}: several versions of {', '.join(found)} meet",
            "pick one version of each in <dependencyManagement> (or add an <exclusion> on the path that brings "
            "the other), then `mvn dependency:tree -Dverbose` to confirm a single version remains.")
    return None
