"""Forms for the profile's Notes tab: they validate; clients.notes does the writing."""

from __future__ import annotations

from django import forms

from clients.models import ClientNote, DocumentKind, NoteKind
from clients.notes import ACCEPTED_LABEL, MAX_DOCUMENT_BYTES, DocumentRejected, prepare_document


class NoteForm(forms.ModelForm):
    kind = forms.ChoiceField(
        choices=NoteKind.choices,
        initial=NoteKind.PREFERENCE,
        help_text="Allergies show in the alert banner at the top of the profile.",
    )
    text = forms.CharField(
        label="Note",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = ClientNote
        fields = ["kind", "text"]

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError("Write the note before saving it.")
        return text


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(choices=DocumentKind.choices, initial=DocumentKind.CONSENT)
    title = forms.CharField(
        max_length=120, required=False, help_text="Optional; the file name is used otherwise."
    )
    file = forms.FileField(
        help_text=f"{ACCEPTED_LABEL}, up to {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB.",
        widget=forms.FileInput(
            attrs={"accept": "application/pdf,image/jpeg,image/png,image/heic,.heic,.heif"}
        ),
    )

    def clean_file(self):
        try:
            return prepare_document(self.cleaned_data["file"])
        except DocumentRejected as error:
            raise forms.ValidationError(str(error)) from error
