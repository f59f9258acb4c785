"""The package as users get it: `pip wheel .` from the source tree alone (no .venv, no
generated stubs, no built dashboard, no build/ directory), installed into an empty venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# what a clean clone does not have: everything git ignores
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "node_modules",
    "ui_dist",
    "_pb",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "*.db",
)


def _run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_wheel_from_the_source_tree_installs_and_runs(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=NOT_IN_A_CLONE)
    assert not (source / "src" / "sdwan" / "gobgp" / "_pb").exists()
    env = {k: v for k, v in os.environ.items() if k != "SDWAN_GOBGP_PROTO_DIR"}
    if not Path("/usr/share/gocode/src/github.com/osrg/gobgp/api/gobgp.proto").is_file():
        # the protos scripts/setup unpacked: what the build would otherwise download
        env["SDWAN_GOBGP_PROTO_DIR"] = str(ROOT / "build" / "gobgp-api")
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", dist, source, env=env)
    wheels = list(dist.glob("sdwan-*.whl"))
    assert len(wheels) == 1
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "sdwan/gobgp/_pb/gobgp_pb2_grpc.py" in names
    assert "sdwan/ui_dist/index.html" in names
    assert not any(n.startswith("grpc_tools/") for n in names)

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    _run(python, "-m", "pip", "install", "-q", wheels[0])
    assert "grpcio-tools" not in _run(python, "-m", "pip", "list")  # a build dependency only
    assert "fleet" in _run(venv / "bin" / "sdwan", "--help", cwd=tmp_path)
    probe = (
        "from sdwan.gobgp._pb import gobgp_pb2, gobgp_pb2_grpc; "
        "from importlib.resources import files; "
        "print(gobgp_pb2_grpc.GobgpApiStub.__name__, "
        "files('sdwan').joinpath('ui_dist/index.html').is_file())"
    )
    assert _run(python, "-c", probe, cwd=tmp_path).split() == ["GobgpApiStub", "True"]
