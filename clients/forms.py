from __future__ import annotations

import calendar
import datetime
import io

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from clients.consent import CHANNELS as CONSENT_CHANNELS
from clients.consent import wording as consent_wording
from clients.masking import HIDDEN_FORM_FIELDS, masked_form_value
from clients.models import Client, Gender, ReferralSource, Tag
from clients.normalize import parse_phone
from glamiti.models import Business

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000  # refuse decompression bombs before decoding them
PHOTO_SIZE = (512, 512)
MONTHS = [(i, calendar.month_name[i]) for i in range(1, 13)]


class ClientPickerWidget(forms.HiddenInput):
    """A hidden client id plus a search box (see templates/clients/_picker_widget.html)."""

    template_name = "clients/_picker_widget.html"

    def __init__(self, *args, business: Business | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.business = business

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        selected = None
        if value and self.business is not None:
            try:
                selected = self.business.clients.filter(pk=value).first()
            except (ValueError, TypeError):  # sent back by a refused form: it may be anything
                selected = None
        context["widget"]["selected"] = selected
        context["widget"]["business"] = self.business
        return context


class ClientForm(forms.ModelForm):
    birth_day = forms.TypedChoiceField(
        label="Birthday: day",
        choices=[("", "Day")] + [(d, d) for d in range(1, 32)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    birth_month = forms.TypedChoiceField(
        label="Birthday: month",
        choices=[("", "Month")] + MONTHS,
        coerce=int,
        empty_value=None,
        required=False,
    )
    birth_year = forms.IntegerField(
        label="Birthday: year (if known)",
        required=False,
        min_value=1900,
        widget=forms.NumberInput(attrs={"placeholder": "Year", "inputmode": "numeric"}),
    )
    tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    # Querysets are set per business in __init__ (scoped managers refuse to query before).
    referral_source = forms.ModelChoiceField(
        queryset=ReferralSource.objects.none(), required=False, label="Referral source"
    )
    referred_by = forms.ModelChoiceField(queryset=Client.objects.none(), required=False)
    new_tags = forms.CharField(
        label="New tags",
        required=False,
        max_length=200,
        help_text="Separate several with commas, e.g. VIP, Colour client.",
    )

    class Meta:
        model = Client
        fields = [
            "first_name",
            "last_name",
            "email",
            "mobile_phone",
            "other_phone",
            "gender",
            "pronouns",
            "address_line1",
            "address_line2",
            "city",
            "region",
            "postal_code",
            "country",
            "referral_source",
            "referred_by",
            "email_marketing",
            "sms_marketing",
            "is_blocked",
            "blocked_reason",
            "alert",
            "photo",
        ]
        labels = {
            "email": "E-mail",
            "mobile_phone": "Mobile phone",
            "email_marketing": "Agrees to marketing e-mails",
            "sms_marketing": "Agrees to marketing text messages",
            "is_blocked": "Blocked from booking",
            "alert": "Alert",
            "country": "Country code",
        }
        help_texts = {
            "mobile_phone": "As you would dial it, or with the country code.",
            "other_phone": "",
            "alert": "Shown wherever the client appears, e.g. “Allergic to PPD”.",
            "country": "Two letters, e.g. GB. Leave empty for the business's country.",
            "photo": "JPEG, PNG or WebP, up to 10 MB. Location and camera data are removed.",
        }
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "mobile_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "other_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "photo": forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        }

    def __init__(self, *args, business: Business, masked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.business = business
        # Contact masking (clients/masking.py): a masked viewer editing a client gets these
        # fields empty, the mask as a placeholder; left empty, the stored value is kept.
        self.hidden_values: dict[str, str] = {}
        if masked and self.instance.pk:
            self._hide_stored_values()
        if self.instance.pk:
            self.initial.setdefault("birth_day", self.instance.birth_day)
            self.initial.setdefault("birth_month", self.instance.birth_month)
            self.initial.setdefault("birth_year", self.instance.birth_year)
        self.fields["tags"].queryset = business.tags.all()
        self.fields["gender"].choices = [("", "Not given"), *Gender.choices]
        self.fields["referral_source"].empty_label = "Not known"
        self.fields["referral_source"].queryset = business.referralsources.filter(is_active=True)
        referred = business.clients.active()
        if self.instance.pk:
            referred = referred.exclude(pk=self.instance.pk)
        self.fields["referred_by"].queryset = referred
        self.fields["referred_by"].widget = ClientPickerWidget(business=business)
        self.fields["referred_by"].label = "Referred by (another client)"
        for channel in CONSENT_CHANNELS:
            self.fields[f"{channel}_marketing"].help_text = f"Ask: “{consent_wording(channel)}”"

    def _hide_stored_values(self) -> None:
        for name in HIDDEN_FORM_FIELDS:
            stored = getattr(self.instance, name)
            self.hidden_values[name] = stored
            self.initial[name] = ""
            if stored:
                field = self.fields[name]
                field.widget.attrs["placeholder"] = masked_form_value(self.instance, name)
                field.help_text = "Hidden from you. Leave it empty to keep it, or type a new one."

    def _or_hidden(self, name: str, value: str) -> str:
        """An empty value for a hidden field keeps the stored one (the viewer never saw it)."""
        return value or self.hidden_values.get(name, value)

    def clean_first_name(self) -> str:
        value = " ".join(self.cleaned_data["first_name"].split())
        if not value:
            raise ValidationError("Enter a first name.")
        return value

    def clean_last_name(self) -> str:
        return self._or_hidden("last_name", " ".join(self.cleaned_data["last_name"].split()))

    def clean_email(self) -> str:
        return self._or_hidden("email", self.cleaned_data["email"].strip().lower())

    def clean_mobile_phone(self) -> str:
        value = parse_phone(self.cleaned_data["mobile_phone"], self.business.country)
        return self._or_hidden("mobile_phone", value)

    def clean_other_phone(self) -> str:
        value = parse_phone(self.cleaned_data["other_phone"], self.business.country)
        return self._or_hidden("other_phone", value)

    def clean_country(self) -> str:
        value = self.cleaned_data["country"].strip().upper()
        if value and (len(value) != 2 or not value.isalpha()):
            raise ValidationError("Use the two-letter country code, e.g. GB or IE.")
        return value

    def clean_new_tags(self) -> list[str]:
        names = [" ".join(n.split()) for n in self.cleaned_data["new_tags"].split(",")]
        names = [n for n in names if n]
        if any(len(n) > 40 for n in names):
            raise ValidationError("Keep each tag under 40 characters.")
        return list(dict.fromkeys(names))

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if not photo or not hasattr(photo, "content_type"):
            return photo  # unchanged, or cleared
        return process_photo(photo)

    def clean(self) -> dict:
        cleaned = super().clean()
        day, month, year = (cleaned.get(f) for f in ("birth_day", "birth_month", "birth_year"))
        if (day is None) != (month is None):
            self.add_error("birth_day", "Give both the day and the month, or neither.")
        elif day is not None:
            leap_year = 2000  # a day and month without a year may be 29 February
            try:
                birthday = datetime.date(year or leap_year, month, day)
            except ValueError:
                self.add_error("birth_day", "That date doesn't exist.")
            else:
                if year is not None and birthday > timezone.localdate():
                    self.add_error("birth_year", "A birthday can't be in the future.")
        elif year is not None:
            self.add_error("birth_day", "Give the day and month too, or leave the year empty.")
        if cleaned.get("is_blocked") and not cleaned.get("blocked_reason", "").strip():
            self.add_error("blocked_reason", "Say why, so that colleagues know.")
        return cleaned


def process_photo(upload) -> InMemoryUploadedFile:
    """Check an uploaded image by its content and re-encode it: resized, no metadata."""
    if upload.size > MAX_PHOTO_BYTES:
        raise ValidationError("This photo is larger than 10 MB.")
    try:
        with Image.open(upload) as probe:
            if probe.format not in {"JPEG", "PNG", "WEBP"}:
                raise ValidationError("Upload a JPEG, PNG or WebP photo.")
            if probe.width * probe.height > MAX_PHOTO_PIXELS:
                raise ValidationError("This image has too many pixels to be a photo.")
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail(PHOTO_SIZE)
            clean = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ValidationError("This file isn't an image we can read.") from error
    buffer = io.BytesIO()
    clean.save(buffer, format="JPEG", quality=85, optimize=True)  # no exif: metadata dropped
    size = buffer.tell()
    buffer.seek(0)
    return InMemoryUploadedFile(buffer, "photo", "photo.jpg", "image/jpeg", size, None)


class BusinessListItemForm(forms.ModelForm):
    """A named item of a business's own list (tags, referral sources): unique per business."""

    def __init__(self, *args, business: Business, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.business = business

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        siblings = type(self.instance).objects.filter(
            business=self.instance.business, name__iexact=name
        )
        if siblings.exclude(pk=self.instance.pk).exists():
            raise ValidationError(f"“{name}” is already on the list.")
        return name


class TagForm(BusinessListItemForm):
    class Meta:
        model = Tag
        fields = ["name", "color"]
        labels = {"name": "Tag"}
        widgets = {"color": forms.TextInput(attrs={"type": "color"})}


class ReferralSourceForm(BusinessListItemForm):
    class Meta:
        model = ReferralSource
        fields = ["name"]
        labels = {"name": "Referral source"}
