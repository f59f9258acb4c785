"""Network namespaces and veth pairs for integration tests, driven through ``ip``.

Every command is an argv list (never a shell string). Nothing here adds routes, and
in particular no default route: namespaces only reach what their veths connect.

Addresses given to :class:`VethLink` must lie in the documentation/benchmark ranges
of :data:`LAB_NETWORKS`; anything else is rejected with :class:`ValueError` so that a
lab can never collide with real networks.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "IFNAME_MAX",
    "LAB_NETWORKS",
    "Lab",
    "LabError",
    "Namespace",
    "VethLink",
    "ensure_lab_address",
    "list_namespaces",
]

#: The only address space labs may use (RFC 2544 benchmarking, RFC 5737 and RFC 3849
#: documentation ranges).
LAB_NETWORKS: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.ip_network("198.18.0.0/15"),
    ipaddress.ip_network("192.0.2.0/24"),
    ipaddress.ip_network("198.51.100.0/24"),
    ipaddress.ip_network("203.0.113.0/24"),
    ipaddress.ip_network("2001:db8::/32"),
)

#: Linux interface names are at most 15 bytes (IFNAMSIZ - 1).
IFNAME_MAX = 15
#: Lab prefixes are short so that ``<prefix>-<name>`` still fits an interface name.
PREFIX_MAX = 8

_NS_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_IFNAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$")
_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,7}$")
_SHORT_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")

_COMMAND_TIMEOUT = 30.0


class LabError(RuntimeError):
    """An ``ip`` command failed, or tearing a lab down left something behind."""


def _ip() -> str:
    return shutil.which("ip") or "/usr/sbin/ip"


def _run(
    argv: Sequence[str],
    *,
    check: bool = True,
    input: str | None = None,
    timeout: float = _COMMAND_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        list(argv), capture_output=True, text=True, input=input, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise LabError(
            f"command failed (exit {proc.returncode}): {' '.join(argv)}\n"
            f"{proc.stderr.strip() or proc.stdout.strip()}"
        )
    return proc


def list_namespaces() -> list[str]:
    """Names of all named network namespaces (``ip netns list``)."""
    out = _run([_ip(), "netns", "list"]).stdout
    # Lines look like "name" or "name (id: 3)".
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def ensure_lab_address(cidr: str) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    """Parse ``cidr`` (``addr/len``) and check that its whole subnet is lab space.

    Raises :class:`ValueError` for malformed input, a missing prefix length, or an
    address/subnet outside :data:`LAB_NETWORKS`.
    """
    if "/" not in cidr:
        raise ValueError(f"{cidr!r}: expected an address with prefix length, e.g. 198.18.0.1/30")
    iface = ipaddress.ip_interface(cidr)  # raises ValueError itself
    net = iface.network
    for allowed in LAB_NETWORKS:
        if net.version == allowed.version and net.subnet_of(allowed):  # type: ignore[arg-type]
            return iface
    allowed_txt = ", ".join(str(n) for n in LAB_NETWORKS)
    raise ValueError(f"{cidr!r} is outside the lab address ranges ({allowed_txt})")


class Namespace:
    """A named network namespace (``ip netns``).

    ``create()`` adds it, brings ``lo`` up and enables IPv4 forwarding inside it;
    ``delete()`` removes it and is a no-op when it is already gone.
    """

    def __init__(self, name: str) -> None:
        if not _NS_NAME_RE.match(name):
            raise ValueError(f"invalid namespace name {name!r}")
        self.name = name

    def __repr__(self) -> str:
        return f"Namespace({self.name!r})"

    @property
    def exists(self) -> bool:
        return self.name in list_namespaces()

    def create(self) -> Namespace:
        """Create the namespace (fails if it exists already: we never adopt one)."""
        _run([_ip(), "netns", "add", self.name])
        try:
            _run([_ip(), "-n", self.name, "link", "set", "lo", "up"])
            self._enable_ipv4_forwarding()
        except BaseException:
            self.delete()
            raise
        return self

    def _enable_ipv4_forwarding(self) -> None:
        # /proc/sys/net is per network namespace of the *opening* process, so the
        # write has to happen from inside the namespace.
        sysctl = shutil.which("sysctl")
        if sysctl:
            self.run([sysctl, "-qw", "net.ipv4.ip_forward=1"])
        else:
            self.run(["tee", "/proc/sys/net/ipv4/ip_forward"], input="1\n")

    def delete(self) -> None:
        """Delete the namespace; tolerant of it being gone already."""
        proc = _run([_ip(), "netns", "del", self.name], check=False)
        if proc.returncode != 0 and self.exists:
            raise LabError(f"could not delete namespace {self.name}: {proc.stderr.strip()}")

    def pids(self) -> list[int]:
        """PIDs of processes living in the namespace (``ip netns pids``)."""
        proc = _run([_ip(), "netns", "pids", self.name], check=False)
        if proc.returncode != 0:
            return []
        return [int(tok) for tok in proc.stdout.split()]

    def argv(self, argv: Sequence[str]) -> list[str]:
        """``argv`` prefixed so that it runs inside this namespace."""
        return [_ip(), "netns", "exec", self.name, *argv]

    def exec(self, argv: Sequence[str], **popen_kwargs: Any) -> subprocess.Popen[Any]:
        """Start ``argv`` inside the namespace and return the :class:`~subprocess.Popen`.

        ``ip netns exec`` *execs* the command, so the returned PID is the command's.
        The caller owns the process and must stop and ``wait()`` for it.
        """
        return subprocess.Popen(self.argv(argv), **popen_kwargs)

    def run(
        self,
        argv: Sequence[str],
        *,
        check: bool = True,
        input: str | None = None,
        timeout: float = _COMMAND_TIMEOUT,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside the namespace to completion (text output captured)."""
        return _run(self.argv(argv), check=check, input=input, timeout=timeout)

    def ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``ip -n <ns> <args...>``."""
        return _run([_ip(), "-n", self.name, *args], check=check)


class VethLink:
    """A veth pair with one end in each of two namespaces, both ends up.

    ``addrs_a``/``addrs_b`` are CIDRs (IPv4 and/or IPv6) assigned to the ends; they
    are validated against :data:`LAB_NETWORKS` at construction time. IPv6 addresses
    are added with ``nodad`` so they are usable immediately.
    """

    def __init__(
        self,
        ns_a: Namespace,
        ifname_a: str,
        ns_b: Namespace,
        ifname_b: str,
        *,
        addrs_a: Iterable[str] = (),
        addrs_b: Iterable[str] = (),
    ) -> None:
        for ifname in (ifname_a, ifname_b):
            if not _IFNAME_RE.match(ifname):
                raise ValueError(
                    f"invalid interface name {ifname!r} (1-{IFNAME_MAX} chars of [A-Za-z0-9_.-])"
                )
        if ns_a.name == ns_b.name and ifname_a == ifname_b:
            raise ValueError("both ends of a veth in one namespace need different names")
        self.ns_a, self.ifname_a = ns_a, ifname_a
        self.ns_b, self.ifname_b = ns_b, ifname_b
        self.addrs_a = [ensure_lab_address(a) for a in addrs_a]
        self.addrs_b = [ensure_lab_address(a) for a in addrs_b]

    def __repr__(self) -> str:
        return f"VethLink({self.ns_a.name}:{self.ifname_a} <-> {self.ns_b.name}:{self.ifname_b})"

    def create(self) -> VethLink:
        # Created directly inside the target namespaces: the names never appear in
        # the root namespace, so they cannot collide with host interfaces.
        _run(
            [
                _ip(),
                "link",
                "add",
                self.ifname_a,
                "netns",
                self.ns_a.name,
                "type",
                "veth",
                "peer",
                "name",
                self.ifname_b,
                "netns",
                self.ns_b.name,
            ]
        )
        try:
            for ns, ifname, addrs in (
                (self.ns_a, self.ifname_a, self.addrs_a),
                (self.ns_b, self.ifname_b, self.addrs_b),
            ):
                for addr in addrs:
                    extra = ["nodad"] if addr.version == 6 else []
                    ns.ip("addr", "add", str(addr), "dev", ifname, *extra)
                ns.ip("link", "set", ifname, "up")
        except BaseException:
            self.delete()
            raise
        return self

    @property
    def exists(self) -> bool:
        return self.ns_a.ip("link", "show", "dev", self.ifname_a, check=False).returncode == 0

    def delete(self) -> None:
        """Delete the pair (deleting one end removes both); tolerant of it being gone."""
        proc = self.ns_a.ip("link", "del", "dev", self.ifname_a, check=False)
        if proc.returncode != 0 and self.ns_a.exists and self.exists:
            raise LabError(f"could not delete {self!r}: {proc.stderr.strip()}")


class Lab:
    """Namespaces and veths named ``<prefix>-<name>``, torn down together.

    ``prefix`` must be 1-8 chars of ``[a-z0-9-]`` (starting alphanumeric) so that
    ``<prefix>-<name>`` fits the 15-char interface name limit for short names.
    :meth:`teardown` removes links, then namespaces, in reverse creation order; it is
    idempotent and tolerant of parts that are already gone. Use as a context manager
    or call :meth:`teardown` from a finalizer.
    """

    def __init__(self, prefix: str) -> None:
        if not _PREFIX_RE.match(prefix):
            raise ValueError(
                f"invalid lab prefix {prefix!r}: 1-{PREFIX_MAX} chars of [a-z0-9-], "
                "starting with a letter or digit"
            )
        self.prefix = prefix
        self.namespaces: list[Namespace] = []
        self.links: list[VethLink] = []

    def __repr__(self) -> str:
        return f"Lab({self.prefix!r})"

    def name(self, short: str) -> str:
        """``<prefix>-<short>``, checked to fit an interface name."""
        if not _SHORT_RE.match(short):
            raise ValueError(f"invalid lab object name {short!r}: use [a-z0-9-]")
        full = f"{self.prefix}-{short}"
        if len(full) > IFNAME_MAX:
            raise ValueError(
                f"{full!r} is longer than {IFNAME_MAX} chars; use a shorter name than {short!r}"
            )
        return full

    def namespace(self, short: str) -> Namespace:
        """Create and register the namespace ``<prefix>-<short>``."""
        ns = Namespace(self.name(short))
        ns.create()
        self.namespaces.append(ns)
        return ns

    def link(
        self,
        ns_a: Namespace,
        if_a: str,
        ns_b: Namespace,
        if_b: str,
        *,
        addrs_a: Iterable[str] = (),
        addrs_b: Iterable[str] = (),
    ) -> VethLink:
        """Create and register a veth: ``<prefix>-<if_a>`` in ``ns_a``,
        ``<prefix>-<if_b>`` in ``ns_b``, with the given CIDRs on each end."""
        link = VethLink(
            ns_a, self.name(if_a), ns_b, self.name(if_b), addrs_a=addrs_a, addrs_b=addrs_b
        )
        link.create()
        self.links.append(link)
        return link

    def leftovers(self) -> list[str]:
        """Namespaces on the host whose name carries this lab's prefix."""
        return [n for n in list_namespaces() if n.startswith(f"{self.prefix}-")]

    def teardown(self) -> None:
        """Remove every link, then every namespace, newest first.

        Keeps going past failures and raises one :class:`LabError` at the end listing
        them. Processes still running inside a namespace are reported, not killed
        (whoever started them must stop them first).
        """
        problems: list[str] = []
        while self.links:
            link = self.links.pop()
            try:
                link.delete()
            except Exception as exc:
                problems.append(f"{link!r}: {exc}")
        while self.namespaces:
            ns = self.namespaces.pop()
            try:
                pids = ns.pids()
                if pids:
                    problems.append(f"namespace {ns.name} still had processes {pids}")
                ns.delete()
            except Exception as exc:
                problems.append(f"{ns!r}: {exc}")
        if problems:
            raise LabError("lab teardown problems:\n  " + "\n  ".join(problems))

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.teardown()
