"""Indexes for client search on PostgreSQL (see clients/search.py); nothing on SQLite.

- client_search_trgm: trigram GIN over the derived search columns, led by the business so a
  search reads only its own business's entries. btree_gin (PostgreSQL 15) has no int8 = int4
  operator and Django writes the business id as an integer literal, so the business is
  indexed, and searched, as text.
- client_search_name: the name order of the list with the search columns included, so the
  first rows in name order can be searched without reading the table.
- client_search_business: tells the planner the two business conditions are one (without
  it, it halves its row estimates).
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "CREATE INDEX client_search_trgm ON clients_client USING gin"
    " ((business_id::text), search_text gin_trgm_ops, phone_digits gin_trgm_ops)",
    "CREATE INDEX client_search_name ON clients_client"
    " (business_id, last_name, first_name, id) INCLUDE (search_text, phone_digits)"
    " WHERE archived_at IS NULL",
    "CREATE STATISTICS client_search_business (dependencies)"
    " ON business_id, (business_id::text) FROM clients_client",
    "ANALYZE clients_client",
]
# The extensions stay: other indexes may use them.
BACKWARD = [
    "DROP STATISTICS IF EXISTS client_search_business",
    "DROP INDEX IF EXISTS client_search_name",
    "DROP INDEX IF EXISTS client_search_trgm",
]


def run(statements: list[str]):
    def operation(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("clients", "0002_notes_documents")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD), elidable=False)]
