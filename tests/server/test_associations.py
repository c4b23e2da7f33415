"""Confluent's ``/associations`` API on the local registry: through confluent-kafka's own
client, with Confluent's error codes, and read by its ``AssociatedNameStrategy``."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka.schema_registry import (
    AssociationCreateOrUpdateInfo,
    AssociationCreateOrUpdateRequest,
    SchemaRegistryClient,
)
from confluent_kafka.schema_registry._sync.serde import (
    FALLBACK_TYPE,
    KAFKA_CLUSTER_ID,
    AssociatedNameStrategy,
)
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

from somacontracts.tooling.registry import LocalRegistry
from tests.server.conftest import field, raw, record

ORDER = record("Order", field("id"))
OTHER = record("Other", field("name"))
CLUSTER = "lkc-12345"


def request(
    topic: str,
    *links: tuple[str, str] | tuple[str, str, str],
    resource_id: str | None = None,
    namespace: str = CLUSTER,
) -> AssociationCreateOrUpdateRequest:
    """A request associating ``topic`` with (subject, type[, lifecycle]) pairs."""
    return AssociationCreateOrUpdateRequest(
        resource_name=topic,
        resource_namespace=namespace,
        resource_id=resource_id or f"id-{topic}",
        resource_type="topic",
        associations=[
            AssociationCreateOrUpdateInfo(
                subject=link[0],
                association_type=link[1],
                lifecycle=link[2] if len(link) == 3 else None,
            )
            for link in links
        ],
    )


def code_of(call: Any) -> int:
    with pytest.raises(SchemaRegistryError) as refused:
        call()
    return int(refused.value.error_code)


def test_create_list_look_up_and_delete(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    client.register_schema("orders-value", ORDER)
    client.register_schema("order-keys", OTHER)
    made = client.create_association(
        request("orders.v1", ("orders-value", "value"), ("order-keys", "key", "STRONG"))
    )
    assert (made.resource_name, made.resource_namespace, made.resource_id) == (
        "orders.v1",
        CLUSTER,
        "id-orders.v1",
    )
    assert made.associations is not None
    assert [(a.subject, a.association_type, a.lifecycle) for a in made.associations] == [
        ("orders-value", "value", "WEAK"),
        ("order-keys", "key", "STRONG"),
    ]
    for namespace in (CLUSTER, "-"):
        found = client.get_associations_by_resource_name("orders.v1", namespace, "topic")
        assert [(a.subject, a.association_type) for a in found] == [
            ("order-keys", "key"),
            ("orders-value", "value"),
        ]
    values = client.get_associations_by_resource_name("orders.v1", "-", "topic", ["value"])
    assert [a.subject for a in values] == ["orders-value"]
    assert client.get_associations_by_resource_name("orders.v1", "lkc-other") == []
    assert client.get_associations_by_resource_name("unknown", "-") == []
    url = registry.url
    by_id = raw(url, "GET", "/associations/resources/id-orders.v1?associationType=key")[1]
    assert [(a["subject"], a["lifecycle"]) for a in by_id] == [("order-keys", "STRONG")]
    by_subject = raw(url, "GET", "/associations/subjects/orders-value")[1]
    assert [(a["resourceName"], a["resourceId"]) for a in by_subject] == [
        ("orders.v1", "id-orders.v1")
    ]
    assert raw(url, "GET", "/associations/subjects/orders-value?lifecycle=STRONG")[1] == []
    # the same request again changes nothing
    assert client.create_association(
        request("orders.v1", ("orders-value", "value"))
    ).associations == [made.associations[0]]
    client.delete_associations("id-orders.v1", "topic", ["value"])
    assert [a.subject for a in client.get_associations_by_resource_name("orders.v1", "-")] == [
        "order-keys"
    ]
    client.delete_associations("id-orders.v1")
    assert code_of(lambda: client.delete_associations("id-orders.v1")) == 40410
    assert client.get_subjects() == ["order-keys", "orders-value"]  # WEAK and no cascade


def test_confluent_s_conflict_codes(client: SchemaRegistryClient) -> None:
    def refusal(topic: str, *link: str) -> int:
        made = request(topic, link)  # type: ignore[arg-type]
        return code_of(lambda: client.create_association(made))

    client.register_schema("orders-value", ORDER)
    client.register_schema("other-value", OTHER)
    client.create_association(request("orders", ("orders-value", "value")))
    # the resource's value is another subject's; or the same one, of another lifecycle
    assert refusal("orders", "other-value", "value") == 40903
    assert refusal("orders", "orders-value", "value", "STRONG") == 40903
    # a subject with an association takes no STRONG one besides
    assert refusal("orders2", "orders-value", "value", "STRONG") == 40904
    # a subject with a STRONG one takes no other
    client.create_association(request("others", ("other-value", "value", "STRONG")))
    assert refusal("others2", "other-value", "value") == 40905
    # a subject with no live version takes none
    assert refusal("t", "nothing-value", "value") == 40907
    client.delete_version("orders-value", 1)
    assert refusal("t", "orders-value", "value") == 40907


def test_an_update_keeps_the_subject_and_may_change_the_lifecycle(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    client.register_schema("orders-value", ORDER)
    url = registry.url
    body = {
        "resourceName": "orders",
        "resourceNamespace": CLUSTER,
        "associations": [{"subject": "orders-value", "lifecycle": "STRONG"}],
    }
    status, made = raw(url, "PUT", "/associations/resources/r1", body)
    assert (status, made["resourceId"], made["associations"][0]["lifecycle"]) == (
        200,
        "r1",
        "STRONG",
    )
    weaker = {**body, "associations": [{"subject": "orders-value", "lifecycle": "WEAK"}]}
    assert (
        raw(url, "PUT", "/associations/resources/r1", weaker)[1]["associations"][0]["lifecycle"]
        == "WEAK"
    )
    kept = {**body, "associations": [{"subject": "orders-value"}]}
    assert (
        raw(url, "PUT", "/associations/resources/r1", kept)[1]["associations"][0]["lifecycle"]
        == "WEAK"
    )
    moved = {**body, "associations": [{"subject": "other-value"}]}
    assert raw(url, "PUT", "/associations/resources/r1", moved)[1]["error_code"] == 42212
    other_id = {**body, "resourceId": "r2"}
    assert raw(url, "PUT", "/associations/resources/r1", other_id)[1]["error_code"] == 42212
    renamed = {**body, "resourceName": "orders-renamed"}
    assert raw(url, "PUT", "/associations/resources/r1", renamed)[1]["error_code"] == 42212


def test_a_cascading_delete_takes_a_strong_association_s_subject(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    client.register_schema("orders-value", ORDER)
    client.register_schema("other-value", OTHER)
    client.create_association(request("orders", ("orders-value", "value", "STRONG")))
    client.create_association(request("others", ("other-value", "value")))
    path = "/associations/resources/id-orders?cascadeLifecycle=true"
    assert raw(registry.url, "DELETE", path + "&dryRun=true")[0] == 204
    assert client.get_subjects() == ["orders-value", "other-value"]
    assert raw(registry.url, "DELETE", path)[0] == 204
    client.delete_associations("id-others", cascade_lifecycle=True)  # WEAK: the subject stays
    assert client.get_subjects() == ["other-value"]
    assert client.get_subjects(deleted=True) == ["other-value"]  # gone for good


def one(**item: Any) -> dict[str, Any]:
    """A request's ``associations`` of one item: ``orders-value`` and ``item``."""
    return {"associations": [{"subject": "orders-value", **item}]}


