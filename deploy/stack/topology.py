"""Where the cluster topology of the local stack puts everything (`jiuye dev up --topology
cluster`): three Kafka nodes, one Temporal server on PostgreSQL, two `jiuye streams` and two
`jiuye worker` processes, all on 127.0.0.1 on ports counted from `Settings.cluster_port_base`,
with state under `<state_dir>/cluster/`.

The processes get the same `Settings` as on the single-node stack with the addresses of the
cluster put in (`client_settings`): the topology is configuration, not code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contracts.settings import Settings

from .postgres import parse_url

KAFKA_NODES = 3
REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2
STREAMS = 2
WORKERS = 2

# Offsets from the port base. Ten ports a role leave room for a third (or tenth) member.
_KAFKA, _KAFKA_CONTROLLER = 0, 10
_TEMPORAL = 20  # frontend, its HTTP port, history, matching, worker, then the membership ports
_TEMPORAL_METRICS = 29
_STREAMS_WEB, _WORKER_HTTP, _WORKER_SDK = 40, 50, 60


@dataclass(frozen=True)
class KafkaNode:
    node_id: int
    port: int
    controller_port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def name(self) -> str:
        return f"kafka-{self.node_id}"


@dataclass(frozen=True)
class TemporalPorts:
    frontend: int
    frontend_http: int
    history: int
    matching: int
    worker: int
    frontend_membership: int
    history_membership: int
    matching_membership: int
    worker_membership: int
    metrics: int


@dataclass(frozen=True)
class Member:
    """One supervised `jiuye streams` or `jiuye worker` process and its own ports."""

    role: str  # "streams" | "worker"
    index: int  # 1, 2, ...
    http_port: int
    sdk_metrics_port: int = 0

    @property
    def name(self) -> str:
        return f"{self.role}-{self.index}"

    def environment(self, group: str) -> dict[str, str]:
        """What makes this member distinct from its siblings; everything else is shared."""
        if self.role == "streams":
            # A stable identity per member (Kafka static membership, streams/consumer.py): a
            # member restarted within the session timeout gets its partitions back without a
            # rebalance of the others.
            return {"JIUYE_STREAMS_WEB_PORT": str(self.http_port),
                    "JIUYE_STREAMS_INSTANCE_ID": f"{group}-{self.name}"}
        return {"JIUYE_WORKER_HTTP_PORT": str(self.http_port),
                "JIUYE_WORKER_SDK_METRICS_PORT": str(self.sdk_metrics_port)}


@dataclass(frozen=True)
class ClusterLayout:
    """The cluster topology derived from one `Settings` (its port base, state dir, database)."""

    settings: Settings

    @property
    def base(self) -> int:
        return self.settings.cluster_port_base

    @property
    def home(self) -> Path:
        return Path(self.settings.state_dir) / "cluster"

    @property
    def kafka_nodes(self) -> list[KafkaNode]:
        return [KafkaNode(n, self.base + _KAFKA + n - 1, self.base + _KAFKA_CONTROLLER + n - 1)
                for n in range(1, KAFKA_NODES + 1)]

    @property
    def kafka_bootstrap(self) -> str:
        return ",".join(node.address for node in self.kafka_nodes)

    @property
    def temporal(self) -> TemporalPorts:
        b = self.base + _TEMPORAL
        return TemporalPorts(frontend=b, frontend_http=b + 1, history=b + 2, matching=b + 3, worker=b + 4,
                             frontend_membership=b + 5, history_membership=b + 6, matching_membership=b + 7,
                             worker_membership=b + 8, metrics=self.base + _TEMPORAL_METRICS)

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal.frontend}"

    @property
    def temporal_databases(self) -> tuple[str, str]:
        """(persistence, visibility): `temporal` and `temporal_visibility` beside the `jiuye`
        database, suffixed like it when it is suffixed (`jiuye_x` → `temporal_x`, …), so
        several checkouts on one PostgreSQL keep their own Temporal."""
        name = parse_url(self.settings.database_url).database
        suffix = name[len("jiuye"):] if name.startswith("jiuye") else f"_{name}"
        return f"temporal{suffix}", f"temporal_visibility{suffix}"

    def member(self, role: str, index: int) -> Member:
        """Member `index` (1-based) of `role`; a third or later one is what a scale-out adds."""
        if role == "streams":
            return Member(role, index, self.base + _STREAMS_WEB + index - 1)
        if role == "worker":
            return Member(role, index, self.base + _WORKER_HTTP + index - 1, self.base + _WORKER_SDK + index - 1)
        raise ValueError(f"unknown member role {role!r}")

    @property
    def members(self) -> list[Member]:
        return ([self.member("streams", i) for i in range(1, STREAMS + 1)]
                + [self.member("worker", i) for i in range(1, WORKERS + 1)])

    def client_settings(self) -> Settings:
        """The settings every process of this topology (and any client) uses."""
        return self.settings.model_copy(update={
            "temporal_address": self.temporal_address,
            "kafka_bootstrap": self.kafka_bootstrap,
            "kafka_replication_factor": REPLICATION_FACTOR,
            "kafka_min_insync_replicas": MIN_INSYNC_REPLICAS,
        })

    def exports(self) -> dict[str, str]:
        """The JIUYE_* variables that point a shell's `jiuye` commands at this topology."""
        s = self.client_settings()
        return {"JIUYE_TEMPORAL_ADDRESS": s.temporal_address, "JIUYE_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
                "JIUYE_KAFKA_REPLICATION_FACTOR": str(s.kafka_replication_factor),
                "JIUYE_KAFKA_MIN_INSYNC_REPLICAS": str(s.kafka_min_insync_replicas),
                "JIUYE_CLUSTER_PORT_BASE": str(self.base),
                **({"JIUYE_TOPIC_PREFIX": s.topic_prefix} if s.topic_prefix else {})}
