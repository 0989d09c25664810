"""Import and export of the client list (owners and managers).

Pages of one import: map → preview → progress → result. Each step redirects to the one the
import is at, so a reload, the back button or an old link always lands somewhere sensible.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from clients import export, imports
from clients.imports_fields import FIELDS, VENDOR_NAMES
from clients.imports_forms import DuplicateModeForm, ImportUploadForm, MappingForm
from clients.imports_read import MAX_ROWS, ImportFileError
from clients.listing import ClientFilters
from clients.models import ClientImport, DuplicateMode, ImportProblemLevel, ImportStatus
from glamiti.models import Role
from glamiti.tenancy import BusinessRequest, role_required

PROBLEMS_PER_PAGE = 50
HISTORY_PER_PAGE = 20
EDITABLE = (ImportStatus.UPLOADED, ImportStatus.MAPPED, ImportStatus.PREVIEWED, ImportStatus.FAILED)


@role_required(Role.MANAGER)
def client_export(request: BusinessRequest) -> StreamingHttpResponse:
    filters = ClientFilters.from_query(request.GET, business=request.business)
    stamp = timezone.localdate().isoformat()
    name = f"{request.business.slug}-clients-{stamp}"
    if request.GET.get("format") == "xlsx":
        response = StreamingHttpResponse(
            export.stream_xlsx(request.business, filters), content_type=export.XLSX_TYPE
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    response = StreamingHttpResponse(
        export.stream_csv(request.business, filters), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _step_url(imp: ClientImport) -> str:
    if imp.status == ImportStatus.UPLOADED:
        step = "import-map"
    elif imp.status in (ImportStatus.MAPPED, ImportStatus.PREVIEWED) or (
        imp.status == ImportStatus.FAILED and imp.failed_step == "analyse"
    ):
        step = "import-preview"
    elif imp.status in (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.UNDOING):
        step = "import-progress"
    else:
        step = "import-result"
    return _url(step, imp)


def _url(step: str, imp: ClientImport) -> str:
    return reverse(f"clients:{step}", kwargs={"business": imp.business.slug, "pk": imp.pk})


def _get(request: BusinessRequest, pk: int) -> ClientImport:
    imp = get_object_or_404(request.business.clientimports.select_related("created_by"), pk=pk)
    if imports.client_import_recover(imp):
        imp.refresh_from_db()
    return imp


@role_required(Role.MANAGER)
def client_import(request: BusinessRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            imp = imports.client_import_upload(
                business=request.business, by=request.user, upload=form.cleaned_data["file"]
            )
        except ImportFileError as error:
            form.add_error("file", str(error))
        else:
            return redirect(_step_url(imp))
    history = request.business.clientimports.select_related("created_by", "tag")
    page = Paginator(history, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    status = 422 if request.method == "POST" else 200
    context = {"form": form, "page": page, "max_rows": MAX_ROWS}
    return render(request, "clients/import.html", context, status=status)


@role_required(Role.MANAGER)
def client_import_detail(request: BusinessRequest, pk: int) -> HttpResponse:
    return redirect(_step_url(_get(request, pk)))


@role_required(Role.MANAGER)
def client_import_map(request: BusinessRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    if imp.status not in EDITABLE:
        return redirect(_step_url(imp))
    form = MappingForm(imp, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            imports.client_import_map(
                imp=imp,
                mapping=form.mapping(),
                keep_unmapped=form.cleaned_data["keep_unmapped"],
                duplicate_mode=form.cleaned_data["duplicate_mode"],
            )
        except imports.ImportError_ as error:
            form.add_error(None, str(error))
        else:
            return redirect(_url("import-preview", imp))
    status = 422 if request.method == "POST" else 200
    context = {"imp": imp, "form": form, "vendor_name": VENDOR_NAMES.get(imp.vendor, "")}
    return render(request, "clients/imports/map.html", context, status=status)


def _mode_counts(imp: ClientImport, mode: str) -> dict[str, int]:
    counts = imp.counts
    new, existing, in_file = (
        counts.get("new", 0),
        counts.get("existing", 0),
        counts.get("in_file", 0),
    )
    if mode == DuplicateMode.CREATE:
        return {"new": new + existing + in_file, "update": 0, "duplicate": 0}
    if mode == DuplicateMode.UPDATE:
        return {"new": new, "update": existing, "duplicate": in_file}
    return {"new": new, "update": 0, "duplicate": existing + in_file}


@vary_on_headers("HX-Request")
@role_required(Role.MANAGER)
def client_import_preview(request: BusinessRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    checking = imp.status == ImportStatus.MAPPED
    failed = imp.status == ImportStatus.FAILED and imp.failed_step == "analyse"
    if not (checking or failed or imp.status == ImportStatus.PREVIEWED):
        return redirect(_step_url(imp))
    if request.htmx and not request.htmx.history_restore_request:
        if checking:
            return render(request, "clients/imports/preview.html#checking", {"imp": imp})
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    mode_form = DuplicateModeForm(
        request.POST or None, initial={"duplicate_mode": imp.duplicate_mode}
    )
    if request.method == "POST" and mode_form.is_valid():
        try:
            imports.client_import_set_mode(
                imp=imp, duplicate_mode=mode_form.cleaned_data["duplicate_mode"]
            )
        except imports.ImportError_ as error:
            messages.error(request, str(error))
        return redirect(_url("import-preview", imp))
    problems = Paginator(imp.problems.all(), PROBLEMS_PER_PAGE).get_page(request.GET.get("page"))
    summary = (
        imp.problems.values("level", "column").annotate(count=Count("id")).order_by("-count")[:12]
    )
    columns = _preview_columns(imp)
    rows = [(row, [row["values"].get(key, "") for key, _ in columns]) for row in imp.preview_rows]
    context = {
        "imp": imp,
        "checking": checking,
        "failed": failed,
        "mode_form": mode_form,
        "counts": _mode_counts(imp, imp.duplicate_mode),
        "columns": columns,
        "rows": rows,
        "summary": [{**item, "label": ImportProblemLevel(item["level"]).label} for item in summary],
        "page": problems,
    }
    return render(request, "clients/imports/preview.html", context)


def _preview_columns(imp: ClientImport) -> list[tuple[str, str]]:
    shown = {key for row in imp.preview_rows for key in row["values"]}
    return [(f.key, f.label) for f in FIELDS if f.key in shown and f.key != "full_name"]


@require_POST
@role_required(Role.MANAGER)
def client_import_confirm(request: BusinessRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    try:
        imports.client_import_confirm(imp=imp)
    except imports.ImportError_ as error:
        messages.error(request, str(error))
    imp.refresh_from_db()
    return redirect(_step_url(imp))


@vary_on_headers("HX-Request")
@role_required(Role.MANAGER)
def client_import_progress(request: BusinessRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    if not imp.is_working or imp.status == ImportStatus.MAPPED:
        if (
            request.htmx
            and imp.status in (ImportStatus.DONE, ImportStatus.UNDONE)
            and (not request.GET.get("finished"))
        ):
            # Show the full bar for a moment before the result page replaces it.
            return render(request, "clients/imports/progress.html#bar", {"imp": imp})
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = _step_url(imp)
            return response
        return redirect(_step_url(imp))
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "clients/imports/progress.html#bar", {"imp": imp})
    return render(request, "clients/imports/progress.html", {"imp": imp})


@role_required(Role.MANAGER)
def client_import_result(request: BusinessRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    if imp.status not in (ImportStatus.DONE, ImportStatus.UNDONE, ImportStatus.FAILED) or (
        imp.status == ImportStatus.FAILED and imp.failed_step == "analyse"
    ):
        return redirect(_step_url(imp))
    clients_url = ""
    if imp.tag_id and imp.status == ImportStatus.DONE:
        clients_url = reverse("clients:list", kwargs={"business": request.business.slug})
        clients_url += f"?tag={imp.tag_id}"
    context = {"imp": imp, "clients_url": clients_url}
    return render(request, "clients/imports/result.html", context)


@role_required(Role.MANAGER)
def client_import_rejected(request: BusinessRequest, pk: int) -> FileResponse:
    imp = _get(request, pk)
    if not imp.rejected_file:
        raise Http404("This import has no rejected rows.")
    name = f"{Path(imp.file_name).stem or 'clients'}-rejected.csv"
    return FileResponse(
        imp.rejected_file.open("rb"), as_attachment=True, filename=name, content_type="text/csv"
    )


@require_POST
@role_required(Role.MANAGER)
def client_import_undo(request: BusinessRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    try:
        imports.client_import_undo(imp=imp, by=request.user)
    except imports.ImportError_ as error:
        messages.error(request, str(error))
    imp.refresh_from_db()
    return redirect(_step_url(imp))


@require_POST
@role_required(Role.MANAGER)
def client_import_discard(request: BusinessRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    try:
        imports.client_import_discard(imp=imp)
    except imports.ImportError_ as error:
        messages.error(request, str(error))
        return redirect(_step_url(imp))
    messages.success(request, f"The import of {imp.file_name} was cancelled.")
    return redirect("clients:import", business=request.business.slug)
