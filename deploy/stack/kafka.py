"""Apache Kafka as one KRaft node (broker and controller in one JVM).

There is no Docker engine and no route to the Kafka download mirrors on these machines, so the
broker's jars come from Maven Central: `deploy/kafka/pom.xml` names `kafka_2.13` and Maven
copies it with its runtime dependencies into a cache shared by every checkout.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

from contracts.settings import Settings
from contracts.topics import ALL_TOPICS

from .common import (
    ServiceStatus,
    StackError,
    command_line,
    port_open,
    run_async,
    run_quiet,
    running_pid,
    say,
    service_dir,
    split_host_port,
    start_detached,
    stop_process,
    wait_until,
)

NAME = "kafka"
POM = Path(__file__).resolve().parent.parent / "kafka" / "pom.xml"
START_TIMEOUT = 90.0
HEAP = ["-Xms256m", "-Xmx512m"]
_MARKER = "kafka.Kafka"
_COMPLETE = ".complete"
READY_PROBE_GROUP = "jiuye-dev-up"  # only ever looked up, never joined


# --- jars ------------------------------------------------------------------------------------


def cache_root() -> Path:
    """Where resolved broker jars live: `$XDG_CACHE_HOME/jiuye` or `~/.cache/jiuye`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jiuye"


def ensure_jars(version: str) -> Path:
    """Return the folder holding the broker's jars for `version`, resolving them with Maven the
    first time. A marker file is written only after Maven succeeded, so an interrupted
    download is redone rather than half-used."""
    home = cache_root() / f"kafka-{version}"
    libs = home / "libs"
    if (home / _COMPLETE).exists():
        return libs
    if shutil.which("mvn") is None:
        raise StackError("kafka: Maven (`mvn`) is needed to fetch the broker jars; run `bash deploy/setup.sh`")
    say(f"kafka: resolving Apache Kafka {version} jars with Maven into {libs} (first time only)")
    shutil.rmtree(libs, ignore_errors=True)
    libs.mkdir(parents=True)
    run_quiet(["mvn", "-q", "-B", "-Dstyle.color=never", "-f", str(POM), f"-Dkafka.version={version}",
               "dependency:copy-dependencies", f"-DoutputDirectory={libs}"],
              what=f"resolving Kafka {version} with Maven", timeout=900)
    if not (libs / f"kafka_2.13-{version}.jar").exists():
        raise StackError(f"kafka: Maven finished but kafka_2.13-{version}.jar is not in {libs}")
    (home / _COMPLETE).write_text(version + "\n")
    return libs


# --- configuration ---------------------------------------------------------------------------


def _paths(settings: Settings) -> dict[str, Path]:
    home = service_dir(settings.state_dir, NAME)
    return {
        "home": home,
        "data": home / "data",
        "config": home / "server.properties",
        "log4j": home / "log4j2.properties",
        "pid": home / "kafka.pid",
        "log": home / "kafka.log",
        "server_log": home / "server.log",
    }


def server_properties(settings: Settings, data_dir: Path) -> str:
    host, port = split_host_port(settings.kafka_bootstrap, 9092)
    controller = f"127.0.0.1:{settings.kafka_controller_port}"
    lines = {
        "process.roles": "broker,controller",
        "node.id": "1",
        # A static one-voter quorum: the voter set lives in this file, not in the formatted
        # log, so changing the controller port later needs no re-format.
        "controller.quorum.voters": f"1@{controller}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{controller}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": str(settings.kafka_partitions),
        "default.replication.factor": "1",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Topics are part of the contract (contracts/topics.py); a typo must fail, not create one.
        "auto.create.topics.enable": "false",
        # One member per group here; waiting 3 s for more only slows every test's consumer.
        "group.initial.rebalance.delay.ms": "0",
        # After a crash the restarted node waits out its old incarnation's session before it
        # serves; the default 9 s turns every unclean restart into a 10 s pause.
        "broker.heartbeat.interval.ms": "1000",
        "broker.session.timeout.ms": "4000",
        "num.network.threads": "2",
        "num.io.threads": "4",
    }
    return "# Written by deploy/stack/kafka.py on every `jiuye dev up`; edits are overwritten.\n" + "".join(
        f"{key}={value}\n" for key, value in lines.items())


def log4j2_properties(server_log: Path) -> str:
    return f"""# Written by deploy/stack/kafka.py. The broker is chatty at INFO; keep WARN plus start/stop.
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {server_log}
appender.file.filePattern = {server_log}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
logger.raftserver.name = kafka.server.KafkaRaftServer
logger.raftserver.level = info
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = info
"""


