"""Test certificates: a CA and leaf certificates it signs, written as PEM files.

Used for the TLS the generated Lambda cluster checks (a server certificate for `localhost`),
and for a Consul-shaped mesh (a trust domain's CA, and SPIFFE certificates for services).
"""

import datetime
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALID_FOR = datetime.timedelta(days=2)


@dataclass(frozen=True)
class PemPair:
    certificate: Path
    key: Path


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _write(directory: Path, name: str, certificate, key) -> PemPair:
    directory.mkdir(parents=True, exist_ok=True)
    cert_path = directory / f"{name}.crt"
    key_path = directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return PemPair(cert_path, key_path)


class CertificateAuthority:
    """A CA whose certificate and key are files under `directory`."""

    def __init__(self, directory: Path, name: str):
        self.directory = directory
        self._key = _key()
        now = datetime.datetime.now(datetime.UTC)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self._certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + _VALID_FOR)
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
            .sign(self._key, hashes.SHA256())
        )
        self.pair = _write(directory, "ca", self._certificate, self._key)

    @property
    def certificate(self) -> Path:
        return self.pair.certificate

    def issue(self, name: str, *, dns: list[str] = (), uris: list[str] = ()) -> PemPair:
        """A leaf certificate for server and client use, with these SANs."""
        key = _key()
        now = datetime.datetime.now(datetime.UTC)
        names = [x509.DNSName(d) for d in dns] + [x509.UniformResourceIdentifier(u) for u in uris]
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self._certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + _VALID_FOR)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        return _write(self.directory, name, certificate, key)


def serving_tls(ca: "CertificateAuthority", name: str = "localhost") -> ssl.SSLContext:
    """A server context with a certificate for `name` that `ca` signed (Lambda's TLS
    endpoint, or a server of the .wasm, as the tests play them)."""
    server = ca.issue(name, dns=[name])
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(server.certificate, server.key)
    return tls
