"""Sales forms: the checkout page (a form and three formsets), products, feedback, void."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.forms import formset_factory
from django.utils import timezone

from clients.forms import ClientPickerWidget
from glamiti.templatetags.glamiti_tags import money
from sales import stripe_api
from sales.checkout import (
    ZERO,
    CheckoutError,
    ItemLine,
    PaymentLine,
    TipLine,
    Totals,
    checkout_totals,
)
from sales.models import ItemKind, PaymentMethod, Product, SavedCard

if TYPE_CHECKING:
    from django.http import QueryDict

    from appointments.models import Appointment, Service
    from glamiti.models import Business, TeamMember

MONEY = {"max_digits": 12, "decimal_places": 2}
MAX_ROWS = 50
# Methods staff can choose at the desk; "Saved card" joins them when Stripe is set up.
DESK_METHODS = [
    (PaymentMethod.CARD_TERMINAL.value, "Card (terminal)"),
    (PaymentMethod.CASH.value, "Cash"),
    (PaymentMethod.VOUCHER.value, "Voucher"),
]
SAVED_CARD_METHOD = (PaymentMethod.SAVED_CARD.value, "Saved card")


def card_label(card: SavedCard, today: datetime.date) -> str:
    expired = " — expired" if card.is_expired_on(today) else ""
    default = " (default)" if card.is_default else ""
    return (
        f"{card.brand.title()} •••• {card.last4}, "
        f"{card.exp_month:02d}/{card.exp_year % 100:02d}{default}{expired}"
    )


@dataclass
class ClientCards:
    """The saved cards of the client being checked out (one query), for every payment row."""

    cards: dict[int, SavedCard]
    client_chosen: bool

    @classmethod
    def load(cls, business: Business, client_id: object) -> ClientCards:
        if not stripe_api.is_configured():
            return cls({}, client_chosen=False)
        try:
            pk = int(str(client_id))
        except ValueError:
            return cls({}, client_chosen=False)
        cards = SavedCard.objects.filter(business=business, client_id=pk, removed_at__isnull=True)
        return cls({c.pk: c for c in cards.order_by("-is_default", "-id")}, client_chosen=True)

    def choices(self) -> list[tuple[str, str]]:
        if not self.client_chosen:
            return [("", "Choose the client first")]
        if not self.cards:
            return [("", "No saved cards for this client")]
        today = timezone.localdate()
        return [(str(pk), card_label(card, today)) for pk, card in self.cards.items()]


def money_input(placeholder: str = "0.00") -> forms.NumberInput:
    return forms.NumberInput(
        attrs={"step": "0.01", "min": "0", "inputmode": "decimal", "placeholder": placeholder}
    )


@dataclass
class Catalog:
    """What can be sold and who can be credited, loaded once per page (three queries), so
    every row of the formsets shares it instead of querying again."""

    business: Business
    services: dict[int, Service]
    products: dict[int, Product]
    team_members: dict[int, TeamMember]

    @classmethod
    def load(cls, business: Business, appointment: Appointment | None = None) -> Catalog:
        booked = [s.service_id for s in appointment.services.all()] if appointment else []
        services = business.services.filter(is_active=True) | business.services.filter(
            pk__in=booked
        )
        members = business.teammembers.filter(is_active=True)
        if appointment is not None:
            members = members | business.teammembers.filter(pk=appointment.team_member_id)
        return cls(
            business=business,
            services={s.pk: s for s in services.order_by("category", "name")},
            products={p.pk: p for p in business.products.filter(is_active=True)},
            team_members={m.pk: m for m in members.order_by("name")},
        )

    def item_choices(self) -> list:
        currency = self.business.currency
        choices: list = [("", "Choose…")]
        if self.services:
            choices.append(
                (
                    "Services",
                    [
                        (f"service:{s.pk}", f"{s.name} · {money(s.price, currency)}")
                        for s in self.services.values()
                    ],
                )
            )
        if self.products:
            choices.append(
                (
                    "Products",
                    [
                        (f"product:{p.pk}", f"{p.name} · {money(p.price, currency)}")
                        for p in self.products.values()
                    ],
                )
            )
        choices.append(("Vouchers", [("voucher", "Gift voucher")]))
        return choices

    def prices(self) -> dict[str, str]:
        prices = {f"service:{s.pk}": str(s.price) for s in self.services.values()}
        prices.update({f"product:{p.pk}": str(p.price) for p in self.products.values()})
        return prices

    def member_choices(self, empty: str) -> list:
        return [("", empty)] + [(str(m.pk), m.name) for m in self.team_members.values()]

    def member(self, value: str) -> TeamMember | None:
        return self.team_members.get(int(value)) if value else None


class PricedSelect(forms.Select):
    """A select whose options carry their catalogue price, for the page's live total."""

    def __init__(self, *args: Any, prices: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prices = prices or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if str(value) in self.prices:
            option["attrs"]["data-price"] = self.prices[str(value)]
        return option


# --- Checkout rows -----------------------------------------------------------------------


class ItemForm(forms.Form):
    item = forms.ChoiceField(label="Item")
    team_member = forms.ChoiceField(label="Team member", required=False)
    quantity = forms.IntegerField(
        label="Qty", min_value=1, max_value=999, initial=1, widget=forms.NumberInput()
    )
    unit_price = forms.DecimalField(
        label="Unit price",
        required=False,
        min_value=0,
        **MONEY,
        widget=money_input("Price"),
        help_text="Empty: the price list's.",
    )
    discount = forms.DecimalField(
        label="Discount", required=False, min_value=0, **MONEY, widget=money_input()
    )
    recipient_name = forms.CharField(
        label="Voucher for", required=False, max_length=120, help_text="Optional."
    )

    def __init__(self, *args: Any, catalog: Catalog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.catalog = catalog
        self.fields["item"].choices = catalog.item_choices()
        self.fields["item"].widget = PricedSelect(
            choices=self.fields["item"].choices, prices=catalog.prices()
        )
        self.fields["team_member"].choices = catalog.member_choices("—")
        self.line: ItemLine | None = None

    def clean(self) -> dict:
        data = super().clean()
        value = data.get("item")
        if not value or self.errors:
            return data
        kind, _, pk = value.partition(":")
        service = product = None
        if kind == ItemKind.SERVICE:
            service = self.catalog.services.get(int(pk))
            catalogue_price = service.price if service else None
        elif kind == ItemKind.PRODUCT:
            product = self.catalog.products.get(int(pk))
            catalogue_price = product.price if product else None
        else:
            catalogue_price = None
        price = data.get("unit_price")
        if price is None:
            price = catalogue_price
        if price is None:
            self.add_error("unit_price", "Enter the voucher's value.")
            return data
        quantity = data["quantity"]
        if kind == ItemKind.VOUCHER and quantity != 1:
            self.add_error("quantity", "One voucher per line, so that each gets its own code.")
            return data
        discount = data.get("discount") or ZERO
        if discount > price * quantity:
            self.add_error("discount", "The discount is more than this line is worth.")
            return data
        self.line = ItemLine(
            kind=kind,
            unit_price=price,
            quantity=quantity,
            discount=discount,
            service=service,
            product=product,
            team_member=self.catalog.member(data.get("team_member")),
            voucher_recipient_name=(
                data.get("recipient_name", "").strip() if kind == ItemKind.VOUCHER else ""
            ),
        )
        return data


class PaymentForm(forms.Form):
    method = forms.ChoiceField(
        label="Method", choices=DESK_METHODS, initial=PaymentMethod.CARD_TERMINAL
    )
    amount = forms.DecimalField(label="Amount", min_value=Decimal("0.01"), **MONEY)
    voucher_code = forms.CharField(
        label="Voucher code",
        required=False,
        max_length=30,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "XXXX-XXXX-XXXX"}
        ),
    )
    card = forms.ChoiceField(label="Card", required=False)

    def __init__(
        self,
        *args: Any,
        catalog: Catalog | None = None,
        cards: ClientCards | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].widget = money_input()
        self.cards = cards or ClientCards({}, client_chosen=False)
        if stripe_api.is_configured():
            self.fields["method"].choices = [*DESK_METHODS, SAVED_CARD_METHOD]
        self.fields["card"].choices = self.cards.choices()
        self.fields["card"].widget.attrs["data-card-options"] = ""

    def clean(self) -> dict:
        data = super().clean()
        method = data.get("method")
        if method == PaymentMethod.VOUCHER and not data.get("voucher_code"):
            self.add_error("voucher_code", "Enter the code printed on the voucher.")
        if method == PaymentMethod.SAVED_CARD:
            value = data.get("card") or ""
            if not value.isdigit() or int(value) not in self.cards.cards:
                message = (
                    "Choose one of the client's saved cards."
                    if self.cards.cards
                    else "This client has no saved card; add one from their Cards tab, or "
                    "choose another way to pay."
                    if self.cards.client_chosen
                    else "Choose the client whose saved card you are charging."
                )
                self.add_error("card", message)
        return data

    @property
    def line(self) -> PaymentLine:
        data = self.cleaned_data
        method = data["method"]
        code = data.get("voucher_code", "") if method == PaymentMethod.VOUCHER else ""
        card = None
        if method == PaymentMethod.SAVED_CARD and (data.get("card") or "").isdigit():
            card = self.cards.cards.get(int(data["card"]))
        return PaymentLine(method=method, amount=data["amount"], voucher_code=code, card=card)


