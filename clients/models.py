from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from audit.recording import AuditedQuerySet
from clients.normalize import phone_search_digits, search_text_for
from glamiti.models import SAME_BUSINESS_KEY, TenantModel, business_key, tenant_manager


class Gender(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    NON_BINARY = "non_binary", "Non-binary"
    OTHER = "other", "Other"
    PREFER_NOT_TO_SAY = "prefer_not_to_say", "Prefer not to say"


class ConsentSource(models.TextChoices):
    FORM = "form", "Recorded by staff"
    CLIENT_LINK = "client_link", "Given by the client online"
    IMPORT = "import", "Imported (unverified)"
    ADMIN = "admin", "Recorded in the admin"
    IMPORT_UNDO = "import_undo", "Import undone"


class ConsentChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"


class ReferralSource(TenantModel):
    """How clients found the business; the business edits this list."""

    name = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True)

    objects = tenant_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["business", "name"], name="referralsource_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Tag(TenantModel):
    name = models.CharField(max_length=40)
    color = models.CharField(max_length=7, default="#6d28d9")

    objects = tenant_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["business", "name"], name="tag_unique_name")]

    def __str__(self) -> str:
        return self.name


class ClientQuerySet(AuditedQuerySet):
    def active(self) -> ClientQuerySet:
        return self.filter(archived_at__isnull=True)

    def archived(self) -> ClientQuerySet:
        # Erased clients are archived too (so every "active only" place leaves them out),
        # but they are not listed among the archived: they can't come back.
        return self.filter(archived_at__isnull=False, erased_at__isnull=True)

    def erased(self) -> ClientQuerySet:
        return self.filter(erased_at__isnull=False)

    def search(self, term: str, country: str) -> ClientQuerySet:
        """Clients whose name, e-mail or phone contains `term` (phones in any national format)."""
        from clients.search import apply_search

        return apply_search(self, term, country)

    def blocked(self) -> ClientQuerySet:
        return self.filter(is_blocked=True)

    def with_tag(self, tag: Tag | int) -> ClientQuerySet:
        return self.filter(client_tags__tag=tag)

    def lapsed(self, days: int, now: datetime.datetime | None = None) -> ClientQuerySet:
        """Clients who have visited before, but not in the last `days` days."""
        cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
        return self.filter(last_visit_at__lt=cutoff)

    def with_upcoming_appointment(self, now: datetime.datetime | None = None) -> ClientQuerySet:
        return self.filter(next_appointment_at__gte=now or timezone.now())

    def birthday_in_month(self, month: int) -> ClientQuerySet:
        return self.filter(birth_month=month)

    def accepts_marketing(self, channel: str) -> ClientQuerySet:
        return self.filter(**{f"{channel}_marketing": True})


def client_photo_path(instance: Client, filename: str) -> str:
    # Never the uploaded name: a server-generated one, grouped by business.
    return f"clients/{instance.business_id}/photos/{uuid.uuid4().hex}.jpg"


