"""A look at Kafka topics and consumer groups without joining any group."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts.kafka import client_security
from contracts.settings import Settings
from testkit.errors import KitError


class KafkaProbe:
    """Partitions, end offsets and a group's committed offsets; positions a new group.

    Names go in logical, as contracts/topics.py spells them (topics and groups alike): the probe
    puts `settings.topic_prefix` before them. The `TopicPartition`s it returns name the physical
    topics (they are the broker's), and go back into `lag`, `committed` and `start_group_at` as they are.

    Long-lived on purpose: aiokafka raises CancelledError when a group-less consumer is stopped
    right after it started (aio-libs/aiokafka#647).
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.names = settings.topics
        self.admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, **client_security(settings))
        self.consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False,
                                         **client_security(settings))

    async def start(self) -> None:
        await self.admin.start()
        await self.consumer.start()

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.consumer.stop()
        with contextlib.suppress(Exception):
            await self.admin.close()

    async def partitions(self, topics: Iterable[str]) -> list[TopicPartition]:
        topics = [self.names.physical(t) for t in topics]
        described = {t["topic"]: t for t in await self.admin.describe_topics(topics)}
        found: list[TopicPartition] = []
        for topic in topics:
            numbers = [p["partition"] for p in described.get(topic, {}).get("partitions", [])]
            if not numbers:
                raise KitError(f"topic {topic} does not exist; is the stack up (`jiuye dev up`)?")
            found.extend(TopicPartition(topic, p) for p in sorted(numbers))
        return found

    async def ends(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        return await self.consumer.end_offsets(await self.partitions(topics))

    async def lag(self, group: str, ends: Mapping[TopicPartition, int]) -> int:
        """Records up to `ends` (from `ends(topics)`) that `group` has not committed yet."""
        committed = await self.admin.list_consumer_group_offsets(self.names.physical(group), partitions=list(ends))
        return sum(max(0, end - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0))
                   for tp, end in ends.items())

    async def committed(self, group: str, tp: TopicPartition) -> int | None:
        """The offset `group` has committed for `tp` (the next record it will read), if any."""
        offsets = await self.admin.list_consumer_group_offsets(self.names.physical(group), partitions=[tp])
        found = offsets.get(tp)
        return found.offset if found is not None and found.offset >= 0 else None

    async def start_group_at(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        """Commit `offsets` for a new `group`, so that it reads only what follows them."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, group_id=self.names.physical(group),
                                    enable_auto_commit=False, **client_security(self.settings))
        await consumer.start()
        try:
            consumer.assign(list(offsets))
            await consumer.commit(dict(offsets))
        finally:
            await consumer.stop()

    async def start_group_at_end(self, group: str, topics: Iterable[str]) -> None:
        """`start_group_at` the current ends of `topics`: the group reads what is produced from now on."""
        await self.start_group_at(group, await self.ends(topics))

    async def forget_group(self, group: str) -> None:
        """Best effort: delete the internal topics (`<group>-…`) made for the intake's group and
        the monitoring app's. The groups themselves stay: aiokafka 0.14's admin client has no
        DeleteGroups, and the broker drops a group's offsets once it is empty for
        `offsets.retention.minutes`."""
        with contextlib.suppress(Exception):
            mine = [t for t in await self.admin.list_topics() if t.startswith(f"{self.names.physical(group)}-")]
            if mine:
                await self.admin.delete_topics(mine)
