"""Array parameters written as PostgreSQL array text (glamiti/pgarray.py) arrive intact."""

import datetime
import json

import pytest
from django.db import connection

from glamiti.pgarray import array_param

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
]


def sent(value, cast: str):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s::{cast}", [array_param(value)])
        return cursor.fetchone()[0]


def test_whole_numbers_booleans_and_nulls():
    assert sent([1, -2, 2**62, 0], "bigint[]") == [1, -2, 2**62, 0]
    assert sent([1, None, 3], "bigint[]") == [1, None, 3]
    assert sent([True, False, None], "boolean[]") == [True, False, None]
    assert sent([], "bigint[]") == []


def test_text_of_any_shape_stays_text():
    texts = ["", "NULL", "null", "a,b", "{x}", ' "quoted" ', "back\\slash\\", "line\nbreak",
             "tab\tand spaces  ", "Zoë Ødegård 😀", "'; DROP TABLE x; --", "=1+1"]  # fmt: skip
    assert sent(texts, "text[]") == texts
    assert sent([None, "NULL"], "varchar[]") == [None, "NULL"]


def test_json_values_and_what_it_leaves_to_psycopg():
    got = sent([None, '{"tag": [null, "VIP \\"gold\\""]}'], "jsonb[]")
    # Django reads jsonb back as its text (JSONField decodes it).
    assert [None if v is None else json.loads(v) for v in got] == [
        None,
        {"tag": [None, 'VIP "gold"']},
    ]
    moments = [datetime.datetime(2026, 12, 5, 6, 0, tzinfo=datetime.UTC)]
    assert array_param(moments) == moments  # not written here: psycopg dumps it
    assert sent(moments, "timestamptz[]") == moments
