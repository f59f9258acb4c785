"""Certificates a user hands us (the CA to trust for a gobgpd's gRPC): checked to be
what they claim before they are stored. Pure (parsing only)."""

from __future__ import annotations

from cryptography import x509

MAX_CA_PEM = 64 * 1024  # a CA bundle of a few certificates, not a file of anything


def check_ca_pem(text: str, *, what: str = "tls_ca") -> None:
    """ValueError naming ``what`` unless ``text`` is one or more PEM certificates."""
    if len(text) > MAX_CA_PEM:
        raise ValueError(f"{what}: longer than {MAX_CA_PEM} characters")
    try:
        certificates = x509.load_pem_x509_certificates(text.encode())
    except ValueError:
        raise ValueError(f"{what}: not PEM certificates (-----BEGIN CERTIFICATE-----)") from None
    if not certificates:
        raise ValueError(f"{what}: no certificate in it")
