"""Required dependencies fail loudly: the suite never skips a test because one is missing.

`make test` installs the package with the extras dev, export, jax and convert (Makefile `EXTRAS`), and
the tests import what those bring with plain imports: tidecv (TIDE parity), torch (checkpoint
conversion), jax (backend parity), the export runtimes. A missing or broken install is therefore a
collection error or a failure, never a skip: `pytest.importorskip` used to turn a broken tidecv, torch
or jax into skipped parity tests with CI green. This file checks that every requirement of pyproject
(dependencies + those extras) is installed at its pin, and that no test skips on one of them.
`pytest.importorskip` stays fine for genuinely optional modules that no extra installs.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUIRED_EXTRAS = ("dev", "export", "jax", "convert")


def _requirements() -> list[Requirement]:
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    lines = list(project["dependencies"])
    for extra in REQUIRED_EXTRAS:
        lines += project["optional-dependencies"][extra]
    reqs = [Requirement(line) for line in lines]
    return [r for r in reqs if r.marker is None or r.marker.evaluate()]


def test_make_test_installs_exactly_the_required_extras():
    with open(os.path.join(REPO, "Makefile"), encoding="utf-8") as f:
        extras = re.search(r"^EXTRAS \?= *(\S+)", f.read(), re.M).group(1)
    assert set(extras.split(",")) == set(REQUIRED_EXTRAS), f"Makefile EXTRAS={extras}, tests require {REQUIRED_EXTRAS}"


def test_required_distributions_are_installed_at_their_pins():
    problems = []
    for req in _requirements():
        try:
            version = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{req}: not installed")
            continue
        if not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req}: {version} installed")
    extras = ",".join(REQUIRED_EXTRAS)
    assert not problems, "\n".join(problems) + f"\nfix: make install (pip install -e '.[{extras}]')"


def test_no_test_skips_on_a_required_module():
    required = {canonicalize_name(r.name) for r in _requirements()}
    modules = {
        module
        for module, dists in importlib.metadata.packages_distributions().items()
        if any(canonicalize_name(d) in required for d in dists)
    }
    assert {"tidecv", "torch", "jax", "tensorflow"} <= modules
    pattern = re.compile(r"""importorskip\(\s*["']([\w.]+)""")
    offenders = []
    for folder, _, files in os.walk(os.path.join(REPO, "tests")):
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    for module in pattern.findall(line):
                        if module.split(".")[0] in modules:
                            offenders.append(f"{os.path.relpath(path, REPO)}:{lineno}: importorskip({module!r})")
    assert not offenders, "required modules must be imported plainly (a missing one fails):\n" + "\n".join(offenders)
