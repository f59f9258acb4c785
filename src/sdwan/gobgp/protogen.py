"""Generate the Python gRPC stubs for gobgpd from the Debian-shipped .proto files.

Run at build time: setup.py's build hook calls it whenever the package is built or
installed (``pip wheel .``, ``pip install .``, ``pip install -e .``); by hand:
``python -m sdwan.gobgp.protogen``. The output goes to ``sdwan/gobgp/_pb/``, which git
ignores. protoc emits bare imports (``import gobgp_pb2``); they are rewritten to
package-relative ones so the stubs live inside the ``sdwan`` package without touching
``sys.path``.

Where the .proto files come from, first found: ``--proto-dir``, ``SDWAN_GOBGP_PROTO_DIR``,
the installed Debian package golang-github-osrg-gobgp-dev, ``build/gobgp-api`` of the
source tree (scripts/setup unpacks them there), else that Debian package is downloaded
with ``apt-get download`` and unpacked there (Debian and derivatives only).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROTO_FILES = ("gobgp.proto", "attribute.proto", "capability.proto")
DEBIAN_PACKAGE = "golang-github-osrg-gobgp-dev"
DEBIAN_PROTO_DIR = Path("/usr/share/gocode/src/github.com/osrg/gobgp/api")
OUTPUT_DIR = Path(__file__).resolve().parent / "_pb"
SOURCE_ROOT = Path(__file__).resolve().parents[3]  # src/sdwan/gobgp/ -> the source tree
UNPACKED_PROTO_DIR = SOURCE_ROOT / "build" / "gobgp-api"
_BARE_IMPORT = re.compile(r"^import (\w+_pb2(?:_grpc)?) as (\w+)$", re.MULTILINE)
_BARE_IMPORT_PLAIN = re.compile(r"^import (\w+_pb2(?:_grpc)?)$", re.MULTILINE)


def _has_protos(directory: Path) -> bool:
    return all((directory / name).is_file() for name in PROTO_FILES)


def find_proto_dir(explicit: str | None, *, download: bool = False) -> Path:
    candidates = [
        explicit,
        os.environ.get("SDWAN_GOBGP_PROTO_DIR"),
        str(DEBIAN_PROTO_DIR),
        str(UNPACKED_PROTO_DIR),
    ]
    for candidate in candidates:
        if candidate and _has_protos(Path(candidate)):
            return Path(candidate)
    if download and shutil.which("apt-get") and shutil.which("dpkg-deb"):
        return unpack_debian_protos(UNPACKED_PROTO_DIR)
    raise SystemExit(
        f"gobgp .proto files not found; install {DEBIAN_PACKAGE} or pass "
        "--proto-dir / SDWAN_GOBGP_PROTO_DIR (scripts/setup does this for you)"
    )


def unpack_debian_protos(destination: Path) -> Path:
    """Download the Debian package that ships the .proto files (not install it: it
    drags ~57 Go source packages along) and copy its .proto files to ``destination``."""
    with tempfile.TemporaryDirectory(prefix="sdwan-protos-") as scratch:
        work = Path(scratch)
        fetched = subprocess.run(
            ["apt-get", "download", DEBIAN_PACKAGE], cwd=work, capture_output=True, text=True
        )
        debs = sorted(work.glob(f"{DEBIAN_PACKAGE}_*.deb"))
        if fetched.returncode != 0 or not debs:
            raise SystemExit(
                f"could not download {DEBIAN_PACKAGE} for the gobgp .proto files "
                f"(apt-get: {fetched.stderr.strip() or fetched.returncode}); run "
                "`apt-get update` first, or install the package, or set SDWAN_GOBGP_PROTO_DIR"
            )
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(work / "x")], check=True)
        unpacked = work / "x" / DEBIAN_PROTO_DIR.relative_to("/")
        destination.mkdir(parents=True, exist_ok=True)
        for proto in unpacked.glob("*.proto"):
            shutil.copy2(proto, destination / proto.name)
    if not _has_protos(destination):
        raise SystemExit(f"{DEBIAN_PACKAGE} did not contain {', '.join(PROTO_FILES)}")
    return destination


def _relative_imports(source: str) -> str:
    source = _BARE_IMPORT.sub(r"from . import \1 as \2", source)
    return _BARE_IMPORT_PLAIN.sub(r"from . import \1", source)


def generate(proto_dir: Path, output_dir: Path = OUTPUT_DIR) -> list[Path]:
    from importlib.resources import files

    from grpc_tools import protoc  # install-time dependency only

    well_known = files("grpc_tools") / "_proto"  # google/protobuf/*.proto
    output_dir.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{proto_dir}",
        f"-I{well_known}",
        f"--python_out={output_dir}",
        f"--grpc_python_out={output_dir}",
        f"--pyi_out={output_dir}",
        *PROTO_FILES,
    ]
    if protoc.main(args) != 0:
        raise SystemExit(f"protoc failed on {proto_dir}")
    written = sorted(output_dir.glob("*_pb2*.py")) + sorted(output_dir.glob("*_pb2*.pyi"))
    for path in written:
        path.write_text(_relative_imports(path.read_text()))
    (output_dir / "__init__.py").write_text(
        '"""Generated from gobgp .proto files; not committed."""\n'
    )
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proto-dir", help="directory holding gobgp.proto and friends")
    parser.add_argument(
        "--download",
        action="store_true",
        help=f"when no .proto files are found, fetch them from Debian's {DEBIAN_PACKAGE}",
    )
    args = parser.parse_args(argv)
    written = generate(find_proto_dir(args.proto_dir, download=args.download))
    print(f"generated {len(written)} files in {OUTPUT_DIR}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
