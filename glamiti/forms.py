from decimal import Decimal

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.forms.renderers import TemplatesSetting

from glamiti.models import Business, TeamMember, time_zone_choices


class GlamitiFormRenderer(TemplatesSetting):
    """Every form renders its fields through our templates: label, help, errors beside the field."""

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="Username or e-mail",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username or e-mail and password don't match. "
        "Passwords are case-sensitive.",
    }


class BusinessForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=time_zone_choices)
    # Optional in the form (empty means no fee), so older forms and API posts still save.
    no_show_fee = forms.DecimalField(
        label="No-show fee",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
        help_text="Charged to the client's default saved card when staff ask for it, on an "
        "appointment marked as a no-show. Leave at 0 for no fee.",
    )

    class Meta:
        model = Business
        fields = [
            "name",
            "time_zone",
            "currency",
            "country",
            "locale",
            "no_show_fee",
            "mask_contacts_from_staff",
            "retention_years",
        ]
        help_texts = {
            "country": "Two-letter code such as GB, IE, US or FR.",
            "retention_years": "Leave empty to keep clients until you erase them. Clients with "
            "no visit, sale or booking for this many years are erased (GDPR) when the "
            "scheduled job runs; those with an open voucher balance are held back.",
        }

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    def clean_no_show_fee(self) -> Decimal:
        return self.cleaned_data.get("no_show_fee") or Decimal("0")

    def clean_retention_years(self) -> int | None:
        years = self.cleaned_data.get("retention_years")
        if years is not None and not 1 <= years <= 100:
            raise forms.ValidationError(
                "Enter a number of years from 1 to 100, or leave it empty to keep clients."
            )
        return years


class TeamMemberForm(forms.ModelForm):
    class Meta:
        model = TeamMember
        fields = ["name", "job_title", "email", "phone", "color", "is_active"]
        widgets = {"color": forms.TextInput(attrs={"type": "color"})}
        labels = {"is_active": "Active (takes bookings and tips)"}
