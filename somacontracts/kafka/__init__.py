"""Kafka clients on the contracts: topic provisioning, a typed producer and consumer (and
their asyncio counterparts, with request/reply over them), an exactly-once processor."""

from somacontracts.kafka.async_consumer import AsyncContractConsumer, AsyncHandler
from somacontracts.kafka.async_producer import AsyncContractProducer
from somacontracts.kafka.consumer import (
    CommitPolicy,
    ContractConsumer,
    Handler,
    Received,
    RunStats,
    StartPosition,
)
from somacontracts.kafka.errors import (
    BrokerStartError,
    BrokerUnavailableError,
    CommitError,
    DeliveryError,
    FencedError,
    KafkaOperationError,
    PartitionShrinkError,
    ReplyTimeoutError,
)
from somacontracts.kafka.metrics import ClientMetrics
from somacontracts.kafka.processor import ContractProcessor, Transform
from somacontracts.kafka.producer import ContractProducer, Delivered
from somacontracts.kafka.received import MessageIdentity
from somacontracts.kafka.request_reply import RequestReply
from somacontracts.kafka.topics import (
    TopicPlan,
    TopicSpec,
    apply_plans,
    catalog_topics,
    dlq_name,
    open_admin,
    plan_topics,
    scale_topic,
)

__all__ = [
    "AsyncContractConsumer",
    "AsyncContractProducer",
    "AsyncHandler",
    "BrokerStartError",
    "BrokerUnavailableError",
    "ClientMetrics",
    "CommitError",
    "CommitPolicy",
    "ContractConsumer",
    "ContractProcessor",
    "ContractProducer",
    "Delivered",
    "DeliveryError",
    "FencedError",
    "Handler",
    "KafkaOperationError",
    "MessageIdentity",
    "PartitionShrinkError",
    "Received",
    "ReplyTimeoutError",
    "RequestReply",
    "RunStats",
    "StartPosition",
    "TopicPlan",
    "TopicSpec",
    "Transform",
    "apply_plans",
    "catalog_topics",
    "dlq_name",
    "open_admin",
    "plan_topics",
    "scale_topic",
]