class Client(TenantModel):
    # The composite indexes below lead with business; a lone business index would mislead
    # the planner (DESIGN.md, "Indexes that the planner will actually use").
    business = business_key("clients")
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80, blank=True)
    email = models.EmailField(blank=True)
    mobile_phone = models.CharField(max_length=20, blank=True, help_text="Stored in E.164.")
    other_phone = models.CharField(max_length=20, blank=True, help_text="Stored in E.164.")
    # A birthday may be known without its year.
    birth_day = models.PositiveSmallIntegerField(null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    gender = models.CharField(max_length=20, choices=Gender.choices, blank=True)
    pronouns = models.CharField(max_length=30, blank=True)

    address_line1 = models.CharField("address line 1", max_length=120, blank=True)
    address_line2 = models.CharField("address line 2", max_length=120, blank=True)
    city = models.CharField(max_length=80, blank=True)
    region = models.CharField("county / state", max_length=80, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)

    referral_source = models.ForeignKey(
        ReferralSource,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clients",
        db_constraint=SAME_BUSINESS_KEY,
    )
    referred_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
        db_constraint=SAME_BUSINESS_KEY,
        db_index=False,  # client_referred_by_idx
    )

    email_marketing = models.BooleanField(default=False)
    email_marketing_at = models.DateTimeField(null=True, blank=True)
    email_marketing_source = models.CharField(
        max_length=20, choices=ConsentSource.choices, blank=True
    )
    sms_marketing = models.BooleanField(default=False)
    sms_marketing_at = models.DateTimeField(null=True, blank=True)
    sms_marketing_source = models.CharField(
        max_length=20, choices=ConsentSource.choices, blank=True
    )

    is_blocked = models.BooleanField(default=False)
    blocked_reason = models.CharField(max_length=200, blank=True)
    alert = models.CharField(
        max_length=200, blank=True, help_text="Shown wherever the client appears, e.g. allergies."
    )
    tags = models.ManyToManyField(Tag, through="ClientTag", related_name="clients", blank=True)
    photo = models.ImageField(upload_to=client_photo_path, blank=True)
    external_id = models.CharField(
        max_length=64, blank=True, help_text="The id in the software it was imported from."
    )

    # Kept up to date by the appointment and sale services, so the list can sort and filter
    # a million clients by them with an index.
    last_visit_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_appointment_at = models.DateTimeField(null=True, blank=True, editable=False)
    total_spend = models.DecimalField(max_digits=12, decimal_places=2, default=0, editable=False)

    # Derived search columns (see clients/normalize.py), written on every save and bulk path.
    search_text = models.TextField(blank=True, editable=False)
    phone_digits = models.CharField(max_length=64, blank=True, editable=False)

    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        db_constraint=SAME_BUSINESS_KEY,
        db_index=False,  # client_merged_into_idx
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by the GDPR erasure (clients/privacy.py): personal data wiped for good; the row
    # stays as the anonymous placeholder that sales, tips and vouchers still point at.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = tenant_manager(ClientQuerySet)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        # Every index is written for every imported client: each one here serves a query.
        # The list of current clients walks client_search_name (migration 0002, partial on
        # archived_at IS NULL); the archived list walks its own, small, partial index.
        indexes = [
            models.Index(
                fields=["business", "last_name", "first_name", "id"],
                condition=Q(archived_at__isnull=False),
                name="client_archived_name_idx",
            ),
            models.Index(fields=["business", "email"], name="client_email_idx"),
            models.Index(fields=["business", "mobile_phone"], name="client_mobile_idx"),
            models.Index(fields=["business", "created_at"], name="client_created_idx"),
            models.Index(fields=["business", "last_visit_at"], name="client_last_visit_idx"),
            models.Index(fields=["business", "total_spend"], name="client_spend_idx"),
            models.Index(fields=["business", "birth_month"], name="client_birth_month_idx"),
            models.Index(fields=["business", "external_id"], name="client_external_idx"),
            # Nearly always empty: only the clients that have one are indexed.
            models.Index(
                fields=["referred_by"],
                condition=Q(referred_by__isnull=False),
                name="client_referred_by_idx",
            ),
            models.Index(
                fields=["merged_into"],
                condition=Q(merged_into__isnull=False),
                name="client_merged_into_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs) -> None:
        self.refresh_derived_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_text", "phone_digits", "email"}
        super().save(*args, **kwargs)

    def refresh_derived_fields(self) -> None:
        """Normalise the e-mail and rebuild the search columns; bulk paths call this too."""
        self.email = self.email.strip().lower()
        self.search_text = search_text_for(self.first_name, self.last_name, self.email)
        self.phone_digits = phone_search_digits(self.mobile_phone, self.other_phone)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def initials(self) -> str:
        return "".join(part[0] for part in (self.first_name, self.last_name) if part).upper()

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def birthday_display(self) -> str:
        if not (self.birth_day and self.birth_month):
            return ""
        month = datetime.date(2000, self.birth_month, 1).strftime("%B")
        return f"{self.birth_day} {month}" + (f" {self.birth_year}" if self.birth_year else "")

    def get_absolute_url(self) -> str:
        return reverse("clients:detail", kwargs={"business": self.business.slug, "pk": self.pk})

    def archive(self) -> None:
        if self.archived_at is None:
            self.archived_at = timezone.now()
            self.save(update_fields=["archived_at", "updated_at"])

    def restore(self) -> None:
        if self.archived_at is not None and self.erased_at is None:
            self.archived_at = None
            self.save(update_fields=["archived_at", "updated_at"])


class ClientTag(TenantModel):
    """A tag on a client. Explicit so that the row carries its business like every other."""

    business = business_key(through="client")
    # Looked up through the (business, client, tag) and (business, tag, client) indexes: a
    # single-column index would be one more write for every imported client, serving nothing.
    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="client_tags",
        db_constraint=SAME_BUSINESS_KEY,
        db_index=False,
    )
    tag = models.ForeignKey(
        Tag,
        on_delete=models.CASCADE,
        related_name="client_tags",
        db_constraint=SAME_BUSINESS_KEY,
        db_index=False,
    )

    objects = tenant_manager(AuditedQuerySet)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["business", "client", "tag"], name="clienttag_unique")
        ]
        indexes = [models.Index(fields=["business", "tag", "client"], name="clienttag_tag_idx")]


