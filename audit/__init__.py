"""The audit trail: who changed what about a client or money, when, and from where.

Library: django-auditlog, with our own entry model (`audit.AuditEntry`, swapped in through
`AUDITLOG_LOGENTRY_MODEL`). Why this one rather than django-simple-history:
- auditlog stores the *change* (field: [old, new]) when it happens, in one table. The
  activity log is one indexed range of that table (business, client, time), one page one
  query; with simple-history's full-row snapshots in one history table per model, every
  page would be a UNION over five tables plus a diff of each row against the one before.
- Erasure keeps each entry's who, when and which field while dropping the values: a
  snapshot holds the whole row, a diff holds only the values there are to drop.
- An import writes one small entry per client in one INSERT … SELECT into one table,
  instead of a copy of every imported row into a history table (twice the personal data).
- The entry model is ours, so it is a tenant row like any other: `business` with forced
  row-level security, plus the client it is about, the source and the event. (auditlog's
  stock LogEntry has no business column, and is not created: MIGRATION_MODULES.)
django-pghistory (database triggers) was ruled out: PostgreSQL only, and the project also
runs on SQLite.

What is recorded (audit/registry.py): clients, their notes, documents and tags; sales and
their items, payments, tips; saved cards, card charges, Stripe customers; vouchers and their
ledger. Through auditlog's signals for `save()`/`delete()`, through `AuditedQuerySet` for
`bulk_create`/`update`, and in bulk SQL by the import (audit/imports.py). Merges add an entry
on the kept client (audit/merges.py). The source (web, import, admin, webhook, command) and
the user come from `audit.context`, set where the work starts. Secrets are never recorded:
voucher codes, feedback-link tokens, card numbers, password hashes.
"""
