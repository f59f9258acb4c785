"""Generate the Python gRPC stubs for gobgpd from the Debian-shipped .proto files.

Run at install time (``scripts/setup`` does it): ``python -m sdwan.gobgp.protogen``.
The output goes to ``sdwan/gobgp/_pb/``, which git ignores. protoc emits bare
imports (``import gobgp_pb2``); they are rewritten to package-relative ones so the
stubs live inside the ``sdwan`` package without touching ``sys.path``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

PROTO_FILES = ("gobgp.proto", "attribute.proto", "capability.proto")
DEBIAN_PROTO_DIR = Path("/usr/share/gocode/src/github.com/osrg/gobgp/api")
OUTPUT_DIR = Path(__file__).resolve().parent / "_pb"
_BARE_IMPORT = re.compile(r"^import (\w+_pb2(?:_grpc)?) as (\w+)$", re.MULTILINE)
_BARE_IMPORT_PLAIN = re.compile(r"^import (\w+_pb2(?:_grpc)?)$", re.MULTILINE)


def find_proto_dir(explicit: str | None) -> Path:
    candidates = [explicit, os.environ.get("SDWAN_GOBGP_PROTO_DIR"), str(DEBIAN_PROTO_DIR)]
    for candidate in candidates:
        if candidate and all((Path(candidate) / name).is_file() for name in PROTO_FILES):
            return Path(candidate)
    raise SystemExit(
        "gobgp .proto files not found; install golang-github-osrg-gobgp-dev or pass "
        "--proto-dir / SDWAN_GOBGP_PROTO_DIR (scripts/setup does this for you)"
    )


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
    args = parser.parse_args(argv)
    written = generate(find_proto_dir(args.proto_dir))
    print(f"generated {len(written)} files in {OUTPUT_DIR}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
