"""Every index on a table that an import writes row by row is written for every imported
client: none may repeat what another already serves."""

import pytest
from django.db import connection

from clients.imports import _imported_tables

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
]


def indexes() -> list[tuple[str, str, list[str], bool]]:
    """(table, index, key columns in order, partial) of every index but the unique ones on
    the import's tables and on the tables where it records its problems and changes."""
    tables = [*_imported_tables(), "clients_clientimportproblem", "clients_clientimportchange"]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, c.relname,
                   ARRAY(SELECT a.attname FROM unnest(i.indkey[0:i.indnkeyatts - 1])
                           WITH ORDINALITY AS k(attnum, n)
                         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                         ORDER BY k.n),
                   i.indpred IS NOT NULL
            FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_class c ON c.oid = i.indexrelid
            WHERE t.relname = ANY(%s) AND NOT i.indisunique
            """,
            [tables],
        )
        return cursor.fetchall()


def test_no_single_column_index_beside_one_that_leads_with_the_business_and_it():
    found = indexes()
    assert len({table for table, *_ in found}) == 7
    covering = {
        (table, columns[1]) for table, _, columns, partial in found
        if len(columns) > 1 and columns[0] == "business_id" and not partial
    }  # fmt: skip
    redundant = [
        (table, name) for table, name, columns, partial in found
        if len(columns) == 1 and not partial and (table, columns[0]) in covering
    ]  # fmt: skip
    assert not redundant, f"indexes that a (business, key) index already serves: {redundant}"


def test_the_client_list_of_current_clients_has_no_second_name_index():
    """The current clients' list walks client_search_name (migration clients/0002); only the
    archived clients have a name index of their own."""
    by_columns = {
        name: (columns, partial) for table, name, columns, partial in indexes()
        if table == "clients_client" and columns[:3] == ["business_id", "last_name", "first_name"]
    }  # fmt: skip
    assert sorted(by_columns) == ["client_archived_name_idx", "client_search_name"]
    assert all(partial for _, partial in by_columns.values())
