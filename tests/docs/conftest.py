"""Fixtures of the docs tests: a headless chromium and a page of it, AsyncAPI's JSON
Schemas and parser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.fetched import fetched


@pytest.fixture(scope="session")
def chromium(pytestconfig: pytest.Config) -> str:
    """Path of chromium: ``SOMACONTRACTS_CHROMIUM``, else the PATH's, else Debian's
    installed once by ``tools/install_chromium.py``."""
    given = os.environ.get("SOMACONTRACTS_CHROMIUM")
    return given or fetched(pytestconfig, "install_chromium.py", "chromium")


@pytest.fixture(scope="session")
def asyncapi_tools(pytestconfig: pytest.Config) -> Path:
    """The folder of ``@asyncapi/specs``, ``@asyncapi/parser`` and ``parse.mjs``, fetched
    once from the npm registry by ``tools/fetch_asyncapi.py``."""
    return Path(fetched(pytestconfig, "fetch_asyncapi.py", "AsyncAPI's specs and parser"))


@pytest.fixture(scope="module")
def browser_page(chromium: str) -> Iterator[Page]:
    """A page of a headless chromium, one browser per test module."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield browser.new_page(viewport={"width": 1200, "height": 900})
        finally:
            browser.close()