class TipForm(forms.Form):
    team_member = forms.ChoiceField(label="Team member")
    amount = forms.DecimalField(
        label="Amount", required=False, min_value=Decimal("0.01"), **MONEY, widget=money_input()
    )
    percent = forms.DecimalField(
        label="or %",
        required=False,
        min_value=Decimal("0.01"),
        max_value=100,
        max_digits=5,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "placeholder": "%"}),
    )

    def __init__(self, *args: Any, catalog: Catalog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.catalog = catalog
        self.fields["team_member"].choices = catalog.member_choices("Choose…")

    def clean(self) -> dict:
        data = super().clean()
        if data.get("amount") is not None and data.get("percent") is not None:
            self.add_error("percent", "Give an amount or a percentage, not both.")
        elif data.get("amount") is None and data.get("percent") is None and not self.errors:
            self.add_error("amount", "Give an amount or a percentage.")
        return data

    @property
    def line(self) -> TipLine:
        data = self.cleaned_data
        return TipLine(
            team_member=self.catalog.member(data["team_member"]),
            amount=data.get("amount"),
            percent=data.get("percent"),
        )


class RowFormSet(forms.BaseFormSet):
    """A formset whose rows are counted only when filled in and not marked "Remove"."""

    def used_forms(self) -> list[forms.Form]:
        return [
            form
            for form in self.forms
            if not (self.can_delete and self._should_delete_form(form))
            and not (form.empty_permitted and not form.has_changed())
        ]


def _formset(form: type[forms.Form]) -> type[forms.BaseFormSet]:
    return formset_factory(
        form,
        formset=RowFormSet,
        extra=1,
        can_delete=True,
        max_num=MAX_ROWS,
        validate_max=True,
        absolute_max=MAX_ROWS,
    )


ItemFormSet = _formset(ItemForm)
PaymentFormSet = _formset(PaymentForm)
TipFormSet = _formset(TipForm)


class CheckoutForm(forms.Form):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    appointment = forms.IntegerField(required=False, widget=forms.HiddenInput)
    client = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Client",
        help_text="Leave empty for a walk-in.",
    )
    tip = forms.DecimalField(label="Tip", required=False, min_value=0, **MONEY)
    note = forms.CharField(label="Note", required=False, max_length=200)

    def __init__(self, *args: Any, business: Business, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = business.clients.active()
        self.fields["client"].widget = ClientPickerWidget(business=business)
        self.fields["tip"].widget = money_input()


# --- The page's forms together -------------------------------------------------------------


class CheckoutForms:
    """The checkout page: one form and three formsets, validated together.

    Turns valid rows into the service's lines and puts the service's errors back beside
    the row or section they are about.
    """

    def __init__(
        self,
        data: QueryDict | None,
        *,
        business: Business,
        catalog: Catalog,
        appointment: Appointment | None = None,
        client_id: str | None = None,
    ) -> None:
        self.business = business
        self.appointment = appointment
        initial, items, tips = self._initial(appointment)
        # "Check out" from a client's profile: that client, if they are one of ours.
        if appointment is None and client_id:
            try:
                pk = int(client_id)
            except ValueError:  # an edited link: no client, as for a walk-in
                pk = None
            if pk is not None and business.clients.active().filter(pk=pk).exists():
                initial["client"] = pk
        kwargs = {"form_kwargs": {"catalog": catalog}}
        self.form = CheckoutForm(data, business=business, initial=initial)
        self.items = ItemFormSet(data, prefix="items", initial=items, **kwargs)
        client_id = data.get("client") if data is not None else initial.get("client")
        self.cards = ClientCards.load(business, client_id)
        self.payments = PaymentFormSet(
            data, prefix="payments", form_kwargs={"catalog": catalog, "cards": self.cards}
        )
        self.tips = TipFormSet(data, prefix="tips", initial=tips, **kwargs)
        # Rows pre-filled from an appointment need no empty row after them ("Add" adds one).
        for formset, rows in [(self.items, items), (self.tips, tips)]:
            if rows:
                formset.extra = 0
        self.section_errors: dict[str, list[str]] = {"items": [], "payments": [], "tips": []}

    @staticmethod
    def _initial(appointment: Appointment | None) -> tuple[dict, list[dict], list[dict]]:
        initial = {"idempotency_key": uuid.uuid4()}
        if appointment is None:
            return initial, [], []
        initial.update(client=appointment.client_id, appointment=appointment.pk)
        items = [
            {
                "item": f"service:{booked.service_id}",
                "team_member": str(appointment.team_member_id),
                "quantity": 1,
                "unit_price": booked.price,
            }
            for booked in appointment.services.all()
        ]
        tips = [{"team_member": str(appointment.team_member_id), "percent": Decimal(100)}]
        return initial, items, tips

    @property
    def formsets(self) -> list[RowFormSet]:
        return [self.items, self.payments, self.tips]

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        for formset in self.formsets:
            valid = formset.is_valid() and valid
        if valid and not self.items.used_forms():
            self.section_errors["items"].append("Add at least one item to the sale.")
            valid = False
        return valid

    def item_lines(self) -> list[ItemLine]:
        return [f.line for f in self.items.used_forms() if f.is_valid() and f.line is not None]

    def payment_lines(self) -> list[PaymentLine]:
        return [f.line for f in self.payments.used_forms() if f.is_valid()]

    def tip_lines(self) -> list[TipLine]:
        return [f.line for f in self.tips.used_forms() if f.is_valid()]

    @property
    def tip(self) -> Decimal:
        if self.form.is_bound and self.form.is_valid():
            return self.form.cleaned_data.get("tip") or ZERO
        return ZERO

    def totals(self) -> Totals:
        """The figures of the rows filled in so far (for the summary beside the form)."""
        if not self.items.is_bound:
            lines = [
                ItemLine(kind=ItemKind.SERVICE, unit_price=row["unit_price"])
                for row in self.items.initial or []
            ]
            return checkout_totals(items=lines)
        return checkout_totals(items=self.item_lines(), tip=self.tip, payments=self.payment_lines())

    def add_error(self, error: CheckoutError) -> None:
        """Show the service's refusal beside the row or section it is about."""
        message = error.message
        sections = {"items": self.items, "payments": self.payments, "tips": self.tips}
        if error.section in sections:
            formset = sections[error.section]
            rows = formset.used_forms()
            if error.index is not None and error.index < len(rows):
                row = rows[error.index]
                field = None
                if error.section == "payments":
                    field = {
                        PaymentMethod.VOUCHER: "voucher_code",
                        PaymentMethod.SAVED_CARD: "card",
                    }.get(row.cleaned_data.get("method"))
                row.add_error(field, message)
            else:
                self.section_errors[error.section].append(message)
        elif error.section == "tip":
            self.form.add_error("tip", message)
        else:
            self.form.add_error(None, message)

    @property
    def section_messages(self) -> list[str]:
        return [message for messages in self.section_errors.values() for message in messages]

    @property
    def has_errors(self) -> bool:
        return bool(
            self.form.errors
            or any(fs.total_error_count() for fs in self.formsets)
            or any(self.section_errors.values())
        )


# --- Other forms ---------------------------------------------------------------------------


class ProductForm(forms.ModelForm):
    price = forms.DecimalField(label="Price", min_value=0, **MONEY, widget=money_input())

    class Meta:
        model = Product
        fields = ["name", "sku", "price", "is_active"]
        labels = {"is_active": "Active (can be sold)"}
        help_texts = {"sku": "Optional; unique within your business."}

    def __init__(self, *args: Any, business: Business, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.business = business

    def clean_sku(self) -> str:
        sku = self.cleaned_data["sku"].strip()
        # The (business, sku) constraint is not checked by the form: business isn't a field.
        taken = self.business.products.filter(sku__iexact=sku).exclude(pk=self.instance.pk)
        if sku and taken.exists():
            raise forms.ValidationError("Another product already has this SKU.")
        return sku


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="Rating",
        choices=[(n, f"{n} star{'s' if n > 1 else ''}") for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a rating from 1 to 5 stars."},
    )
    comment = forms.CharField(
        label="Comment", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class StaffFeedbackForm(FeedbackForm):
    team_member = forms.ModelChoiceField(queryset=None, required=False, label="About")

    def __init__(self, *args: Any, business: Business, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team_member"].queryset = business.teammembers.filter(is_active=True)
        self.fields["team_member"].empty_label = "The visit in general"


class VoidForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=200,
        help_text="Kept with the sale, e.g. “Rung up twice” or “Wrong client”.",
        error_messages={"required": "Give a reason for voiding this sale."},
    )
