"""The local stack for laptops and CI: a Kafka-protocol broker (Tansu, from the ``local``
extra) and a sample message of every contract."""

from somacontracts.tooling.dev.broker import LocalBroker

__all__ = ["LocalBroker"]
