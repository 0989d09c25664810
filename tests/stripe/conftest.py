"""Every test here runs against localstripe, and ends with a search of the database and the
captured logs for anything that looks like a card number."""

import logging

import pytest

from tests.conftest_stripe import (  # noqa: F401 (fixtures)
    card_numbers_in_database,
    card_numbers_in_logs,
    localstripe,
    stripe_recorder,
    stripe_settings,
    stripe_webhooks,
)


@pytest.fixture(autouse=True)
def _stripe_is_set_up(request):
    return request.getfixturevalue("stripe_settings")


@pytest.fixture(autouse=True)
def _no_card_number_is_kept(request, caplog):
    caplog.set_level(logging.DEBUG)
    marker = request.node.get_closest_marker("django_db")
    uses_db = marker is not None or any(
        name in request.fixturenames for name in ("db", "transactional_db", "live_server")
    )
    if uses_db:
        # Set up the database first, so this check runs before it is emptied.
        transactional = bool({"transactional_db", "live_server"} & set(request.fixturenames))
        transactional = transactional or bool(marker and marker.kwargs.get("transaction"))
        request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    found = card_numbers_in_logs(caplog.records)
    if uses_db:
        found += card_numbers_in_database()
    assert not found, f"card-number-like text was kept: {found}"
