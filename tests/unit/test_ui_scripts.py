"""The dashboard's pure modules (ui/src/join.js: which neighbors are sessions between
two managed routers), tested with Node's own test runner (ui/test/*.test.js)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "ui"


def test_the_ui_unit_tests_pass() -> None:
    node = shutil.which("node")
    assert node is not None, "node is needed to build the dashboard: run scripts/setup"
    tests = sorted(str(p) for p in (UI / "test").glob("*.test.js"))
    assert tests, "no ui/test/*.test.js found"
    run = subprocess.run(
        [node, "--test", *tests], cwd=UI, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout
