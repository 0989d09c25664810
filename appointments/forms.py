from __future__ import annotations

import datetime
import zoneinfo

from django import forms
from django.core.exceptions import ValidationError

from appointments.models import Service
from clients.forms import ClientPickerWidget
from clients.models import Client
from glamiti.models import Business, TeamMember

CANCEL_REASONS = [
    "Client canceled",
    "Client is unwell",
    "Booked by mistake",
    "Team member unavailable",
    "Salon closed",
]


class StartFieldsMixin:
    """A date and a start time, read together as an aware datetime in the business's zone."""

    business: Business
    cleaned_data: dict

    def start_at(self) -> datetime.datetime | None:
        day, time = self.cleaned_data.get("date"), self.cleaned_data.get("start_time")
        if day is None or time is None:
            return None
        zone = zoneinfo.ZoneInfo(self.business.time_zone)
        local = datetime.datetime.combine(day, time, tzinfo=zone)
        # A wall-clock time skipped when the clocks go forward doesn't survive a round trip.
        if local.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None) != local.replace(
            tzinfo=None
        ):
            raise ValidationError(
                {"start_time": "That time doesn't exist on this day: the clocks go forward."}
            )
        return local

    def clean(self) -> dict:
        cleaned = super().clean()  # type: ignore[misc]
        day = cleaned.get("date")
        if day is not None and not 2000 <= day.year <= 2100:
            self.add_error("date", "Choose a date between 2000 and 2100.")  # type: ignore[attr-defined]
            return cleaned
        cleaned["start_at"] = self.start_at()
        return cleaned


def date_field(label: str = "Date") -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}))


def time_field(label: str = "Start time") -> forms.TimeField:
    return forms.TimeField(
        label=label,
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M"),
        error_messages={"invalid": "Enter a time such as 14:30."},
    )


def team_member_field(business: Business) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label="Team member",
        queryset=business.teammembers.filter(is_active=True),
        empty_label="Choose…",
        error_messages={"required": "Choose who the appointment is with."},
    )


class ServiceChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Service) -> str:
        return obj.name


class BookingForm(StartFieldsMixin, forms.Form):
    client = forms.ModelChoiceField(
        queryset=Client.objects.none(),
        error_messages={
            "required": "Choose the client, or add a new one.",
            "invalid_choice": "That client can't be booked: they may have been archived.",
        },
    )
    team_member = forms.ModelChoiceField(queryset=TeamMember.objects.none())
    date = date_field()
    start_time = time_field()
    services = ServiceChoiceField(
        queryset=Service.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one service.",
            "invalid_choice": "One of those services is no longer offered.",
        },
    )
    notes = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Seen by the team on the appointment, e.g. “Bring reference photos”.",
    )

    def __init__(self, *args, business: Business, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.business = business
        self.fields["client"].queryset = business.clients.active()
        self.fields["client"].widget = ClientPickerWidget(business=business)
        self.fields["team_member"] = team_member_field(business)
        self.fields["services"].queryset = business.services.filter(is_active=True)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is it canceled?",
        max_length=200,
        widget=forms.TextInput(attrs={"list": "cancel-reasons", "autocomplete": "off"}),
        error_messages={"required": "Say why the appointment is canceled."},
    )


class RescheduleForm(StartFieldsMixin, forms.Form):
    team_member = forms.ModelChoiceField(queryset=TeamMember.objects.none())
    date = date_field("New date")
    start_time = time_field("New start time")

    def __init__(self, *args, business: Business, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.business = business
        self.fields["team_member"] = team_member_field(business)


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = ["name", "category", "duration_minutes", "price", "is_active"]
        labels = {
            "duration_minutes": "Duration (minutes)",
            "is_active": "Offered (can be booked)",
        }
        help_texts = {
            "category": "Groups services on the booking form, e.g. Hair, Nails, Colour.",
            "price": "The usual price; each appointment keeps the price it was booked at.",
            "is_active": "Untick to stop booking it; past appointments keep it.",
        }
        widgets = {
            "category": forms.TextInput(attrs={"list": "service-categories"}),
            "duration_minutes": forms.NumberInput(attrs={"min": 5, "max": 720, "step": 5}),
            "price": forms.NumberInput(attrs={"min": 0, "step": "0.01", "inputmode": "decimal"}),
        }

    def __init__(self, *args, business: Business, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.business = business
        self.business = business

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        others = self.business.services.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(f"There is already a service called “{name}”.")
        return name

    def clean_category(self) -> str:
        return " ".join(self.cleaned_data["category"].split())

    def clean_duration_minutes(self) -> int:
        minutes = self.cleaned_data["duration_minutes"]
        if not 5 <= minutes <= 720:
            raise ValidationError("Give a duration between 5 minutes and 12 hours.")
        return minutes

    def clean_price(self):
        price = self.cleaned_data["price"]
        if price < 0:
            raise ValidationError("A price can't be negative.")
        return price
