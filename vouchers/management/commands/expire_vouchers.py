"""Record an "Expired" ledger entry for vouchers that expired with a balance left.

Safe to run as often as you like (e.g. nightly from cron): each voucher gets one entry.
Statuses do not depend on it — they are derived from the expiry date — it only makes the
moment of expiry visible in each voucher's history.
"""

from django.core.management.base import BaseCommand

from glamiti.models import Business
from glamiti.tenancy import tenant_context
from vouchers.services import business_today, voucher_expire_due


class Command(BaseCommand):
    help = "Record expiry in the history of vouchers that expired with a balance left."

    def handle(self, *args, **options) -> None:
        total = 0
        for business in Business.objects.order_by("pk").iterator():
            with tenant_context(business):
                total += voucher_expire_due(business=business, on=business_today(business))
        self.stdout.write(f"Recorded expiry of {total} voucher(s).")
