"""Documents on S3 (moto's S3 server standing in for it), built from the production settings
(STORAGE_BACKEND=s3): the happy path, and an S3 that is down or hangs. A failed upload tells
the user at once and records nothing: no document row without its file."""

import logging
import runpy

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from moto.server import ThreadedMotoServer

import glamiti.settings
from clients.models import ClientDocument
from clients.notes import NOT_STORED
from tests.factories import ClientFactory
from tests.faults.conftest import free_port
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db

BUCKET = "glamiti-documents"
REGION = "eu-west-2"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def moto_url() -> str:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _aws_credentials(monkeypatch):
    # Test keys for moto; also keeps botocore from looking for real ones (files, metadata).
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def s3(moto_url):
    client = boto3.client("s3", endpoint_url=moto_url, region_name=REGION)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def production_storage(monkeypatch, endpoint_url: str) -> dict:
    """The default storage settings.py builds for an S3 deployment at `endpoint_url`."""
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", BUCKET)
    monkeypatch.setenv("AWS_S3_ENDPOINT_URL", endpoint_url)
    monkeypatch.setenv("AWS_S3_REGION_NAME", REGION)
    return runpy.run_path(glamiti.settings.__file__)["STORAGES"]["default"]


@pytest.fixture
def use_s3(settings, monkeypatch):
    def use(endpoint_url: str) -> dict:
        storage = production_storage(monkeypatch, endpoint_url)
        settings.STORAGES = {**settings.STORAGES, "default": storage}
        return storage

    return use


@pytest.fixture
def ava(world):
    with all_tenants():
        return ClientFactory(business=world.business, first_name="Ava", last_name="Moss")


def url(world, client, name: str, **kwargs) -> str:
    kwargs = {"business": world.business.slug, "pk": client.pk, **kwargs}
    return reverse(f"profile:{name}", kwargs=kwargs)


def upload(http, world, client, data: bytes = PDF):
    file = SimpleUploadedFile("consent.pdf", data, content_type="application/pdf")
    return http.post(
        url(world, client, "document-add"),
        {"doc-kind": "consent", "doc-title": "Consent", "doc-file": file},
    )


def documents_of(client) -> list[ClientDocument]:
    with all_tenants():
        return list(ClientDocument.objects.filter(client=client).order_by("id"))


@pytest.fixture
def notes_log() -> list[str]:
    """What clients.notes logs during the test (its messages)."""
    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Keep(logging.WARNING)
    logger = logging.getLogger("clients.notes")
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)


def keys_in_bucket(s3) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_s3_calls_give_up_within_seconds(monkeypatch):
    config = production_storage(monkeypatch, "http://127.0.0.1:9")["OPTIONS"]["client_config"]
    assert config.connect_timeout <= 5 and config.read_timeout <= 5
    assert config.retries["total_max_attempts"] <= 3


def test_a_document_is_stored_in_the_bucket_and_downloads_from_it(
    as_staff, world, ava, s3, moto_url, use_s3
):
    use_s3(moto_url)
    response = upload(as_staff, world, ava)
    assert response.status_code == 302
    [document] = documents_of(ava)
    assert keys_in_bucket(s3) == [document.file.name]
    assert s3.get_object(Bucket=BUCKET, Key=document.file.name)["Body"].read() == PDF
    download = as_staff.get(url(world, ava, "document", document_pk=document.pk))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


def assert_refused_with_a_clear_message(response, ava) -> None:
    assert response.status_code == 503
    page = response.content.decode()
    assert NOT_STORED in page and "Attach a document" in page  # the form, to try again
    assert documents_of(ava) == []


def test_s3_down_the_upload_fails_with_a_message_and_records_nothing(
    as_staff, world, ava, down_url, use_s3, notes_log
):
    use_s3(down_url)
    response = upload(as_staff, world, ava)
    assert_refused_with_a_clear_message(response, ava)
    assert notes_log == [f"Could not store a document of client {ava.pk}"]


def test_s3_hanging_the_upload_gives_up_with_a_message_and_records_nothing(
    as_staff, world, ava, hanging_server, use_s3
):
    use_s3(hanging_server.url)
    response = upload(as_staff, world, ava)
    assert hanging_server.connections  # it was reached, never answered, and given up on
    assert_refused_with_a_clear_message(response, ava)


def test_s3_without_the_bucket_the_upload_fails_with_a_message(
    as_staff, world, ava, moto_url, use_s3
):
    use_s3(moto_url)  # moto answers, but the bucket doesn't exist: S3 refuses the file
    assert_refused_with_a_clear_message(upload(as_staff, world, ava), ava)


def test_a_document_can_be_uploaded_once_s3_is_back(
    as_staff, world, ava, s3, moto_url, down_url, use_s3
):
    use_s3(down_url)
    assert upload(as_staff, world, ava).status_code == 503
    use_s3(moto_url)
    assert upload(as_staff, world, ava).status_code == 302
    [document] = documents_of(ava)
    assert keys_in_bucket(s3) == [document.file.name]


def test_deleting_a_document_while_s3_is_down_still_removes_it(
    as_manager, world, ava, s3, moto_url, down_url, use_s3, notes_log,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    use_s3(moto_url)
    upload(as_manager, world, ava)
    [document] = documents_of(ava)
    use_s3(down_url)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = as_manager.post(url(world, ava, "document-delete", document_pk=document.pk))
    assert response.status_code == 302
    assert len(callbacks) == 1  # the file's removal, after the commit: it failed quietly
    assert documents_of(ava) == []
    # The file stays in the bucket, and the log says which one, for clean-up later.
    assert keys_in_bucket(s3) == [document.file.name]
    assert notes_log == [f"Could not delete document file {document.file.name}"]