class ClientMerge(TenantModel):
    """One merge of `merged` into `kept`, with what it changed, so it can be undone."""

    kept = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="merges_kept",
        db_constraint=SAME_BUSINESS_KEY,
    )
    merged = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="merges_absorbed",
        db_constraint=SAME_BUSINESS_KEY,
    )
    filled_fields = models.JSONField(
        default=dict, help_text="Fields of `kept` filled from `merged`."
    )
    moved = models.JSONField(default=dict, help_text="Related rows moved: {model label: [ids]}.")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = tenant_manager()

    class Meta:
        ordering = ["-created_at"]


class NoteKind(models.TextChoices):
    PREFERENCE = "preference", "Preference"
    ALLERGY = "allergy", "Allergy"
    INTERNAL = "internal", "Internal team note"


class ClientNote(TenantModel):
    business = business_key(through="client")
    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="notes",
        db_constraint=SAME_BUSINESS_KEY,
        db_index=False,  # clientnote_client_idx (business, client, created_at)
    )
    kind = models.CharField(max_length=12, choices=NoteKind.choices, default=NoteKind.PREFERENCE)
    text = models.TextField(max_length=5000)
    is_pinned = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = tenant_manager(AuditedQuerySet)

    class Meta:
        ordering = ["-is_pinned", "-created_at", "-id"]
        indexes = [
            models.Index(fields=["business", "client", "created_at"], name="clientnote_client_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:40]}"


class DocumentKind(models.TextChoices):
    CONSENT = "consent", "Consent form"
    WAIVER = "waiver", "Medical waiver"
    PHOTO = "photo", "Photo"
    OTHER = "other", "Other"


def client_document_path(instance: ClientDocument, filename: str) -> str:
    # Never the uploaded name: a server-generated one (the extension comes from the content).
    return f"clients/{instance.business_id}/documents/{uuid.uuid4().hex}{instance.extension}"


class ClientDocument(TenantModel):
    business = business_key()
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="documents", db_constraint=SAME_BUSINESS_KEY
    )
    kind = models.CharField(max_length=10, choices=DocumentKind.choices, default=DocumentKind.OTHER)
    title = models.CharField(max_length=120, blank=True)
    file = models.FileField(upload_to=client_document_path, max_length=255)
    original_name = models.CharField(
        max_length=255, help_text="As uploaded; shown, never used as a path."
    )
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = tenant_manager(AuditedQuerySet)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["business", "client", "created_at"], name="clientdoc_client_idx"),
        ]

    def __str__(self) -> str:
        return self.title or self.original_name

    @property
    def extension(self) -> str:
        return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(
            self.content_type, ""
        )


# --- Client imports (clients/imports.py) ------------------------------------------------------


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    MAPPED = "mapped", "Checking the file"
    PREVIEWED = "previewed", "Ready to import"
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"
    UNDOING = "undoing", "Undoing"
    UNDONE = "undone", "Undone"


class DuplicateMode(models.TextChoices):
    SKIP = "skip", "Skip them"
    UPDATE = "update", "Update the existing client with the file's values"
    CREATE = "create", "Create them anyway"


def client_import_path(instance: ClientImport, filename: str) -> str:
    # Never the uploaded name: a server-generated one (the extension comes from the content).
    return f"imports/{instance.business_id}/{uuid.uuid4().hex}.{instance.file_kind or 'bin'}"


def client_import_rejected_path(instance: ClientImport, filename: str) -> str:
    return f"imports/{instance.business_id}/{uuid.uuid4().hex}-rejected.csv"


def client_import_cells_path(instance: ClientImport, filename: str) -> str:
    return f"imports/{instance.business_id}/{uuid.uuid4().hex}-cells.jsonl.gz"


