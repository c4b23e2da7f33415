"""State in SQLite: restarts, concurrency, and database files that cannot be used."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from somacontracts.errors import ContractError
from somacontracts.tooling.registry import LocalRegistry, RegistryStoreError
from tests.server.conftest import connect, field, raw, record

V1 = record("Order", field("id"))
V2 = record("Order", field("id"), field("qty", "int", default=0))


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "registry.db"
    with LocalRegistry(db_path=db) as registry, connect(registry.url) as sr_client:
        id1 = sr_client.register_schema("orders-value", V1)
        id2 = sr_client.register_schema("orders-value", V2)
        sr_client.register_schema("copy-value", V1)
        sr_client.delete_version("orders-value", 2)
        sr_client.set_compatibility("orders-value", "FULL")
        sr_client.update_mode("copy-value", "READONLY")
    with LocalRegistry(db_path=db) as registry, connect(registry.url) as sr_client:
        assert sr_client.get_subjects() == ["copy-value", "orders-value"]
        assert sr_client.get_versions("orders-value", deleted=True) == [1, 2]
        assert sr_client.get_versions("orders-value") == [1]
        assert sr_client.get_latest_version("copy-value").schema_id == id1
        assert sr_client.get_compatibility("orders-value") == "FULL"
        assert sr_client.get_mode("copy-value") == "READONLY"
        assert raw(registry.url, "GET", f"/schemas/ids/{id2}")[0] == 200
        # Ids keep counting from where they were.
        assert sr_client.register_schema("new-value", record("New", field("x"))) == id2 + 1


def test_concurrent_registration_of_one_schema_gives_one_id(registry: LocalRegistry) -> None:
    ids: list[int] = []
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def register(subject: str) -> None:
        try:
            with connect(registry.url) as sr_client:
                start.wait()
                ids.append(sr_client.register_schema(subject, V1))
        except BaseException as err:  # reported below, in the test's thread
            failures.append(err)

    threads = [
        threading.Thread(target=register, args=("orders-value" if n % 2 else f"s{n}-value",))
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(ids) == 8
    assert len(set(ids)) == 1
    with connect(registry.url) as sr_client:
        assert sr_client.get_versions("orders-value") == [1]


def test_a_corrupt_database_stops_the_start_with_one_line(tmp_path: Path) -> None:
    db = tmp_path / "broken.db"
    db.write_bytes(b"this is not a database, only some bytes " * 100)
    with pytest.raises(RegistryStoreError) as failed:
        LocalRegistry(db_path=db).start()
    message = str(failed.value)
    assert str(db) in message
    assert "corrupt" in message
    assert "\n" not in message
    assert isinstance(failed.value, ContractError)


def test_a_locked_database_stops_the_start(tmp_path: Path) -> None:
    db = tmp_path / "registry.db"
    with LocalRegistry(db_path=db), pytest.raises(RegistryStoreError) as failed:
        LocalRegistry(db_path=db, lock_timeout=0.1).start()
    assert "locked" in str(failed.value)
    assert str(db) in str(failed.value)


def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.close()
    with pytest.raises(RegistryStoreError) as failed:
        LocalRegistry(db_path=db).start()
    assert "not one of a schema registry" in str(failed.value)


def test_a_missing_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RegistryStoreError) as failed:
        LocalRegistry(db_path=tmp_path / "absent" / "registry.db").start()
    assert "cannot be opened" in str(failed.value)


def test_a_port_in_use_is_reported(registry: LocalRegistry) -> None:
    port = int(registry.url.rpartition(":")[2])
    with pytest.raises(ContractError) as failed:
        LocalRegistry(port=port).start()
    assert f"127.0.0.1:{port}" in str(failed.value)
