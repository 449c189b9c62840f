"""Where every component finds the others: one typed place, read from the environment.

Defaults point at the local stack that `jiuye dev up` starts on 127.0.0.1; in production the
same variables point at a Temporal cluster, a Kafka cluster and a managed PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.topics import Topics

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Configuration of the whole system; every field maps to a `JIUYE_*` environment variable."""

    model_config = SettingsConfigDict(env_prefix="JIUYE_", extra="ignore")

    state_dir: Path = Field(default=REPO_ROOT / ".state", description="Logs, pid files and data of the local stack")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    temporal_task_queue: str = "jiuye-cases"
    temporal_tls: bool = False
    temporal_api_key: str | None = None
    # mTLS / a private CA (PEM files); any of them switches TLS on (contracts/temporal.py, docs/SECURITY.md).
    temporal_tls_ca_file: Path | None = None
    temporal_tls_cert_file: Path | None = None
    temporal_tls_key_file: Path | None = None
    temporal_tls_server_name: str | None = None

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_controller_port: int = 9093
    kafka_partitions: int = 4
    # Copies of each topic partition and how many must hold a record before acks=all succeeds:
    # 1/1 on the single-node stack, 3/2 on the cluster topology and in production (the topics
    # `jiuye dev up` creates and the ones faust creates for itself).
    kafka_replication_factor: int = 1
    kafka_min_insync_replicas: int = 1
    kafka_version: str = "4.1.1"
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    # SSL / SASL_SSL only: a private CA and a client certificate (PEM files; contracts/kafka.py).
    kafka_ssl_ca_file: Path | None = None
    kafka_ssl_cert_file: Path | None = None
    kafka_ssl_key_file: Path | None = None
    kafka_ssl_key_password: SecretStr | None = None
    # Put before every topic and consumer group name on the broker (contracts/topics.py `Topics`):
    # empty for the default stack and production; each test session and `jiuye bench` run sets one
    # of its own (`t<pid>x<time>n<count>.`, testkit/run_topics.py) and deletes its topics at the end.
    topic_prefix: str = Field(default="", pattern=r"^[A-Za-z0-9._-]{0,80}$")
    consumer_group: str = "jiuye-intake"
    # The intake takes records in batches (one round of PostgreSQL statements per batch) and
    # keeps at most intake_max_in_flight Temporal calls open at once (docs/BENCHMARKS.md).
    intake_batch_max: int = 1000
    intake_batch_within_ms: int = 20
    # Workers for the contribution firehose's topic in one `jiuye streams`, each on its own share
    # of the topic's partitions (streams/consumer.py `lanes_of`): one waits on PostgreSQL while
    # another decodes. Every other topic has one.
    intake_lanes: int = Field(default=4, ge=1)
    # The firehose's batches are larger (streams/consumer.py `batch_max_of`): its statements,
    # M2's and the offset commit are per batch, and nearly all its records cost only them. A
    # batch takes what the lane's fetched partitions hold, at most 1 MiB a partition (aiokafka's
    # max_partition_fetch_bytes: ≈ 2,600 contributions).
    intake_firehose_batch_max: int = Field(default=5000, ge=1)
    intake_max_in_flight: int = 64
    # The streams processes of one group (streams/consumer.py, docs/RELIABILITY.md "Scale-out").
    # streams_instance_id: a static member name (Kafka group.instance.id), one per process and
    # stable across its restarts; unset, the process is a dynamic member. A static member that
    # stops keeps its partitions for the session timeout (a restart within it is no rebalance).
    streams_instance_id: str | None = None
    # A member silent this long is dropped and its partitions move (also a SIGKILLed one).
    streams_session_timeout_ms: int = 10_000
    # How long a rebalance waits for each member to finish and commit the batch in hand.
    streams_rebalance_timeout_ms: int = 60_000
    # Measurement only (docs/BENCHMARKS.md, issue 16): a file path makes `jiuye streams` run under
    # cProfile and write its stats there when it stops (SIGTERM), e.g. under `jiuye bench`.
    streams_profile: str | None = None
    # `jiuye streams` and `jiuye worker` freeze their start-up heap and raise the collector's
    # young-generation threshold to this (observability/process_gc.py, docs/BENCHMARKS.md);
    # 0 leaves Python's (700).
    gc_gen0_threshold: int = 10_000

    # The worker keeps at most this many cases' workflow state in memory (Temporal's sticky
    # cache, about 220 KB a case here); a case beyond it is replayed from its history on its
    # next event or timer. 100 holds the cases the intake has in flight at once (64) and keeps
    # the worker's memory nearly flat however many cases are open (docs/BENCHMARKS.md).
    worker_max_cached_workflows: int = 100
    # Import the workflow modules once, outside the sandbox, instead of once per workflow run
    # (app/worker.py `workflow_runner`): every run shares them, which saved about 9 MB with 100
    # cases cached (docs/BENCHMARKS.md). The sandbox still gives each run its own globals, but
    # calls the shared modules make (datetime.now, random) are no longer intercepted: off by
    # default, and the workflow and replay tests, which catch those, always run the full sandbox.
    worker_share_workflow_modules: bool = False
    # On SIGTERM the worker stops polling and lets the activities in hand finish for up to this
    # long before cancelling them (a cancelled activity is retried elsewhere; keep it below the
    # deployment's termination grace period, deploy/k8s).
    worker_graceful_shutdown_seconds: float = 20.0
    # How often the worker turns due ledger rows into payment instructions and lets the days pass
    # for disbursement (activities/disbursement_runner.py); 0 = not in this worker.
    disbursement_interval_seconds: float = 30.0

    database_url: str = "postgresql://jiuye:jiuye@127.0.0.1:5432/jiuye"
    database_pool_max: int = 10
    # PostgreSQL TLS, folded into database_url's query (libpq names, which asyncpg reads) unless
    # the URL already sets them, so every asyncpg connection of the system gets them.
    database_ssl_mode: str | None = None  # disable | prefer | require | verify-ca | verify-full
    database_ssl_root_cert: Path | None = None
    database_ssl_cert: Path | None = None
    database_ssl_key: Path | None = None

    # Temporal payload encryption (contracts/codec.py, docs/SECURITY.md): keys as `id:base64key`
    # entries (comma separated) in payload_keys or in the file payload_keys_file; payload_key_id
    # names the one that encrypts. Without keys, development generates one into the state dir;
    # production refuses to start.
    payload_encryption: bool = True
    payload_key_id: str | None = None
    payload_keys: SecretStr | None = None
    payload_keys_file: Path | None = None

    policy_pack: str = "liaoning-2020"

    # Every process serves /metrics (Prometheus), /healthz/live and /healthz/ready over HTTP on
    # observability_host and its own port (docs/OPERATIONS.md). 127.0.0.1 unless configured:
    # these endpoints are for the cluster's probes and scrapers, not for the public.
    observability_host: str = "127.0.0.1"
    streams_web_port: int = 6066
    worker_http_port: int = 6067
    # The Temporal SDK's own metrics (Runtime telemetry, Prometheus format); 0 switches them off.
    worker_sdk_metrics_port: int = 6068
    # `jiuye dev up --topology cluster` places its brokers, Temporal services and processes on
    # ports from here up (deploy/stack/topology.py); the single-node stack never uses them.
    cluster_port_base: int = 20000
    # OpenTelemetry: spans are exported over OTLP/HTTP when an endpoint is set, not at all when not.
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str | None = None

    # The supervisor console (console/api, console/service). The secret signs its bearer tokens;
    # unset, a development default is used except under CI or with env=production.
    env: str = Field(default="development", description="development | production")
    console_secret: str | None = None
    console_host: str = "127.0.0.1"
    console_port: int = 8280
    # Dev only: the web page offers a login that issues a token without one (never in production).
    console_dev_login: bool = False
    # Development and `jiuye demo` only: the intake opens every case on a business clock that reads
    # this date (00:00 Shanghai) when `jiuye streams` starts and runs at real speed from there (the
    # cases' clock offset, as `jiuye simulate` uses), so that a year that is over can be shown with
    # its deadlines still ahead. Unset: the real date. Refused with env=production.
    business_date: date | None = None
    # The HTTP intake (`jiuye http-intake`, streams/http_intake.py) for systems that do not speak
    # Kafka: its address (it serves /metrics and /healthz/* there too) and the secret that signs
    # its producer tokens (unset: a development default, refused under CI / env=production).
    http_intake_host: str = "127.0.0.1"
    http_intake_port: int = 6069
    http_intake_secret: SecretStr | None = None
    # The Web UI's remote codec (app/codec_server.py, development only).
    codec_server_host: str = "127.0.0.1"
    codec_server_port: int = 8234

    @model_validator(mode="after")
    def _no_business_date_in_production(self) -> "Settings":
        if self.business_date is not None and self.env == "production":
            raise ValueError("JIUYE_BUSINESS_DATE shifts every new case's clock: development and demos only, not with JIUYE_ENV=production")
        return self

    @model_validator(mode="after")
    def _database_tls_in_url(self) -> "Settings":
        given = {"sslmode": self.database_ssl_mode, "sslrootcert": self.database_ssl_root_cert,
                 "sslcert": self.database_ssl_cert, "sslkey": self.database_ssl_key}
        wanted = {k: str(v) for k, v in given.items() if v is not None}
        if wanted:
            parts = urlsplit(self.database_url)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            query.update({k: v for k, v in wanted.items() if k not in query})
            self.database_url = urlunsplit(parts._replace(query=urlencode(query)))
        return self

    @property
    def topics(self) -> Topics:
        """This deployment's physical topic and group names (`topic_prefix`)."""
        return Topics(self.topic_prefix)

    @property
    def intake_group(self) -> str:
        """The intake's consumer group on the broker: `consumer_group` under the prefix."""
        return self.topics.physical(self.consumer_group)

    @property
    def temporal_ui_url(self) -> str:
        host = self.temporal_address.rsplit(":", 1)[0]
        return f"http://{host}:{self.temporal_ui_port}"


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that makes a `jiuye` subprocess use exactly `settings` (secrets unwrapped)."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"JIUYE_{name.upper()}"] = str(value)
    env.update(extra)
    return env


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