def java_command(libs: Path, log4j: Path, main: str, *args: str, heap: list[str] | None = None) -> list[str]:
    return ["java", *(heap or []), "-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={log4j}",
            "-cp", f"{libs}/*", main, *args]


def new_cluster_id() -> str:
    # Kafka's Uuid.toString(): URL-safe base64 of 16 bytes, unpadded. A leading "-" would be
    # read as an option by the tool, so draw again.
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _format_once(libs: Path, paths: dict[str, Path], version: str) -> None:
    """Format the storage on first use; refuse to run an older Kafka on newer storage, which
    the broker would only report after starting (`No MetadataVersion with feature level`)."""
    formatted_by = paths["home"] / "formatted-by-version"
    if (paths["data"] / "meta.properties").exists():
        previous = formatted_by.read_text().strip() if formatted_by.exists() else version
        if _version_key(version) < _version_key(previous):
            raise StackError(f"kafka: {paths['data']} was formatted by Kafka {previous}, which {version} cannot "
                             f"read; set JIUYE_KAFKA_VERSION={previous} or delete {paths['home']} (topics and "
                             "messages are lost)")
        return
    cluster_id = new_cluster_id()
    say(f"kafka: formatting storage in {paths['data']} (cluster id {cluster_id})")
    run_quiet(java_command(libs, paths["log4j"], "kafka.tools.StorageTool", "format",
                    "-t", cluster_id, "-c", str(paths["config"])),
              what="formatting Kafka storage", timeout=120)
    formatted_by.write_text(version + "\n")


# --- health and topics -----------------------------------------------------------------------


async def ensure_topics(bootstrap: str, partitions: int, replication_factor: int = 1,
                        min_insync_replicas: int = 1, names: Sequence[str] = ALL_TOPICS) -> list[str]:
    """Create the topics `names` (the contract's, by default under no prefix; `Topics.all()` for a
    prefix) that do not exist yet; return the ones created. A topic of several replicas refuses
    acks=all writes while fewer than `min_insync_replicas` have them."""
    configs = {"min.insync.replicas": str(min_insync_replicas)} if min_insync_replicas > 1 else {}
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import for_code

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in names if t not in existing]
        if missing:
            response = await admin.create_topics(
                [NewTopic(name, num_partitions=partitions, replication_factor=replication_factor,
                          topic_configs=configs) for name in missing])
            for topic, code, *rest in response.topic_errors:
                if code not in (0, 36):  # 36: TOPIC_ALREADY_EXISTS — another starter won the race
                    raise StackError(f"kafka: creating topic {topic} failed: {for_code(code).__name__} {rest}")
        # A new topic reaches the broker's metadata a moment after create_topics answered (KRaft
        # applies it from the metadata log): look again for a while before calling it missing.
        for _ in range(60):
            existing = set(await admin.list_topics())
            still_missing = [t for t in names if t not in existing]
            if not still_missing:
                return missing
            await asyncio.sleep(0.5)
        raise StackError(f"kafka: topics missing 30 s after creation: {', '.join(still_missing)}")
    finally:
        await admin.close()


