from aiokafka.structs import BrokerMetadata

class ClusterMetadata:
    def brokers(self) -> set[BrokerMetadata]: ...
