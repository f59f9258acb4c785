"""Test-lab helpers: real gobgpd daemons and network namespaces joined by veths.

Used by ``tests/integration`` (through the fixtures in ``tests/conftest.py``); needs
root, ``ip`` (iproute2) and ``gobgpd``. ``sdwan lab`` and the original demo build on
it (``builder``, ``processes``, ``topology``, ``frr``, ``demo``); the orchestrator
server never imports it.
"""

from sdwan.lab.gobgpd import GobgpdError, GobgpdFactory, GobgpdProcess, find_gobgpd
from sdwan.lab.netns import (
    LAB_NETWORKS,
    Lab,
    LabError,
    Namespace,
    VethLink,
    ensure_lab_address,
    list_namespaces,
)
from sdwan.polling import wait_for

__all__ = [
    "LAB_NETWORKS",
    "GobgpdError",
    "GobgpdFactory",
    "GobgpdProcess",
    "Lab",
    "LabError",
    "Namespace",
    "VethLink",
    "ensure_lab_address",
    "find_gobgpd",
    "list_namespaces",
    "wait_for",
]
