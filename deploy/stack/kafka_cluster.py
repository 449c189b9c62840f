"""Apache Kafka of the cluster topology: three KRaft nodes on 127.0.0.1, each a combined
broker and controller (a production cluster runs the controllers as their own three nodes,
docs/OPERATIONS.md), every topic with three replicas of which two must hold a record before
an acks=all write succeeds.

Nodes share the jars (deploy/stack/kafka.py) and one cluster id; each has its own ports,
`<state_dir>/cluster/kafka-<n>/` (data, server.properties, logs) and pid file, so one can be
killed and restarted alone.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
from pathlib import Path

from .common import (
    ServiceStatus,
    StackError,
    port_open,
    run_async,
    run_quiet,
    running_pid,
    say,
    start_detached,
    stop_process,
    wait_until,
)
from .kafka import (
    HEAP,
    START_TIMEOUT,
    broker_answers,
    ensure_jars,
    ensure_topics,
    java_command,
    log4j2_properties,
    new_cluster_id,
    topics_present,
)
from .topology import MIN_INSYNC_REPLICAS, REPLICATION_FACTOR, ClusterLayout, KafkaNode

_MARKER = "kafka.Kafka"


def _paths(layout: ClusterLayout, node: KafkaNode) -> dict[str, Path]:
    home = layout.home / node.name
    home.mkdir(parents=True, exist_ok=True)
    return {"home": home, "data": home / "data", "config": home / "server.properties",
            "log4j": home / "log4j2.properties", "pid": home / "kafka.pid", "log": home / "kafka.log",
            "server_log": home / "server.log"}


def node_properties(layout: ClusterLayout, node: KafkaNode, data_dir: Path) -> str:
    voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in layout.kafka_nodes)
    controller = f"127.0.0.1:{node.controller_port}"
    replicas, min_isr = str(REPLICATION_FACTOR), str(MIN_INSYNC_REPLICAS)
    lines = {
        "process.roles": "broker,controller",
        "node.id": str(node.node_id),
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://{node.address},CONTROLLER://{controller}",
        "advertised.listeners": f"PLAINTEXT://{node.address}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": str(layout.settings.kafka_partitions),
        # Every topic, ours, faust's and Kafka's own, survives the loss of one node without
        # losing an acknowledged record or refusing writes.
        "default.replication.factor": replicas,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        "unclean.leader.election.enable": "false",
        "auto.create.topics.enable": "false",
        "group.initial.rebalance.delay.ms": "0",
        "broker.heartbeat.interval.ms": "1000",
        "broker.session.timeout.ms": "4000",
        # Three JVMs share two cores here.
        "num.network.threads": "2",
        "num.io.threads": "2",
        "num.replica.fetchers": "1",
    }
    return f"# Written by deploy/stack/kafka_cluster.py for {node.name}; edits are overwritten.\n" + "".join(
        f"{key}={value}\n" for key, value in lines.items())


def _cluster_id(layout: ClusterLayout) -> str:
    path = layout.home / "kafka-cluster-id"
    if not path.exists():
        layout.home.mkdir(parents=True, exist_ok=True)
        path.write_text(new_cluster_id() + "\n")
    return path.read_text().strip()


def node_pid(layout: ClusterLayout, node: KafkaNode) -> int | None:
    return running_pid(_paths(layout, node)["pid"], _MARKER)


def start_node(layout: ClusterLayout, node: KafkaNode) -> int:
    """Start one node unless it runs (formatting its storage the first time); its pid. Does not
    wait: a node alone cannot serve until a quorum of controllers is up."""
    paths = _paths(layout, node)
    pid = node_pid(layout, node)
    if pid is not None:
        say(f"kafka: {node.name} already running (pid {pid}) on {node.address}")
        return pid
    for port in (node.port, node.controller_port):
        if port_open("127.0.0.1", port):
            raise StackError(f"kafka: port {port} of {node.name} is taken by a process this topology did not "
                             "start; choose another JIUYE_CLUSTER_PORT_BASE")
    libs = ensure_jars(layout.settings.kafka_version)
    paths["config"].write_text(node_properties(layout, node, paths["data"]))
    paths["log4j"].write_text(log4j2_properties(paths["server_log"]))
    if not (paths["data"] / "meta.properties").exists():
        run_quiet(java_command(libs, paths["log4j"], "kafka.tools.StorageTool", "format",
                               "-t", _cluster_id(layout), "-c", str(paths["config"])),
                  what=f"formatting Kafka storage of {node.name}", timeout=120)
    say(f"kafka: starting {node.name} on {node.address} (log {paths['server_log']})")
    argv = java_command(libs, paths["log4j"], "kafka.Kafka", str(paths["config"]),
                        heap=[*HEAP, "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"])
    return start_detached(argv, pid_file=paths["pid"], log_file=paths["log"], cwd=paths["home"])


def wait_node(layout: ClusterLayout, node: KafkaNode, pid: int | None = None) -> None:
    paths = _paths(layout, node)
    logs = [paths["log"], paths["server_log"]]
    # The port first: a client asking a closed port logs an ERROR on every attempt.
    wait_until(lambda: port_open("127.0.0.1", node.port), what=f"kafka {node.name}", timeout=START_TIMEOUT,
               log_file=logs, pid=pid)
    wait_until(lambda: run_async(lambda: broker_answers(node.address)), what=f"kafka {node.name}",
               timeout=START_TIMEOUT, log_file=logs, pid=pid, interval=0.5)


def up(layout: ClusterLayout) -> None:
    """Start the nodes that do not run, wait until each answers, create the contract's topics."""
    pids = {node.node_id: start_node(layout, node) for node in layout.kafka_nodes}
    for node in layout.kafka_nodes:
        wait_node(layout, node, pids[node.node_id])
    created = run_async(lambda: ensure_topics(layout.kafka_bootstrap, layout.settings.kafka_partitions,
                                              REPLICATION_FACTOR, MIN_INSYNC_REPLICAS, layout.settings.topics.all()))
    if created:
        say(f"kafka: created {len(created)} topics ({layout.settings.kafka_partitions} partitions, "
            f"{REPLICATION_FACTOR} replicas, min.insync.replicas={MIN_INSYNC_REPLICAS})")
    say(f"kafka: ready on {layout.kafka_bootstrap}, {len(layout.settings.topics.all())} topics")


def stop_node(layout: ClusterLayout, node: KafkaNode) -> None:
    pid = node_pid(layout, node)
    if pid is None:
        say(f"kafka: {node.name} not running")
        return
    say(f"kafka: stopping {node.name} (pid {pid})")
    stop_process(pid, name=node.name, timeout=45)
    _paths(layout, node)["pid"].unlink(missing_ok=True)


def down(layout: ClusterLayout) -> None:
    # All at once: a node stopped last would wait for a controller quorum that is gone.
    for node in reversed(layout.kafka_nodes):
        pid = node_pid(layout, node)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
    for node in reversed(layout.kafka_nodes):
        stop_node(layout, node)


def status(layout: ClusterLayout) -> list[ServiceStatus]:
    rows = []
    for node in layout.kafka_nodes:
        pid = node_pid(layout, node)
        if not port_open("127.0.0.1", node.port):
            rows.append(ServiceStatus(node.name, False, node.address, pid,
                                      "process alive but not listening" if pid else ""))
            continue
        # The topics under this layout's prefix (JIUYE_TOPIC_PREFIX), as `up` created them.
        ok, detail = run_async(functools.partial(topics_present, node.address, layout.settings.topics.all()))
        rows.append(ServiceStatus(node.name, ok, node.address, pid, f"{detail}, controller :{node.controller_port}"))
    return rows
