from typing import NamedTuple

from aiokafka.structs import TopicPartition

class ConsumerProtocolMemberAssignment:
    class Assignment(NamedTuple):
        topic: str
        partitions: list[int]
    version: int
    assignment: list[Assignment]
    user_data: bytes
    @classmethod
    def decode(cls, data: bytes) -> ConsumerProtocolMemberAssignment: ...
    def partitions(self) -> list[TopicPartition]: ...
