"""Build hook: everything else is in pyproject.toml.

Whenever the package is built or installed (``pip wheel .``, ``pip install .``,
``pip install -e .``), generate the gRPC stubs for gobgpd into src/sdwan/gobgp/_pb
from the Debian-shipped .proto files (src/sdwan/gobgp/protogen.py says where they are
found), and build the dashboard into src/sdwan/ui_dist when it is missing and npm is
there. Neither output is committed; grpcio-tools is a build dependency only.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
STUBS_PACKAGE = "sdwan.gobgp._pb"


def _protogen() -> ModuleType:
    """src/sdwan/gobgp/protogen.py, loaded by path: the package is not importable yet."""
    path = ROOT / "src" / "sdwan" / "gobgp" / "protogen.py"
    spec = importlib.util.spec_from_file_location("sdwan_protogen", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build_dashboard() -> None:
    ui = ROOT / "ui"
    if (ROOT / "src" / "sdwan" / "ui_dist" / "index.html").is_file() or not ui.is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        print(
            "warning: npm not found: this build has no web dashboard (/ui/); "
            "install Node.js 20+ with npm and build again to include it",
            file=sys.stderr,
        )
        return
    if not (ui / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ui, check=True)
    subprocess.run([npm, "run", "build"], cwd=ui, check=True)


class BuildWithGenerated(build_py):
    def run(self) -> None:
        protogen = _protogen()
        protogen.generate(
            protogen.find_proto_dir(None, download=True), ROOT / "src" / "sdwan" / "gobgp" / "_pb"
        )
        if self.packages is not None and STUBS_PACKAGE not in self.packages:
            self.packages.append(STUBS_PACKAGE)  # not there to be found before this run
        _build_dashboard()
        super().run()


setup(cmdclass={"build_py": BuildWithGenerated})