class ClientImport(TenantModel):
    """One file imported into the client list: its mapping, its progress and its outcome."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=255, help_text="As uploaded; shown, never a path.")
    file = models.FileField(upload_to=client_import_path, max_length=255)
    file_kind = models.CharField(max_length=4)  # "csv" or "xlsx", from the content
    file_size = models.PositiveIntegerField(default=0)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    sheet_name = models.CharField(max_length=100, blank=True)
    header_row = models.PositiveIntegerField(default=0, help_text="0-based index of the header.")
    headers = models.JSONField(default=list)
    vendor = models.CharField(max_length=30, blank=True)
    mapping = models.JSONField(default=list, help_text="Field key per column ('' = ignored).")
    options = models.JSONField(default=dict)
    duplicate_mode = models.CharField(
        max_length=10, choices=DuplicateMode.choices, default=DuplicateMode.SKIP
    )
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    failed_step = models.CharField(max_length=10, blank=True)
    error = models.TextField(blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)
    preview_rows = models.JSONField(default=list)
    rejected_file = models.FileField(
        upload_to=client_import_rejected_path, max_length=255, blank=True
    )
    # A spreadsheet's cells as the check read them, so that the import job does not parse the
    # sheet again (clients/imports_read.py); removed once the import is done.
    cells_file = models.FileField(upload_to=client_import_cells_path, max_length=255, blank=True)
    tag = models.ForeignKey(
        Tag,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=SAME_BUSINESS_KEY,
    )
    undo_summary = models.JSONField(default=dict)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    analysed_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    job_started_at = models.DateTimeField(
        null=True, blank=True, help_text="When the job now running began (empty while queued)."
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    objects = tenant_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["business", "created_at"], name="clientimport_created_idx")]

    def __str__(self) -> str:
        return self.file_name

    @property
    def percent(self) -> int:
        if self.status in (ImportStatus.DONE, ImportStatus.UNDONE):
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)

    @property
    def is_working(self) -> bool:
        """A job is queued or running for this import (the pages poll)."""
        working = (ImportStatus.MAPPED, ImportStatus.QUEUED, ImportStatus.RUNNING)
        return self.status in (*working, ImportStatus.UNDOING)


class ImportProblemLevel(models.TextChoices):
    ERROR = "error", "Rejected"
    WARNING = "warning", "Value dropped"
    DUPLICATE = "duplicate", "Duplicate"


class ClientImportProblem(TenantModel):
    """A problem found in one cell or row of an import, for the preview."""

    business = business_key()
    client_import = models.ForeignKey(
        ClientImport,
        on_delete=models.CASCADE,
        related_name="problems",
        db_constraint=SAME_BUSINESS_KEY,
        db_index=False,  # importproblem_row_idx (business, client_import, row)
    )
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=100, blank=True)
    value = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=300)
    level = models.CharField(max_length=10, choices=ImportProblemLevel.choices)

    objects = tenant_manager()

    class Meta:
        ordering = ["row", "id"]
        indexes = [
            models.Index(fields=["business", "client_import", "row"], name="importproblem_row_idx")
        ]

    def __str__(self) -> str:
        return f"Row {self.row}: {self.message}"


class ClientImportChange(TenantModel):
    """What one batch of an import wrote, so that the import can be undone."""

    class Kind(models.TextChoices):
        CREATED = "created", "Clients created"
        UPDATED = "updated", "Clients updated"
        NOTES = "notes", "Notes added"
        CLIENT_TAGS = "clienttags", "Tags put on updated clients"
        TAGS = "tags", "Tags created"
        SOURCES = "sources", "Referral sources created"

    business = business_key()
    client_import = models.ForeignKey(
        ClientImport,
        on_delete=models.CASCADE,
        related_name="changes",
        db_constraint=SAME_BUSINESS_KEY,
        db_index=False,  # importchange_idx (business, client_import, kind)
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    ids = models.JSONField(default=list, help_text="Ids of the rows created.")
    previous = models.JSONField(
        default=dict, help_text="Updated clients: {client id: {field: [before, after]}}."
    )

    objects = tenant_manager()

    class Meta:
        indexes = [
            models.Index(fields=["business", "client_import", "kind"], name="importchange_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({len(self.ids) or len(self.previous)})"


# --- Consent records (clients/consent.py) -----------------------------------------------------


class ConsentRecord(TenantModel):
    """One answer to "may we send you marketing?" on one channel, as it was recorded.

    Append-only: a change of mind is a new record, never an edit. The client's
    `<channel>_marketing`, `_at` and `_source` columns hold the latest answer, so that lists
    and filters stay fast; these rows are its history.
    """

    business = business_key(through="client")
    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="consent_records",
        db_constraint=SAME_BUSINESS_KEY,
        db_index=False,  # consentrecord_client_idx (business, client, recorded_at)
    )
    channel = models.CharField(max_length=5, choices=ConsentChannel.choices)
    given = models.BooleanField(help_text="True: consent given; False: withdrawn or refused.")
    recorded_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=20, choices=ConsentSource.choices)
    wording_version = models.CharField(
        max_length=20, blank=True, help_text="Version of the consent wording (clients/consent.py)."
    )
    wording = models.TextField(blank=True, help_text="The wording shown, as it was then.")
    verified = models.BooleanField(
        default=True, help_text="False when it came from a file: nobody saw the client agree."
    )
    # No database constraint: checking it costs an import as much again as writing the
    # records (every row locks the same import row), and a discarded import must not
    # rewrite the records that name it.
    client_import = models.ForeignKey(
        ClientImport,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        help_text="The import that recorded it, if one did.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = tenant_manager()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(
                fields=["business", "client", "recorded_at"], name="consentrecord_client_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} marketing: {self.answer_label.lower()}"

    @property
    def answer_label(self) -> str:
        if self.given:
            return "Given"
        # An undone import puts back an earlier answer; "no" then was never withdrawn.
        return "Not given" if self.source == ConsentSource.IMPORT_UNDO else "Withdrawn"