@pytest.mark.parametrize(
    ("change", "prop"),
    [
        ({"resourceName": ""}, "resourceName"),
        ({"resourceName": "bad topic"}, "resourceName"),
        ({"resourceName": "x" * 250}, "resourceName"),
        ({"resourceName": ".."}, "resourceName"),
        ({"resourceNamespace": None}, "resourceNamespace"),
        ({"resourceNamespace": "a.b"}, "resourceNamespace"),
        ({"resourceNamespace": "-"}, "resourceNamespace"),
        ({"resourceId": None}, "resourceId"),
        ({"resourceId": "a\nb"}, "resourceId"),
        ({"resourceType": "table"}, "resourceType"),
        ({"associations": []}, "associations"),
        ({"associations": ["orders-value"]}, "associations"),
        (one(associationType="k"), "associationType"),
        ({"associations": [{"subject": "orders-value"}] * 2}, "associationType"),
        (one(lifecycle="FOREVER"), "lifecycle"),
        (one(frozen=True), "frozen"),
        (one(frozen="no"), "frozen"),
        (one(subject=""), "subject"),
        (one(schema={"schema": '"int"'}), "schema"),
    ],
)
def test_an_invalid_association_is_42212_naming_the_property(
    registry: LocalRegistry, client: SchemaRegistryClient, change: dict[str, Any], prop: str
) -> None:
    client.register_schema("orders-value", ORDER)
    body = {
        "resourceName": "orders",
        "resourceNamespace": CLUSTER,
        "resourceId": "r1",
        "resourceType": "topic",
        "associations": [{"subject": "orders-value"}],
        **change,
    }
    status, answer = raw(registry.url, "POST", "/associations", body)
    assert (status, answer["error_code"]) == (422, 42212)
    assert answer["message"].startswith(
        f"The association specified an invalid value for property: '{prop}', reason: "
    )
    assert raw(registry.url, "GET", "/associations/resources/r1")[1] == []


