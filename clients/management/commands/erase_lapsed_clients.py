"""Apply each business's retention rule: erase clients not seen for its number of years.

Businesses without a rule (`retention_years` empty) are skipped. Clients with an open
voucher balance are held back. Each client is erased in its own transaction, so one that
fails (Stripe or the file store unreachable) is reported and the others go ahead; running
the command again retries it. Safe to run as often as you like, e.g. nightly from cron.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clients.privacy import PrivacyError, client_erase, retention_erasable, retention_plan
from glamiti.models import Business
from glamiti.tenancy import tenant_context


class Command(BaseCommand):
    help = "Erase clients with no visit for the number of years each business has set."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only say what would be erased.")
        parser.add_argument("--business", help="Only this business (its slug).")

    def handle(self, *args, **options) -> None:
        businesses = Business.objects.filter(retention_years__isnull=False).order_by("pk")
        if options["business"]:
            businesses = businesses.filter(slug=options["business"])
            if not businesses.exists():
                raise CommandError(f"No business {options['business']!r} with a retention rule.")
        dry_run = options["dry_run"]
        totals = {"erased": 0, "held": 0, "failed": 0}
        for business in businesses.iterator():
            erased, held, failed = self._business(business, dry_run=dry_run)
            totals["erased"] += erased
            totals["held"] += held
            totals["failed"] += failed
        verb = "would be erased" if dry_run else "erased"
        self.stdout.write(
            f"Total: {totals['erased']} client(s) {verb}, {totals['held']} held back, "
            f"{totals['failed']} failed."
        )
        if totals["failed"]:
            raise CommandError(f"{totals['failed']} erasure(s) failed; run again to retry.")

    def _business(self, business: Business, *, dry_run: bool) -> tuple[int, int, int]:
        with tenant_context(business):
            plan = retention_plan(business)
        verb = "would be erased" if dry_run else "erased"
        erased = failed = 0
        for candidate in plan.erasable:
            if dry_run:
                erased += 1
                continue
            try:
                with tenant_context(business):
                    # Planned a moment ago: check again inside this client's transaction.
                    client = retention_erasable(business, candidate.pk)
                    if client is not None:
                        client_erase(client=client, by=None)
                        erased += 1
            except PrivacyError as error:
                failed += 1
                self.stderr.write(f"{business.slug}: client #{candidate.pk}: {error.message}")
        self.stdout.write(
            f"{business.name} ({business.slug}, {business.retention_years} years): "
            f"{erased} client(s) {verb}, {plan.held_back_count} held back "
            f"(open voucher balance)" + (f", {failed} failed" if failed else "") + "."
        )
        return erased, plan.held_back_count, failed
