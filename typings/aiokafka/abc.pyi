import abc
from collections.abc import Iterable

from aiokafka.structs import TopicPartition

class ConsumerRebalanceListener(abc.ABC):
    # aiokafka awaits the result when it is awaitable (the listener may be sync or async).
    @abc.abstractmethod
    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> object: ...
    @abc.abstractmethod
    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> object: ...