def test_a_dry_run_checks_and_writes_nothing(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    client.register_schema("orders-value", ORDER)
    body = {"resourceName": "orders", "resourceNamespace": CLUSTER, "associations": [{}]}
    body["associations"] = [{"subject": "orders-value"}]
    status, answer = raw(registry.url, "POST", "/associations?dryRun=true", body)
    assert (status, answer) == (
        200,
        {"resourceName": "orders", "resourceNamespace": CLUSTER, "resourceType": "topic"},
    )
    assert client.get_associations_by_resource_name("orders", "-") == []
    refused = {**body, "associations": [{"subject": "nothing-value"}]}
    assert raw(registry.url, "POST", "/associations?dryRun=true", refused)[1]["error_code"] == (
        40907
    )


def test_associations_survive_a_restart(tmp_path: Any) -> None:
    db = tmp_path / "registry.db"
    with LocalRegistry(db_path=db) as started, SchemaRegistryClient({"url": started.url}) as c:
        c.register_schema("orders-value", ORDER)
        c.create_association(request("orders", ("orders-value", "value")))
    with LocalRegistry(db_path=db) as started, SchemaRegistryClient({"url": started.url}) as c:
        assert [a.subject for a in c.get_associations_by_resource_name("orders", CLUSTER)] == [
            "orders-value"
        ]


# -- confluent-kafka's AssociatedNameStrategy --------------------------------------------


def serializer(client: SchemaRegistryClient, strategy: AssociatedNameStrategy, **conf: Any) -> Any:
    return AvroSerializer(
        client,
        ORDER.schema_str,
        conf={
            "auto.register.schemas": False,
            "subject.name.strategy": strategy,
            "subject.name.strategy.conf": conf,
        },
    )


def test_associated_name_strategy_finds_caches_and_falls_back(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    schema_id = client.register_schema("payments.orders-v2", ORDER)
    client.register_schema("orders-value", ORDER)  # what the topic strategy would name
    client.create_association(request("orders", ("payments.orders-v2", "value")))
    ctx = SerializationContext("orders", MessageField.VALUE)
    strategy = AssociatedNameStrategy()
    assert strategy(ctx, None, client, {KAFKA_CLUSTER_ID: CLUSTER}) == "payments.orders-v2"
    assert strategy(ctx, None, client, {}) == "payments.orders-v2"  # cached per topic
    with SchemaRegistryClient({"url": registry.url}) as fresh:
        assert AssociatedNameStrategy()(ctx, None, fresh, {}) == "payments.orders-v2"  # "-"
        other_cluster = {KAFKA_CLUSTER_ID: "lkc-other"}
        assert AssociatedNameStrategy()(ctx, None, fresh, other_cluster) == "orders-value"
        with pytest.raises(SerializationError, match="No associated subject"):
            AssociatedNameStrategy()(ctx, None, fresh, {**other_cluster, FALLBACK_TYPE: "NONE"})
    # a serializer configured with it writes under the associated subject's id
    data = serializer(client, AssociatedNameStrategy(), **{FALLBACK_TYPE: "NONE"})(
        {"id": "o-1"}, ctx
    )
    assert data is not None
    assert int.from_bytes(data[1:5], "big") == schema_id
    # the cache outlives the association; a new strategy sees it gone
    client.delete_associations("id-orders")
    assert strategy(ctx, None, client, {KAFKA_CLUSTER_ID: CLUSTER}) == "payments.orders-v2"
    assert AssociatedNameStrategy()(ctx, None, client, {KAFKA_CLUSTER_ID: CLUSTER}) == (
        "orders-value"
    )
