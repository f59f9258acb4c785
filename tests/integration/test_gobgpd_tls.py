"""gRPC to gobgpd over TLS (gobgpd --tls), with a CA made here: the reconciler, the
watch stream and RIB reads all go over it; a gobgpd whose certificate the router's CA
did not sign, or a plaintext router on a TLS gobgpd, is an ERROR with the reason."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.lab import GobgpdFactory, GobgpdProcess, wait_for
from sdwan.lab.server_process import OrchestratorProcess


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _ca(common: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(_name(common))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _server_cert(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate], directory: Path
) -> tuple[Path, Path]:
    ca_key, ca_cert = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("gobgpd"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(san, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / "gobgpd.pem", directory / "gobgpd.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture
def tls_setup(
    tmp_path: Path, gobgpd_factory: GobgpdFactory
) -> Iterator[tuple[OrchestratorProcess, GobgpdProcess, str]]:
    """A gobgpd serving TLS with a certificate of CA "lab-ca"; an orchestrator whose
    default CA for gobgpd (SDWAN_GOBGPD_CA_FILE) is that one. Yields the wrong CA's PEM
    too, as the third item."""
    ca = _ca("lab-ca")
    cert, key = _server_cert(ca, tmp_path)
    ca_file = tmp_path / "gobgpd-ca.pem"
    ca_file.write_text(_pem(ca[1]))
    daemon = gobgpd_factory("tls", tls=(cert, key, _pem(ca[1])))
    orch = OrchestratorProcess(
        tmp_path / "orchestrator", extra_env={"SDWAN_GOBGPD_CA_FILE": str(ca_file)}
    )
    orch.start()
    try:
        yield orch, daemon, _pem(_ca("other-ca")[1])
    finally:
        orch.stop()


def _status(api: httpx.Client, name: str, status: str) -> dict[str, Any]:
    found: dict[str, Any] = wait_for(
        lambda: (r := api.get(f"/v1/routers/{name}").json())["status"] == status and r,
        timeout=20,
        what=f"router {name} {status}",
    )
    return found


def test_reconcile_watch_and_rib_over_tls(
    tls_setup: tuple[OrchestratorProcess, GobgpdProcess, str],
) -> None:
    orch, daemon, wrong_ca = tls_setup
    router = {
        "name": "SECURE",
        "router_id": "198.18.240.1",
        "asn": 65001,
        "api_address": daemon.api_address,
        "listen_port": -1,
        "tls": True,  # trusting the server's default CA, and the name "localhost"
        "tls_server_name": "localhost",
    }
    with orch.client() as api:
        assert api.post("/v1/routers", json=router).status_code == 201
        _status(api, "SECURE", "ACTIVE")
        neighbor = {"router": "SECURE", "address": "198.18.241.1", "peer_asn": 65002}
        created = api.post("/v1/neighbors", json=neighbor).json()
        stub = daemon.grpc_stub()  # itself over TLS
        wait_for(
            lambda: any(True for _ in stub.ListPeer(pb.ListPeerRequest(), timeout=5)),
            timeout=15,
            what="the peer on gobgpd",
        )
        # the watch stream runs over TLS too: the session is seen, not UNKNOWN
        wait_for(
            lambda: (
                api.get(f"/v1/neighbors/{created['id']}").json()["session_state"]
                not in (None, "UNKNOWN")
            ),
            timeout=15,
            what="the session seen by the watch stream",
        )
        assert api.get("/v1/routers/SECURE/rib").status_code == 200
        shown = api.get("/v1/routers/SECURE").json()
        assert shown["tls"] is True and shown["tls_ca"] is None

        # the same gobgpd trusted through a CA that did not sign its certificate
        answer = api.patch("/v1/routers/SECURE", json={"tls_ca": wrong_ca})
        assert answer.status_code == 200, answer.text
        refused = _status(api, "SECURE", "ERROR")
        assert "CERTIFICATE_VERIFY_FAILED" in refused["status_detail"], refused
        # back to the default CA: it recovers on its own
        assert api.patch("/v1/routers/SECURE", json={"tls_ca": None}).status_code == 200
        _status(api, "SECURE", "ACTIVE")

        # plaintext gRPC against a gobgpd that speaks TLS only
        assert api.patch("/v1/routers/SECURE", json={"tls": False}).status_code == 200
        plain = _status(api, "SECURE", "ERROR")
        assert "unreachable" in plain["status_detail"]

        # a CA that is not a certificate is refused at the edge, naming the field
        bad = api.patch("/v1/routers/SECURE", json={"tls_ca": "not a certificate"})
        assert bad.status_code == 422 and "tls_ca" in bad.text
