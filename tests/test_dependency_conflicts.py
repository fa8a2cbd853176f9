"""DEPENDENCY_CONFLICT: preparing an app that fails on a package version conflict is named as
such, with the clashing packages and the recovery; any other failed build is not.

One fixture per ecosystem (tests/fixtures/apps/conflict-*, README there): each is a real
conflict the toolchain reports on this machine. Go and Maven need no network (Go reads a
`replace`d folder; Maven a file repository in the folder, the Spring Boot parent from ~/.m2).
npm and pip ask their registries which versions exist (npm ci --offline with an empty cache
only warns ERESOLVE, then fails ENOTCACHED), so those two are skipped when the registry cannot
be reached. The readers are also tested on the tools' captured output, which needs no
toolchain at all.
"""
from __future__ import annotations

import json
import socket

import pytest

from course import toolchains
from course.checklist import engine
from course.checklist.app.conflicts import classify
from course.codes import DEPENDENCY_CONFLICT

from helpers import REPO, needs

APPS = REPO / "tests" / "fixtures" / "apps"


def _reaches(host: str) -> bool:
    try:
        socket.create_connection((host, 443), timeout=3).close()
        return True
    except OSError:
        return False


REGISTRY = {"conflict-npm": "registry.npmjs.org", "conflict-pip": "pypi.org"}


# fixture -> (toolchain, packages the message must name, a phrase of the recovery)
CASES = {
    "conflict-npm": ("node", ["@nestjs/common@10.4.15", "@nestjs/core@11.1.3"], "npm install"),
    "conflict-pip": ("python", ["fastapi==0.115.0", "starlette==0.46.0"], "requirements.txt"),
    "conflict-go": ("go", ["./newer", "requires go >= 1.99"], "go mod tidy"),
    "conflict-maven": ("java", ["lab.conflict:billing-client", "lab.conflict:audit-client",
                                "lab.conflict:shared-json"], "<dependencyManagement>"),
}


def _param(name: str):
    lang = CASES[name][0]
    marks = [needs(lang)]
    if lang == "java":
        marks.append(pytest.mark.skipif(not toolchains.find("maven").ok, reason="needs maven"))
    return pytest.param(name, id=name, marks=marks)


@pytest.mark.parametrize("fixture", [_param(n) for n in CASES])
def test_a_version_conflict_is_named_with_its_packages_and_recovery(fixture):
    if fixture in REGISTRY and not _reaches(REGISTRY[fixture]):
        pytest.skip(f"the resolver needs {REGISTRY[fixture]}'s version lists, which is unreachable")
    _, packages, recovery = CASES[fixture]
    report = engine.check_app(APPS / fixture)  # fails while preparing: no database is provisioned
    assert report.status == "error" and report.exit_code == 1
    assert report.code == DEPENDENCY_CONFLICT.code
    first = report.message.splitlines()[0]
    assert first.startswith("DEPENDENCY_CONFLICT: `") and "package version conflict" in first, report.message
    for name in packages:
        assert name in report.message, f"{name} not named:\n{report.message}"
    assert f"Recovery ({DEPENDENCY_CONFLICT.recovery.lower()})" in report.message and recovery in report.message
    as_json = report.to_json()
    assert as_json["code"] == "DEPENDENCY_CONFLICT"
    json.dumps(as_json)
    assert all(r.status == "skip" for r in report.items)


@needs("go")
def test_the_code_survives_preparing_in_the_graders_sandbox(tmp_path):
    """The grader prepares in the sandbox (app/build.py prints JSON, in_sandbox reads it back): the
    code must cross that boundary too. Here on this machine, which is the same JSON path."""
    from course.checklist.app.launcher import HostLauncher

    report = engine.check_app(APPS / "conflict-go", launcher=HostLauncher(), prepare_cache=tmp_path / "cache",
                              prepare_in_launcher=True)
    assert report.status == "error" and report.code == DEPENDENCY_CONFLICT.code, report.message
    assert report.message.startswith("DEPENDENCY_CONFLICT: `go build -o app .`")


@needs("go")
def test_another_build_failure_is_no_dependency_conflict(tmp_path):
    """The passing side: a compile error stays a plain failed build, with the compiler's words."""
    (tmp_path / "go.mod").write_text("module example.com/broken\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() { undefinedThing() }\n")
    (tmp_path / "Procfile").write_text("web: ./app\n")
    report = engine.check_app(tmp_path)
    assert report.status == "error" and report.code == ""
    assert "DEPENDENCY_CONFLICT" not in report.message and "undefinedThing" in report.message
    assert "code" not in report.to_json()


