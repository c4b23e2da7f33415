"""Kafka clients on the contracts: topic provisioning, a typed producer and consumer, an
exactly-once processor, and the local broker of the demo and the tests."""

from somacontracts.kafka.consumer import (
    CommitPolicy,
    ContractConsumer,
    Handler,
    Received,
    RunStats,
)
from somacontracts.kafka.errors import (
    BrokerStartError,
    BrokerUnavailableError,
    CommitError,
    DeliveryError,
    FencedError,
    KafkaOperationError,
    PartitionShrinkError,
)
from somacontracts.kafka.metrics import ClientMetrics
from somacontracts.kafka.processor import ContractProcessor, Transform
from somacontracts.kafka.producer import ContractProducer, Delivered
from somacontracts.kafka.received import MessageIdentity
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
    "RunStats",
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
