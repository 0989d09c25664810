from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from import_export.admin import ImportExportMixin
from import_export.forms import ConfirmImportForm, ImportForm

from clients.consent import CHANNELS as CONSENT_CHANNELS
from clients.consent import consent_record, consent_set
from clients.models import (
    Client,
    ClientDocument,
    ClientImport,
    ClientImportChange,
    ClientImportProblem,
    ClientMerge,
    ClientNote,
    ClientTag,
    ConsentRecord,
    ConsentSource,
    ReferralSource,
    Tag,
)
from clients.resources import ClientResource
from glamiti.admin import TenantAdmin
from glamiti.models import Business


class ConsentRecordInline(admin.TabularInline):
    """The client's consent history, read only: records are added, never edited."""

    model = ConsentRecord
    extra = 0
    can_delete = False
    fields = readonly_fields = ["channel", "given", "recorded_at", "source", "verified",
                                "wording_version", "recorded_by", "client_import"]  # fmt: skip
    ordering = ["-recorded_at", "-id"]

    def has_add_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


class ClientTagInline(admin.TabularInline):
    model = ClientTag
    extra = 0
    raw_id_fields = ["tag"]
    exclude = ["business"]


class BusinessImportForm(ImportForm):
    business = forms.ModelChoiceField(
        queryset=Business.objects.order_by("name"),
        help_text="Every row is imported into this business; a business column in the file "
        "is ignored.",
    )


class BusinessConfirmImportForm(ConfirmImportForm):
    business = forms.ModelChoiceField(queryset=Business.objects.all(), widget=forms.HiddenInput)


@admin.register(Client)
class ClientAdmin(ImportExportMixin, TenantAdmin):
    list_display = ["__str__", "business", "email", "mobile_phone", "created_at", "archived_at"]
    search_fields = ["first_name", "last_name", "email", "mobile_phone", "external_id"]
    raw_id_fields = ["referred_by", "referral_source", "merged_into", "created_by"]
    readonly_fields = ["search_text", "phone_digits", "last_visit_at", "total_spend"]
    show_full_result_count = False  # counting a million rows on every page is not worth it
    # Import and export for platform admins, through the same fields as the app's import.
    resource_classes = [ClientResource]
    import_form_class = BusinessImportForm
    confirm_form_class = BusinessConfirmImportForm
    inlines = [ConsentRecordInline]

    def save_model(self, request, obj, form, change):  # noqa: ANN001, ANN201
        """A consent answer changed here is dated and recorded like any other."""
        changed = [c for c in CONSENT_CHANNELS if f"{c}_marketing" in form.changed_data]
        for channel in changed:
            given = form.cleaned_data[f"{channel}_marketing"]
            consent_set(obj, channel, given, was=not given, source=ConsentSource.ADMIN)
        super().save_model(request, obj, form, change)
        consent_record(obj, changed, by=request.user)

    def get_formset_kwargs(self, request, obj, inline, prefix):  # noqa: ANN001, ANN201
        """The client's consent records looked up with the business: the index on them leads
        with it (the platform admin bypasses row-level security, which would add it)."""
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if obj is not None and obj.pk:
            kwargs["queryset"] = kwargs["queryset"].filter(business_id=obj.business_id)
        return kwargs

    def get_confirm_form_initial(self, request, import_form):  # noqa: ANN001, ANN201
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["business"] = import_form.cleaned_data["business"].pk
        return initial

    def get_import_resource_kwargs(self, request, **kwargs):  # noqa: ANN001, ANN003, ANN201
        kwargs = super().get_import_resource_kwargs(request, **kwargs)
        form = kwargs.pop("form", None)
        cleaned = getattr(form, "cleaned_data", None) or {}
        if cleaned.get("business"):
            kwargs["business"] = cleaned["business"]
        return kwargs

    def get_export_resource_kwargs(self, request, **kwargs):  # noqa: ANN001, ANN003, ANN201
        kwargs = super().get_export_resource_kwargs(request, **kwargs)
        kwargs.pop("form", None)
        return kwargs


@admin.register(Tag)
class TagAdmin(TenantAdmin):
    list_display = ["name", "business", "color"]
    search_fields = ["name"]


@admin.register(ReferralSource)
class ReferralSourceAdmin(TenantAdmin):
    list_display = ["name", "business", "is_active"]
    search_fields = ["name"]


@admin.register(ClientTag)
class ClientTagAdmin(TenantAdmin):
    list_display = ["client", "tag", "business"]
    raw_id_fields = ["client", "tag"]


@admin.register(ClientMerge)
class ClientMergeAdmin(TenantAdmin):
    list_display = ["kept", "merged", "business", "created_at", "undone_at"]
    raw_id_fields = ["kept", "merged", "merged_by", "undone_by"]


@admin.register(ClientNote)
class ClientNoteAdmin(TenantAdmin):
    list_display = ["client", "business", "kind", "is_pinned", "created_at"]
    raw_id_fields = ["client", "created_by", "updated_by"]


@admin.register(ClientDocument)
class ClientDocumentAdmin(TenantAdmin):
    list_display = ["__str__", "business", "client", "kind", "content_type", "size", "created_at"]
    raw_id_fields = ["client", "uploaded_by"]
    exclude = ["file"]  # downloads go through the app's checked view


@admin.register(ConsentRecord)
class ConsentRecordAdmin(TenantAdmin):
    """Read only: a record is never added, edited or removed by hand. Deleting a client
    still takes their records with them (the cascade asks for the delete permission)."""

    list_display = ["client", "channel", "given", "source", "verified", "recorded_at", "business"]
    list_filter = ["business", "channel", "source", "verified"]
    raw_id_fields = ["client", "recorded_by", "client_import"]
    actions = None

    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def delete_view(self, request, object_id, extra_context=None):  # noqa: ANN001, ANN201
        raise PermissionDenied("Consent records are kept; delete the client instead.")


@admin.register(ClientImport)
class ClientImportAdmin(TenantAdmin):
    list_display = ["file_name", "business", "status", "rows_total", "created_by", "created_at"]
    list_filter = ["status", "business"]
    raw_id_fields = ["created_by", "undone_by", "tag"]
    exclude = ["file", "rejected_file"]  # downloads go through the app's checked views


@admin.register(ClientImportProblem)
class ClientImportProblemAdmin(TenantAdmin):
    list_display = ["client_import", "row", "level", "column", "message"]
    raw_id_fields = ["client_import"]


@admin.register(ClientImportChange)
class ClientImportChangeAdmin(TenantAdmin):
    list_display = ["client_import", "kind", "business"]
    raw_id_fields = ["client_import"]
