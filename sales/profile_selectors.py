"""What the client profile reads about sales: the overview's totals, spending per month, the
timeline rows, and the Sales, Feedback, Tips and Cards tabs."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import (
    Avg,
    BigIntegerField,
    Count,
    DateTimeField,
    F,
    IntegerField,
    Max,
    Min,
    Prefetch,
    QuerySet,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Cast, TruncMonth

from clients.profile_common import month_key, timeline_rows
from glamiti.models import TeamMember
from sales.models import Feedback, Sale, SaleStatus, SavedCard, TipAllocation

if TYPE_CHECKING:
    from clients.models import Client

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def client_sales_summary(client: Client) -> dict:
    """Total sales with their split into services, products and vouchers bought, the tips,
    the number of paid sales and the first and last of them: one aggregate query.

    Only paid sales count (`SaleQuerySet.counted()`): open and voided sales are left out.
    Tips are not sales: they go to the team.
    """
    totals = (
        client.sales.counted()
        .order_by()
        .aggregate(
            count=Count("status"),
            total=Sum("total", default=ZERO),
            services=Sum("services_total", default=ZERO),
            products=Sum("products_total", default=ZERO),
            vouchers=Sum("vouchers_total", default=ZERO),
            tips=Sum("tip_total", default=ZERO),
            first_sale=Min("created_at"),
            last_sale=Max("created_at"),
        )
    )
    totals["average"] = (totals["total"] / totals["count"]) if totals["count"] else None
    return totals


def client_spend_per_month(client: Client, *, since: datetime.datetime) -> QuerySet:
    """Paid sales per month since `since` as rows (month, visits=0, spend), to UNION with the
    appointments app's visits per month."""
    return (
        client.sales.counted()
        .filter(created_at__gte=since)
        .annotate(month=TruncMonth("created_at"))
        .order_by()
        .values("month")
        .annotate(visits=Value(0, output_field=IntegerField()), spend=Sum("total"))
        .values("month", "visits", "spend")
    )


def client_sale_timeline(client: Client) -> QuerySet:
    return timeline_rows(
        client.sales.all(),
        kind="sale",
        at="created_at",
        status="status",
        amount="total",
        tip="tip_total",
        text="note",
    )


def client_feedback_timeline(client: Client) -> QuerySet:
    return timeline_rows(
        client.feedback.all(),
        kind="feedback",
        at="created_at",
        status="source",
        rating="rating",
        person="team_member__name",
        text="comment",
        ref_id="sale_id",
    )


# --- Sales tab ---------------------------------------------------------------------------


def client_sales(client: Client) -> QuerySet[Sale]:
    """Every sale of the client (voided ones too, marked as such), newest first, with its
    items and payments (two more queries per page, not per sale)."""
    return client.sales.prefetch_related("items", "payments").order_by("-created_at", "-id")


# --- Feedback tab ------------------------------------------------------------------------


def client_feedback_summary(client: Client) -> dict:
    return client.feedback.order_by().aggregate(average=Avg("rating"), count=Count("rating"))


def client_feedback(client: Client) -> QuerySet[Feedback]:
    return client.feedback.select_related("team_member", "sale", "appointment").order_by(
        "-created_at", "-id"
    )


# --- Tips tab ----------------------------------------------------------------------------


@dataclass
class MemberTips:
    team_member: TeamMember
    total: Decimal = ZERO
    count: int = 0


@dataclass
class TipSummary:
    total: Decimal = ZERO
    by_member: list[MemberTips] = field(default_factory=list)
    by_month: dict[datetime.date, Decimal] = field(default_factory=dict)


def client_tip_summary(client: Client, *, since: datetime.datetime) -> TipSummary:
    """The client's tips per team member (all time) and per month (since `since`): one
    UNION query of two small groupings, however many tips there are.

    Only paid sales count. Per member: the allocations (who received what); per month: the
    sales' tip totals (checkout always allocates the whole tip, so the two agree).
    """
    paid = {"sale__client": client, "sale__status": SaleStatus.COMPLETED}
    none_id = Cast(Value(None), output_field=BigIntegerField())
    per_member = (
        TipAllocation.objects.filter(**paid)
        .order_by()
        .values("team_member_id")
        .annotate(
            g_member=F("team_member_id"),
            g_name=F("team_member__name"),
            g_month=Cast(Value(None), output_field=DateTimeField()),
            g_total=Sum("amount"),
            g_count=Count("amount"),
        )
        .values("g_member", "g_name", "g_month", "g_total", "g_count")
    )
    per_month = (
        client.sales.counted()
        .filter(tip_total__gt=0, created_at__gte=since)
        .annotate(month=TruncMonth("created_at"))
        .order_by()
        .values("month")
        .annotate(
            g_member=none_id,
            g_name=Cast(Value(None), output_field=TextField()),
            g_month=F("month"),
            g_total=Sum("tip_total"),
            g_count=Count("tip_total"),
        )
        .values("g_member", "g_name", "g_month", "g_total", "g_count")
    )
    summary = TipSummary()
    for row in per_member.union(per_month, all=True):
        row["g_total"] = Decimal(row["g_total"]).quantize(CENT)  # SQLite returns floats
        if row["g_member"] is not None:
            member = TeamMember(pk=row["g_member"], name=row["g_name"])
            summary.by_member.append(MemberTips(member, row["g_total"], row["g_count"]))
            summary.total += row["g_total"]
        else:
            summary.by_month[month_key(row["g_month"])] = row["g_total"]
    summary.by_member.sort(key=lambda m: (-m.total, m.team_member.name))
    return summary


def client_tipped_sales(client: Client) -> QuerySet[Sale]:
    """Paid sales with a tip, newest first, each with who received it."""
    allocations = TipAllocation.objects.select_related("team_member").order_by("-amount", "id")
    return (
        client.sales.counted()
        .filter(tip_total__gt=0)
        .prefetch_related(Prefetch("tips", queryset=allocations))
        .order_by("-created_at", "-id")
    )


# --- Cards tab ---------------------------------------------------------------------------


def client_saved_cards(client: Client) -> list[SavedCard]:
    return list(client.saved_cards.filter(removed_at__isnull=True).order_by("-is_default", "-id"))
