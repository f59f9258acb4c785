"""FRR daemons per network namespace (DESIGN.md section 5).

``ip netns exec NS /usr/lib/frr/DAEMON -d -N NS -f CONF -i PIDFILE --log file:LOG``:
``ip netns exec`` does the isolation, ``-N`` only moves FRR's runtime paths to
``/var/run/frr/NS/``. The daemons drop privileges to ``frr``, so the config, pid and
log files live in a directory that user owns. ``vtysh -N NS`` talks to them.
"""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path

from sdwan.lab.netns import LabError, Namespace, _run

FRR_DIR = Path("/usr/lib/frr")
FRR_RUN = Path("/var/run/frr")


def frr_available() -> bool:
    return (FRR_DIR / "zebra").exists() and (FRR_DIR / "bgpd").exists()


def _chown_frr(path: Path) -> None:
    try:
        user = pwd.getpwnam("frr")
    except KeyError:
        return
    os.chown(path, user.pw_uid, user.pw_gid)


def frr_workdir(labdir: Path, node: str) -> Path:
    return labdir / "frr" / node


def start_frr(
    ns: Namespace, node: str, labdir: Path, config: Path, *, prefix: str, vrrp: bool
) -> list[Path]:
    """Start zebra, bgpd (and vrrpd) for ``node`` in ``ns``; returns their pid files.
    ``@PREFIX@`` in the config becomes the lab prefix (interface names carry it)."""
    work = frr_workdir(labdir, node)
    work.mkdir(parents=True, exist_ok=True)
    (labdir / "frr").chmod(0o755)
    _chown_frr(work)
    conf = work / "frr.conf"
    conf.write_text(config.read_text().replace("@PREFIX@", prefix))
    conf.chmod(0o644)
    _chown_frr(conf)
    rundir = FRR_RUN / ns.name
    rundir.mkdir(parents=True, exist_ok=True)
    _chown_frr(rundir)
    pidfiles = []
    for daemon in ("zebra", "bgpd", *(("vrrpd",) if vrrp else ())):
        pidfile = work / f"{daemon}.pid"
        argv = [
            str(FRR_DIR / daemon),
            "-d",
            "-N",
            ns.name,
            "-f",
            str(conf),
            "-i",
            str(pidfile),
            "--log",
            f"file:{work / daemon}.log",
        ]
        ns.run(argv, timeout=30)
        pidfiles.append(pidfile)
    return pidfiles


def vtysh(ns_name: str, *commands: str, timeout: float = 10.0) -> str:
    """Run vtysh commands against one namespace's FRR (argv list, no shell)."""
    argv = [shutil.which("vtysh") or "/usr/bin/vtysh", "-N", ns_name]
    for command in commands:
        argv += ["-c", command]
    proc = _run(argv, check=False, timeout=timeout)
    if proc.returncode != 0:
        raise LabError(f"vtysh -N {ns_name} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def remove_rundir(ns_name: str) -> None:
    path = FRR_RUN / ns_name
    if path.is_dir() and path.parent == FRR_RUN:
        shutil.rmtree(path, ignore_errors=True)
