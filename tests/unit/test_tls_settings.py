"""TLS and credentials from configuration, for each connection the system makes — checked on the
objects the settings build (SSL contexts, Temporal's TLSConfig, asyncpg's parsed parameters),
without any TLS server. Certificates are made per test with `cryptography`.
"""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import faust
import pytest
from asyncpg import connect_utils
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from temporalio.service import TLSConfig

from contracts.kafka import client_security, faust_broker_credentials
from contracts.settings import Settings
from contracts.temporal import tls_config


@dataclass
class Pki:
    ca: Path
    cert: Path
    key: Path
    encrypted_key: Path
    other_key: Path
    ca_name: str = "jiuye test CA"


def _key_pem(key: ec.EllipticCurvePrivateKey, password: bytes | None = None) -> bytes:
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA and a client certificate it signed, as PEM files."""
    folder = tmp_path_factory.mktemp("pki")
    now = dt.datetime.now(dt.timezone.utc)
    ca_key, client_key, other_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jiuye test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    client = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jiuye-worker")]))
              .issuer_name(ca_name).public_key(client_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1)).sign(ca_key, hashes.SHA256()))
    files = {
        "ca.pem": ca.public_bytes(serialization.Encoding.PEM),
        "client.pem": client.public_bytes(serialization.Encoding.PEM),
        "client.key": _key_pem(client_key),
        "client-encrypted.key": _key_pem(client_key, b"s3cret"),
        "other.key": _key_pem(other_key),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return Pki(ca=folder / "ca.pem", cert=folder / "client.pem", key=folder / "client.key",
               encrypted_key=folder / "client-encrypted.key", other_key=folder / "other.key")


def _ca_names(context: ssl.SSLContext) -> list[str]:
    # typeshed has a subject as (key, value) pairs; ssl gives its RDNs, each a tuple of pairs.
    subjects = [cast("tuple[tuple[tuple[str, str], ...], ...]", cert["subject"]) for cert in context.get_ca_certs()]
    return [value for subject in subjects for rdn in subject for key, value in rdn if key == "commonName"]


# --- Temporal --------------------------------------------------------------------------------------


def test_temporal_plain_by_default_and_tls_switch_uses_system_roots() -> None:
    assert tls_config(Settings()) is False
    assert tls_config(Settings(temporal_tls=True)) is True


def test_temporal_private_ca_builds_a_tls_config_with_its_root(pki: Pki) -> None:
    config = tls_config(Settings(temporal_tls_ca_file=pki.ca, temporal_tls_server_name="temporal.internal"))
    assert isinstance(config, TLSConfig)
    assert config.server_root_ca_cert == pki.ca.read_bytes()
    assert config.domain == "temporal.internal"
    assert config.client_cert is None and config.client_private_key is None


def test_temporal_mtls_presents_the_client_certificate_and_key(pki: Pki) -> None:
    config = tls_config(Settings(temporal_tls_cert_file=pki.cert, temporal_tls_key_file=pki.key))
    assert isinstance(config, TLSConfig)
    assert config.client_cert == pki.cert.read_bytes() and config.client_private_key == pki.key.read_bytes()
    assert config.server_root_ca_cert is None, "without a CA file the system's roots verify the server"


def test_temporal_mtls_needs_both_certificate_and_key(pki: Pki) -> None:
    with pytest.raises(ValueError, match="both"):
        tls_config(Settings(temporal_tls_cert_file=pki.cert))


def test_temporal_settings_read_from_the_environment(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIUYE_TEMPORAL_TLS_CA_FILE", str(pki.ca))
    monkeypatch.setenv("JIUYE_TEMPORAL_API_KEY", "api-key")
    settings = Settings()
    assert settings.temporal_api_key == "api-key"
    config = tls_config(settings)
    assert isinstance(config, TLSConfig) and config.server_root_ca_cert == pki.ca.read_bytes()


# --- Kafka (aiokafka and faust) -----------------------------------------------------------------------


def test_kafka_plaintext_has_no_ssl_context() -> None:
    options = client_security(Settings())
    assert options == {"security_protocol": "PLAINTEXT", "ssl_context": None}
    assert faust_broker_credentials(Settings()) is None


def test_kafka_ssl_verifies_brokers_against_the_configured_ca(pki: Pki) -> None:
    options = client_security(Settings(kafka_security_protocol="SSL", kafka_ssl_ca_file=pki.ca))
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert _ca_names(context) == [pki.ca_name]


def test_kafka_ssl_presents_a_client_certificate_even_with_an_encrypted_key(pki: Pki) -> None:
    client_security(Settings(kafka_security_protocol="SSL", kafka_ssl_ca_file=pki.ca,
                             kafka_ssl_cert_file=pki.cert, kafka_ssl_key_file=pki.key))
    client_security(Settings(kafka_security_protocol="SSL", kafka_ssl_cert_file=pki.cert,
                             kafka_ssl_key_file=pki.encrypted_key, kafka_ssl_key_password="s3cret"))
    # The files are really loaded: a key that is not the certificate's is refused.
    with pytest.raises(ssl.SSLError):
        client_security(Settings(kafka_security_protocol="SSL", kafka_ssl_cert_file=pki.cert,
                                 kafka_ssl_key_file=pki.other_key))


def test_kafka_client_certificate_needs_both_files(pki: Pki) -> None:
    with pytest.raises(ValueError, match="both"):
        client_security(Settings(kafka_security_protocol="SSL", kafka_ssl_cert_file=pki.cert))


def test_kafka_sasl_ssl_carries_credentials_and_the_ca(pki: Pki) -> None:
    settings = Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512",
                        kafka_sasl_username="jiuye", kafka_sasl_password="pw", kafka_ssl_ca_file=pki.ca)
    options = client_security(settings)
    assert (options["sasl_mechanism"], options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "SCRAM-SHA-512", "jiuye", "pw")
    assert _ca_names(options["ssl_context"]) == [pki.ca_name]  # type: ignore[arg-type]
    credentials = faust_broker_credentials(settings)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.username == "jiuye" and credentials.password == "pw"
    assert _ca_names(credentials.ssl_context) == [pki.ca_name]


def test_faust_ssl_credentials_use_the_configured_context(pki: Pki) -> None:
    credentials = faust_broker_credentials(Settings(kafka_security_protocol="SSL", kafka_ssl_ca_file=pki.ca,
                                                    kafka_ssl_cert_file=pki.cert, kafka_ssl_key_file=pki.key))
    assert isinstance(credentials, faust.SSLCredentials)
    assert _ca_names(credentials.context) == [pki.ca_name]


# --- PostgreSQL (asyncpg) ------------------------------------------------------------------------------


def _asyncpg_params(url: str) -> object:
    """What asyncpg makes of a DSN (every pool and connection of the system passes the URL)."""
    # Private to asyncpg, so asyncpg-stubs leave it out; the test means to see asyncpg's own parsing.
    _, params = connect_utils._parse_connect_dsn_and_args(  # type: ignore[attr-defined]
        dsn=url, host=None, port=None, user=None, password=None, passfile=None, database=None, ssl=None,
        service=None, servicefile=None, direct_tls=None, server_settings=None, target_session_attrs=None,
        krbsrvname=None, gsslib=None)
    return params


def test_postgres_plain_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # The shipped default, not the URL of whichever stack the shell running the tests points at.
    monkeypatch.delenv("JIUYE_DATABASE_URL", raising=False)
    assert Settings().database_url == "postgresql://jiuye:jiuye@127.0.0.1:5432/jiuye"


def test_postgres_tls_settings_reach_asyncpg_as_a_verifying_context(pki: Pki) -> None:
    settings = Settings(database_ssl_mode="verify-full", database_ssl_root_cert=pki.ca,
                        database_ssl_cert=pki.cert, database_ssl_key=pki.key)
    params = _asyncpg_params(settings.database_url)
    context = params.ssl  # type: ignore[attr-defined]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert _ca_names(context) == [pki.ca_name]


def test_postgres_tls_options_already_in_the_url_win(pki: Pki) -> None:
    settings = Settings(database_url=f"postgresql://u:p@db.internal/jiuye?sslmode=require&sslrootcert={pki.ca}",
                        database_ssl_mode="verify-full")
    assert "sslmode=require" in settings.database_url and "verify-full" not in settings.database_url
    params = _asyncpg_params(settings.database_url)
    assert params.sslmode.name == "require"  # type: ignore[attr-defined]
    # libpq's rule, which asyncpg follows: `require` with a root cert verifies the CA, not the host name.
    assert not params.ssl.check_hostname  # type: ignore[attr-defined]


def test_postgres_tls_survives_pointing_the_url_at_another_database(pki: Pki) -> None:
    from deploy.stack.postgres import with_database

    settings = Settings(database_ssl_mode="verify-full", database_ssl_root_cert=pki.ca)
    assert "sslmode=verify-full" in with_database(settings.database_url, "postgres")
