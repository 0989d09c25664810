"""Forms of the import pages: they validate; clients/imports.py does the work."""

from __future__ import annotations

from django import forms

from clients.imports_fields import FIELDS, FIELDS_BY_KEY, NAME_KEYS
from clients.models import ClientImport, DuplicateMode

ACCEPT = (
    ".csv,.xlsx,.txt,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Client file",
        help_text="A .csv or .xlsx file, up to 50 MB or 1,000,000 rows.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        error_messages={"empty": "The file is empty.", "required": "Choose a file to upload."},
    )


def field_choices() -> list:
    groups: dict[str, list[tuple[str, str]]] = {}
    for field in FIELDS:
        groups.setdefault(field.group, []).append((field.key, field.label))
    return [("", "Don't import"), *groups.items()]


class MappingForm(forms.Form):
    """One select per column of the file, plus the import's options."""

    keep_unmapped = forms.BooleanField(
        label="Keep the columns I don't import as a note on each client", required=False
    )
    duplicate_mode = forms.ChoiceField(
        label="When a row matches a client you already have (same e-mail or phone)",
        choices=DuplicateMode.choices,
        widget=forms.RadioSelect,
        initial=DuplicateMode.SKIP,
    )

    def __init__(self, imp: ClientImport, *args, **kwargs) -> None:
        initial = {
            "keep_unmapped": imp.options.get("keep_unmapped", False),
            "duplicate_mode": imp.duplicate_mode,
        }
        for index, key in enumerate(imp.mapping):
            initial[f"column_{index}"] = key
        super().__init__(*args, initial=initial, **kwargs)
        self.imp = imp
        choices = field_choices()
        self.columns = []
        samples = imp.options.get("samples", [])
        for index, header in enumerate(imp.headers):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(label=header, choices=choices, required=False)
            values = [row[index] for row in samples if index < len(row) and row[index]]
            self.columns.append((self[name], header, values[:3]))

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"column_{i}", "") for i in range(len(self.imp.headers))]

    def clean(self) -> dict:
        cleaned = super().clean()
        chosen: dict[str, list[str]] = {}
        for index, header in enumerate(self.imp.headers):
            key = cleaned.get(f"column_{index}")
            if key:
                chosen.setdefault(key, []).append(header)
        if not any(key in chosen for key in NAME_KEYS):
            raise forms.ValidationError(
                "Choose the column that holds the client's name (first name, last name or "
                "full name)."
            )
        for key, headers in chosen.items():
            if len(headers) > 1 and not FIELDS_BY_KEY[key].repeatable:
                label = FIELDS_BY_KEY[key].label
                raise forms.ValidationError(
                    f"“{headers[0]}” and “{headers[1]}” are both set to {label}. "
                    "Choose one of them, or don't import the other."
                )
        return cleaned


class DuplicateModeForm(forms.Form):
    duplicate_mode = forms.ChoiceField(
        label="Rows that match a client you already have",
        choices=DuplicateMode.choices,
        widget=forms.RadioSelect,
    )
