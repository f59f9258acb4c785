"""`sdwan serve` as a real process: X-Forwarded-For believed only from trusted proxies
(issue 10, item 5), and HTTPS with --tls-cert/--tls-key, checked with a CA made here
(item 15)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sdwan.lab.server_process import OrchestratorProcess

WRONG = {"password": "not the password"}


def _spray(orch: OrchestratorProcess, count: int) -> list[int]:
    """Failed logins for ``count`` users, each claiming another address."""
    codes = []
    with httpx.Client(base_url=orch.url, timeout=30) as client:
        for i in range(count):
            answer = client.post(
                "/v1/auth/login",
                json={"username": f"user{i}", **WRONG},
                headers={"X-Forwarded-For": f"198.51.100.{i + 1}"},
            )
            codes.append(answer.status_code)
    return codes


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(
    tmp_path: Path, lab_environment: object
) -> None:
    with OrchestratorProcess(tmp_path / "direct") as orch, orch.client() as api:
        codes = _spray(orch, 12)
        # one address (127.0.0.1) for all of them: past 10 attempts it is locked
        assert codes == [401] * 11 + [429]
        entries = api.get("/v1/audit", params={"action": "login_failed"}).json()["items"]
        assert {e["source"] for e in entries} == {"127.0.0.1"}  # the forged ones ignored
        assert "strict-transport-security" not in api.get("/healthz").headers  # plain HTTP
    behind = {"SDWAN_TRUSTED_PROXIES": "127.0.0.1"}
    with (
        OrchestratorProcess(tmp_path / "proxied", extra_env=behind) as orch,
        orch.client() as api,
    ):
        assert _spray(orch, 3) == [401] * 3
        entries = api.get("/v1/audit", params={"action": "login_failed"}).json()["items"]
        assert {e["source"] for e in entries} == {f"198.51.100.{i}" for i in (1, 2, 3)}


def _ca_and_server_cert(directory: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for 127.0.0.1 signed by it (files: ca, cert, key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sdwan test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths[2].chmod(0o600)
    return paths


def test_https_with_a_certificate_from_our_own_ca(tmp_path: Path, lab_environment: object) -> None:
    ca, cert, key = _ca_and_server_cert(tmp_path)
    env = {"SDWAN_TLS_CERT": str(cert), "SDWAN_TLS_KEY": str(key)}
    with OrchestratorProcess(tmp_path / "tls", extra_env=env, https_ca=ca) as orch:
        assert orch.url.startswith("https://")
        with orch.client() as api:
            assert api.get("/v1/auth/whoami").json()["role"] == "admin"
        with pytest.raises(httpx.ConnectError):  # not trusted without our CA
            httpx.get(f"{orch.url}/healthz", timeout=5)
        with pytest.raises(httpx.HTTPError):  # no plain HTTP on that port
            httpx.get(orch.url.replace("https://", "http://") + "/healthz", timeout=5)
        listed = orch.cli("router", "list", "-o", "json")  # the CLI with SDWAN_CA_FILE
        assert listed.stdout.strip().startswith("[")
        context = ssl.create_default_context(cafile=str(ca))
        answer = httpx.get(f"{orch.url}/healthz", verify=context, timeout=5)
        assert answer.status_code == 200
        assert answer.headers["strict-transport-security"] == "max-age=31536000"
        refused = httpx.get(f"{orch.url}/v1/routers", verify=context, timeout=5)
        assert refused.status_code == 401  # errors carry it too
        assert refused.headers["strict-transport-security"] == "max-age=31536000"
