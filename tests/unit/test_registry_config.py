"""The registry client's configuration: credentials leave the URL, bad values are not echoed."""

from __future__ import annotations

import pytest

from somacontracts.errors import ConfigurationError
from somacontracts.serde.registry_client import connect, registry_config, url_of


def test_credentials_in_the_url_become_basic_auth_and_leave_the_url() -> None:
    config = registry_config(url="http://admin:pa%40ss@127.0.0.1:8081", environ={})
    assert config["url"] == "http://127.0.0.1:8081"
    assert config["basic.auth.user.info"] == "admin:pa@ss"
    with connect(url="https://u:p@h1:1,https://h2:2/", environ={}) as client:
        assert url_of(client) == "https://h1:1,https://h2:2"  # the client drops the slash


def test_the_same_credentials_twice_are_accepted() -> None:
    env = {"SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": "u:p"}
    assert registry_config(url="http://u:p@h:1", environ=env)["basic.auth.user.info"] == "u:p"


@pytest.mark.parametrize(
    ("url", "env", "words"),
    [
        ("http://u:p@h:1", {"SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": "u:q"}, "differ from"),
        ("http://u:p@h:1,http://u:q@h:2", {}, "different credentials"),
        ("http://token@h:1", {}, "without a password"),
        ("http://u:p@h:1", {"SCHEMA_REGISTRY_BEARER_TOKEN": "t"}, "cannot be used with basic"),
        ("ftp://u:p@h", {}, "it is not an http:// or https:// URL"),
        ("http://ok:1,u:p@h", {}, "URL 2 of 2 is not an http:// or https:// URL"),
        ("http://[::1", {}, "it is not an http:// or https:// URL"),
    ],
)
def test_bad_urls_are_named_and_not_echoed(url: str, env: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        registry_config(url=url, environ=env)
    assert words in str(caught.value)
    for secret in ("p@", "q@", "token"):
        assert secret not in str(caught.value)
        assert secret not in repr(caught.value)
