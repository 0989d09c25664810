from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms

from clients.forms import ClientPickerWidget
from clients.models import Client
from glamiti.models import Business
from vouchers.services import DEFAULT_VALIDITY_MONTHS, add_months, business_today


class VoucherAdjustForm(forms.Form):
    amount = forms.DecimalField(
        label="Change to the balance",
        max_digits=12,
        decimal_places=2,
        help_text="Positive adds to the balance, negative removes, e.g. -10.00.",
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    note = forms.CharField(
        label="Reason",
        max_length=200,
        help_text="Kept in the voucher's history, e.g. “Redeemed on paper during the outage”.",
    )

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("Enter an amount other than zero.")
        return amount

    def clean_note(self) -> str:
        note = self.cleaned_data["note"].strip()
        if not note:
            raise forms.ValidationError("Say why the balance is being corrected.")
        return note


class VoucherIssueForm(forms.Form):
    """A complimentary voucher (no purchaser): goodwill, a prize, a staff gift."""

    value = forms.DecimalField(
        label="Value",
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal", "min": "0.01"}),
    )
    recipient = forms.ModelChoiceField(
        label="For client",
        queryset=Client.objects.none(),
        required=False,
        help_text="Optional: the client who will use it.",
    )
    recipient_name = forms.CharField(
        label="Or for someone who is not a client yet",
        max_length=120,
        required=False,
        help_text="The name written on the voucher.",
    )
    expires_on = forms.DateField(
        label="Expires on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(
        label="Note",
        max_length=200,
        required=False,
        help_text="Why it was given, e.g. “Apology for the late appointment”.",
    )

    def __init__(self, *args, business: Business, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = business_today(business)
        default_expiry = add_months(self.today, DEFAULT_VALIDITY_MONTHS)
        self.fields["recipient"].queryset = business.clients.active()
        self.fields["recipient"].widget = ClientPickerWidget(business=business)
        expires = self.fields["expires_on"]
        expires.help_text = (
            f"Leave empty for 12 months: {default_expiry.day} {default_expiry:%B %Y}."
        )
        expires.widget.attrs["min"] = self.today.isoformat()

    def clean_expires_on(self) -> datetime.date | None:
        expires_on = self.cleaned_data["expires_on"]
        if expires_on and expires_on < self.today:
            raise forms.ValidationError("The expiry date cannot be in the past.")
        return expires_on