async def broker_answers(bootstrap: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        await admin.list_topics()
        return True
    except Exception:  # any failure here just means "not ready yet"
        return False
    finally:
        await admin.close()


async def leaders_ready(bootstrap: str, names: Sequence[str]) -> bool:
    """Whether every partition of `names` has a leader that answers (ListOffsets) and consumer
    groups have a coordinator. A broker elects the leaders of new topics a moment after creating
    them; a producer that comes first gets NotLeaderForPartitionError and logs a warning per
    retry, so `up` waits for this."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        described = await admin.describe_topics(list(names))
        # The first group's coordinator needs __consumer_offsets, which a fresh broker creates on
        # this first request and then elects its leaders: until then every consumer group (the
        # intake's, the stand-in's) logs GroupCoordinatorNotAvailable and "coordinator dead".
        await admin.find_coordinator(READY_PROBE_GROUP)
    except Exception:  # any failure here just means "not ready yet"
        return False
    finally:
        await admin.close()
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    if any(t["error_code"] or any(p["error_code"] or p["leader"] < 0 for p in t["partitions"]) for t in described) \
            or {t["topic"] for t in described} != set(names):
        return False
    # The leader in the metadata may not serve yet: a ListOffsets per partition asks the leader
    # itself (aiokafka retries NotLeaderForPartition there at debug level, within the timeout).
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=3000, enable_auto_commit=False)
    try:
        await consumer.start()
        await asyncio.wait_for(consumer.end_offsets(partitions), timeout=5)
        return True
    except Exception:  # not yet
        return False
    finally:
        await consumer.stop()


async def topics_present(bootstrap: str, names: Sequence[str]) -> tuple[bool, str]:
    # No default: the names a stack must have depend on its topic prefix (settings.topics.all()).
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
    except Exception as exc:
        return False, f"no metadata: {type(exc).__name__}"
    finally:
        await admin.close()
    missing = [t for t in names if t not in existing]
    if missing:
        return False, f"{len(missing)} topics missing"
    return True, f"{len(names)} topics"


# --- lifecycle -------------------------------------------------------------------------------


def up(settings: Settings) -> None:
    """Start the broker unless it already runs (resolving jars and formatting storage the
    first time), wait until it answers metadata requests, create the contract's topics and wait
    until each of their partitions has a leader that serves."""
    paths = _paths(settings)
    bootstrap = settings.kafka_bootstrap
    host, port = split_host_port(bootstrap, 9092)
    pid = running_pid(paths["pid"], _MARKER)
    if pid is not None:
        say(f"kafka: already running (pid {pid}) on {bootstrap}")
    elif port_open(host, port):
        if not run_async(lambda: broker_answers(bootstrap)):
            raise StackError(f"kafka: port {port} on {host} is taken by something that is not a Kafka broker")
        say(f"kafka: a broker not started by jiuye already listens on {bootstrap}; using it")
    else:
        if port_open("127.0.0.1", settings.kafka_controller_port):
            raise StackError(f"kafka: controller port {settings.kafka_controller_port} is taken by another "
                             "process; set JIUYE_KAFKA_CONTROLLER_PORT")
        libs = ensure_jars(settings.kafka_version)
        paths["config"].write_text(server_properties(settings, paths["data"]))
        paths["log4j"].write_text(log4j2_properties(paths["server_log"]))
        _format_once(libs, paths, settings.kafka_version)
        say(f"kafka: starting Apache Kafka {settings.kafka_version} on {bootstrap} (log {paths['server_log']})")
        argv = java_command(libs, paths["log4j"], "kafka.Kafka", str(paths["config"]),
                     heap=[*HEAP, "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"])
        pid = start_detached(argv, pid_file=paths["pid"], log_file=paths["log"], cwd=paths["home"])
    logs = [paths["log"], paths["server_log"]]
    wait_until(lambda: port_open(host, port), what="kafka", timeout=START_TIMEOUT, log_file=logs, pid=pid)
    wait_until(lambda: run_async(lambda: broker_answers(bootstrap)), what="kafka metadata",
               timeout=START_TIMEOUT, log_file=logs, pid=pid, interval=0.5)
    created = run_async(lambda: ensure_topics(bootstrap, settings.kafka_partitions, settings.kafka_replication_factor,
                                              settings.kafka_min_insync_replicas, settings.topics.all()))
    if created:
        say(f"kafka: created {len(created)} topics with {settings.kafka_partitions} partitions each")
    wait_until(lambda: run_async(lambda: leaders_ready(bootstrap, settings.topics.all())), what="kafka partition leaders",
               timeout=START_TIMEOUT, log_file=logs, pid=pid, interval=0.5)
    prefix = f" (prefix {settings.topic_prefix!r})" if settings.topic_prefix else ""
    say(f"kafka: ready on {bootstrap}, {len(ALL_TOPICS)} topics{prefix}")


def down(settings: Settings) -> None:
    """Stop the broker (a controlled shutdown; its data stays)."""
    paths = _paths(settings)
    pid = running_pid(paths["pid"], _MARKER)
    if pid is None:
        say("kafka: not running")
    else:
        say(f"kafka: stopping (pid {pid})")
        stop_process(pid, name="kafka", timeout=45)
    paths["pid"].unlink(missing_ok=True)


def status(settings: Settings) -> ServiceStatus:
    paths = _paths(settings)
    pid = running_pid(paths["pid"], _MARKER)
    host, port = split_host_port(settings.kafka_bootstrap, 9092)
    if not port_open(host, port):
        return ServiceStatus(NAME, False, settings.kafka_bootstrap, pid,
                             "process alive but not listening" if pid else "")
    ok, detail = run_async(lambda: topics_present(settings.kafka_bootstrap, settings.topics.all()))
    if pid is not None:
        # The jars' folder names the version actually running, which may differ from the setting.
        running = re.search(r"/kafka-([^/\s]+)/libs/", command_line(pid))
        if running:
            detail += f", Kafka {running[1]}"
    return ServiceStatus(NAME, ok, settings.kafka_bootstrap, pid, detail)
