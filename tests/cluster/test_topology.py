"""The cluster topology's shape: the server version it builds, its ports, and what `jiuye dev
status --topology cluster` reports for a running one."""

from __future__ import annotations

import re
import subprocess

import pytest

from contracts.settings import Settings
from deploy import stack
from deploy.stack import temporal_cluster
from deploy.stack.temporal import temporal_binary
from deploy.stack.topology import KAFKA_NODES, ClusterLayout

pytestmark = [pytest.mark.cluster]


def test_the_built_server_is_the_version_the_dev_server_ships() -> None:
    shown = subprocess.run([temporal_binary(), "--version"], capture_output=True, text=True, check=True).stdout
    dev_server = re.search(r"Server (\d+\.\d+\.\d+)", shown)
    assert dev_server, shown
    assert temporal_cluster.SERVER_VERSION == dev_server[1]


def test_every_node_and_member_has_ports_of_its_own_apart_from_the_single_node_stack() -> None:
    settings = Settings()
    layout = ClusterLayout(settings)
    t = layout.temporal
    ports = [p for n in layout.kafka_nodes for p in (n.port, n.controller_port)]
    ports += [t.frontend, t.frontend_http, t.history, t.matching, t.worker, t.frontend_membership,
              t.history_membership, t.matching_membership, t.worker_membership, t.metrics]
    for role in ("streams", "worker"):
        for index in (1, 2, 3):  # a third member is what a scale-out adds
            member = layout.member(role, index)
            ports += [member.http_port] + ([member.sdk_metrics_port] if role == "worker" else [])
    assert len(ports) == len(set(ports))
    single = {7233, settings.temporal_ui_port, 9092, settings.kafka_controller_port, settings.streams_web_port,
              settings.worker_http_port, settings.worker_sdk_metrics_port, settings.console_port,
              settings.codec_server_port}
    assert not single & set(ports)


def test_status_shows_the_server_and_each_node(cluster_layout: ClusterLayout) -> None:
    rows = {row.name: row for row in stack.status(cluster_layout.settings, topology="cluster")}
    assert rows["temporal"].running and rows["temporal"].pid, rows["temporal"]
    assert rows["temporal"].address == cluster_layout.temporal_address
    for n in range(1, KAFKA_NODES + 1):
        assert rows[f"kafka-{n}"].running and rows[f"kafka-{n}"].pid, rows[f"kafka-{n}"]
    assert {"streams-1", "streams-2", "worker-1", "worker-2"} <= set(rows)
