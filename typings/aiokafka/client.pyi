from aiokafka.cluster import ClusterMetadata

class AIOKafkaClient:
    async def fetch_all_metadata(self) -> ClusterMetadata: ...