# --- the readers, on the tools' own output ---------------------------------------------------
NPM_ERESOLVE = """\
npm error code ERESOLVE
npm error ERESOLVE could not resolve
npm error
npm error While resolving: @nestjs/core@11.1.3
npm error Found: @nestjs/common@10.4.15
npm error node_modules/@nestjs/common
npm error   @nestjs/common@"10.4.15" from the root project
npm error
npm error Could not resolve dependency:
npm error peer @nestjs/common@"^11.0.0" from @nestjs/core@11.1.3
npm error node_modules/@nestjs/core
npm error   @nestjs/core@"11.1.3" from the root project
"""
NPM_OUT_OF_SYNC = """\
npm error code EUSAGE
npm error `npm ci` can only install packages when your package.json and package-lock.json are in sync.
npm error Invalid: lock file's express@4.21.2 does not satisfy express@^5.1.0
"""
PIP = ("ERROR: Cannot install fastapi==0.115.0 and starlette==0.46.0 because these package versions have "
       "conflicting dependencies.\n") + """
The conflict is caused by:
    The user requested starlette==0.46.0
    fastapi 0.115.0 depends on starlette<0.39.0 and >=0.37.2

ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/
"""
GO_NEWER = "go: github.com/jackc/pgx/v5@v5.7.5 requires go >= 1.23.0 (running go 1.21.13; GOTOOLCHAIN=local)\n"
GO_AMBIGUOUS = """\
main.go:4:2: ambiguous import: found package cloud.google.com/go/compute/metadata in multiple modules:
\tcloud.google.com/go/compute v1.5.0 (/root/go/pkg/mod/cloud.google.com/go/compute@v1.5.0/metadata)
\tcloud.google.com/go/compute/metadata v0.3.0 (/root/go/pkg/mod/cloud.google.com/go/compute/metadata@v0.3.0)
"""
MAVEN_ENFORCER = """\
[WARNING] Rule 0: org.apache.maven.enforcer.rules.dependency.DependencyConvergence failed with message:
Failed while enforcing releasability.
Dependency convergence error for com.fasterxml.jackson.core:jackson-databind:jar:2.17.1 paths to dependency are:
"""


@pytest.mark.parametrize("output, toolchain, names", [
    (NPM_ERESOLVE, "npm", {"@nestjs/common@10.4.15", "@nestjs/core@11.1.3"}),
    (NPM_OUT_OF_SYNC, "npm", {"express@4.21.2", "express@^5.1.0"}),
    (PIP, "pip", {"starlette==0.46.0", "fastapi==0.115.0", "starlette"}),
    (GO_NEWER, "go", {"github.com/jackc/pgx/v5@v5.7.5"}),
    (GO_AMBIGUOUS, "go", {"cloud.google.com/go/compute", "cloud.google.com/go/compute/metadata"}),
    (MAVEN_ENFORCER, "maven", {"com.fasterxml.jackson.core:jackson-databind:jar:2.17.1"}),
], ids=["npm-eresolve", "npm-ci-out-of-sync", "pip", "go-newer", "go-ambiguous", "maven-enforcer"])
def test_readers_name_the_packages(output, toolchain, names):
    found = classify(output)
    assert found is not None and found.toolchain == toolchain and found.code == "DEPENDENCY_CONFLICT"
    assert names <= set(found.packages), found.packages
    assert found.recovery and found.message("build").startswith("DEPENDENCY_CONFLICT: `build`")


@pytest.mark.parametrize("output", [
    "npm error code ENOTFOUND\nnpm error network request to https://registry.npmjs.org/express failed",
    "ERROR: Could not find a version that satisfies the requirement fastapi==99.0\n"
    "ERROR: No matching distribution found for fastapi==99.0",
    "./main.go:3:15: undefined: undefinedThing",
    "[ERROR] COMPILATION ERROR :\n[ERROR] /app/src/main/java/App.java:[3,5] cannot find symbol",
    "",
], ids=["npm-network", "pip-no-such-version", "go-compile", "maven-compile", "empty"])
def test_other_failures_are_not_conflicts(output):
    assert classify(output) is None
