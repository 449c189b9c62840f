"""The intake's lanes (streams/consumer.py): each input topic's assigned partitions are shared
among `intake_lanes` workers, so that every partition is handled by exactly one of them."""

import pytest
from aiokafka import TopicPartition
from pydantic import ValidationError

from contracts.settings import Settings
from contracts.topics import TYPES_BY_TOPIC
from streams.consumer import batch_max_of, lane_partitions, lanes_of


@pytest.mark.parametrize("lanes", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("partitions", [[0, 1, 2, 3], [1, 3], [2], []])
def test_lanes_share_a_topics_partitions_disjointly_and_completely(lanes: int, partitions: list[int]) -> None:
    assigned = [TopicPartition("t.si.contributions", p) for p in reversed(partitions)]
    assigned += [TopicPartition("t.es.applications", p) for p in range(4)]  # another topic: never in a share
    shares = [lane_partitions(assigned, "t.si.contributions", lane, lanes) for lane in range(lanes)]
    taken = [tp.partition for share in shares for tp in share]
    assert sorted(taken) == sorted(partitions)  # each partition in exactly one lane
    assert all(tp.topic == "t.si.contributions" for share in shares for tp in share)
    # As many lanes busy as there are partitions for them, each in partition order.
    assert sum(1 for share in shares if share) == min(lanes, len(partitions))
    assert all([tp.partition for tp in share] == sorted(tp.partition for tp in share) for share in shares)


def test_intake_lanes_is_at_least_one() -> None:
    assert Settings().intake_lanes >= 1
    with pytest.raises(ValidationError):
        Settings(intake_lanes=0)


def test_only_the_firehose_topic_gets_more_than_one_lane() -> None:
    settings = Settings(intake_lanes=3)
    assert lanes_of("si.contributions", settings) == 3
    assert all(lanes_of(topic, settings) == 1 for topic in TYPES_BY_TOPIC if topic != "si.contributions")


def test_firehose_batches_are_larger_than_every_other_topics() -> None:
    settings = Settings(intake_batch_max=1000, intake_firehose_batch_max=5000)
    assert batch_max_of("si.contributions", settings) == 5000
    for topic in TYPES_BY_TOPIC:
        if topic != "si.contributions":
            assert batch_max_of(topic, settings) == 1000, topic
    assert Settings().intake_firehose_batch_max > Settings().intake_batch_max
