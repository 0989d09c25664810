import datetime

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from clients.merge import (
    MergeError,
    client_merge,
    client_merge_undo,
    likely_duplicates,
    merge_preview,
    merges_for_client,
)
from clients.models import Client, ClientMerge, ClientTag, ReferralSource
from glamiti.tenancy import tenant_context
from tests.factories import ClientFactory, ClientTagFactory, TagFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


def make(business, **fields) -> Client:
    with all_tenants():
        return ClientFactory(business=business, **fields)


def reload(client: Client) -> Client:
    with all_tenants():
        return Client.objects.get(pk=client.pk)


def tag_names(client: Client) -> set[str]:
    with all_tenants():
        return set(client.tags.values_list("name", flat=True))


def merge(world, kept, merged, by=None) -> ClientMerge:
    with tenant_context(world.business):
        return client_merge(kept=kept, merged=merged, by=by or world.manager)


def undo(world, record, by=None) -> None:
    with tenant_context(world.business):
        client_merge_undo(merge=record, by=by or world.manager)


def duplicates_page(business, page=1, per_page=20):
    with tenant_context(business):
        return likely_duplicates(business, page=page, per_page=per_page)


def url(world, name, **kwargs) -> str:
    return reverse(f"clients:{name}", kwargs={"business": world.business.slug, **kwargs})


def merge_url(world, kept, merged) -> str:
    return f"{url(world, 'merge')}?kept={kept.pk}&merged={merged.pk}"


# --- Finding duplicates ----------------------------------------------------------------------


def test_finder_groups_clients_sharing_an_email(world):
    first = make(world.business, first_name="Ann", email="ann@example.com")
    second = make(world.business, first_name="Annie", email="ann@example.com")
    make(world.business, email="someone-else@example.com")
    (group,) = duplicates_page(world.business).groups
    assert (group.kind, group.value, group.size) == ("email", "ann@example.com", 2)
    assert group.members == [first, second]  # oldest first: the suggested one to keep


def test_finder_groups_clients_sharing_a_phone_in_either_column(world):
    first = make(world.business, first_name="Ann", mobile_phone="+447700900123")
    second = make(world.business, first_name="Bob", other_phone="+447700900123")
    (group,) = duplicates_page(world.business).groups
    assert (group.kind, group.value) == ("phone", "+447700900123")
    assert group.members == [first, second]


def test_finder_groups_same_name_and_phone_case_insensitively(world):
    first = make(world.business, first_name="Ann", last_name="Lee", mobile_phone="+447700900123")
    second = make(world.business, first_name="ANN", last_name="lee", other_phone="+447700900123")
    (group,) = duplicates_page(world.business).groups
    assert group.kind == "name_phone"
    assert group.reason == "Same name and phone"
    assert group.members == [first, second]


def test_finder_lists_a_family_phone_and_the_same_person_within_it(world):
    phone = "+447700900123"
    ann = make(world.business, first_name="Ann", last_name="Lee", mobile_phone=phone)
    ann_again = make(world.business, first_name="Ann", last_name="Lee", mobile_phone=phone)
    bob = make(world.business, first_name="Bob", last_name="Lee", mobile_phone=phone)
    groups = duplicates_page(world.business).groups
    assert [(g.kind, g.members) for g in groups] == [
        ("name_phone", [ann, ann_again]),
        ("phone", [ann, ann_again, bob]),
    ]


def test_finder_ignores_archived_clients_blanks_and_other_businesses(world):
    make(world.business, email="ann@example.com")
    make(world.business, email="ann@example.com", archived_at=timezone.now())
    make(world.business, email="", mobile_phone="")
    make(world.business, email="", mobile_phone="")
    make(world.other_business, email="ann@example.com")
    make(world.other_business, email="bob@example.com", mobile_phone="+447700900123")
    make(world.business, email="bob@example.com", mobile_phone="+447700900123")
    assert duplicates_page(world.business).groups == []
    assert duplicates_page(world.other_business).groups == []


def test_finder_pages_through_groups(world):
    for n in range(5):
        make(world.business, email=f"twin{n}@example.com")
        make(world.business, email=f"twin{n}@example.com")
    first = duplicates_page(world.business, page=1, per_page=2)
    third = duplicates_page(world.business, page=3, per_page=2)
    assert (len(first.groups), first.has_next, first.has_previous) == (2, True, False)
    assert (len(third.groups), third.has_next, third.has_previous) == (1, False, True)
    everything = duplicates_page(world.business, per_page=10).groups
    assert len({g.value for g in everything}) == 5


def test_finder_shows_the_first_members_of_a_big_group(world):
    with all_tenants():
        ClientFactory.create_batch(13, business=world.business, other_phone="+447700900123")
    (group,) = duplicates_page(world.business).groups
    assert (group.size, len(group.members), group.more) == (13, 10, 3)


@pytest.mark.parametrize("groups", [1, 15])
def test_finder_uses_a_fixed_number_of_queries(world, groups, django_assert_max_num_queries):
    with all_tenants():
        for n in range(groups):
            ClientFactory.create_batch(2, business=world.business, email=f"twin{n}@example.com")
            ClientFactory.create_batch(
                2, business=world.business, first_name="Sam", mobile_phone=f"+4477009001{n:02}"
            )
    with django_assert_max_num_queries(6):  # with SAVEPOINT, SET jit, RELEASE
        page = duplicates_page(world.business, per_page=40)
    assert len(page.groups) == 2 * groups


@pytest.mark.parametrize("groups", [1, 15])
def test_duplicates_page_uses_a_fixed_number_of_queries(
    as_manager, world, groups, django_assert_max_num_queries
):
    with all_tenants():
        for n in range(groups):
            ClientFactory.create_batch(2, business=world.business, email=f"twin{n}@example.com")
    with django_assert_max_num_queries(13):
        response = as_manager.get(url(world, "duplicates"))
    assert response.content.count(b"Merge\xe2\x80\xa6") == groups


def test_duplicates_page_lists_groups_with_merge_links(as_manager, world):
    old = make(world.business, first_name="Ann", last_name="Old", mobile_phone="+447700900123")
    new = make(world.business, first_name="Ann", last_name="New", other_phone="+447700900123")
    response = as_manager.get(url(world, "duplicates"))
    content = response.content.decode()
    assert "Same phone: 07700 900123" in content
    assert "Ann Old" in content and "Ann New" in content
    assert f"?kept={old.pk}&amp;merged={new.pk}" in content


def test_duplicates_page_says_when_there_are_none(as_owner, world):
    response = as_owner.get(url(world, "duplicates") + "?page=junk")
    assert b"No likely duplicates" in response.content


def test_duplicates_page_past_the_end_says_so(as_owner, world):
    make(world.business, email="twin@example.com")
    make(world.business, email="twin@example.com")
    for page in ("2", str(10**30)):
        response = as_owner.get(url(world, "duplicates") + f"?page={page}")
        assert response.status_code == 200
        assert b"No more duplicates" in response.content


# --- Merging ---------------------------------------------------------------------------------


def test_merge_fills_empty_fields_and_keeps_existing_ones(world):
    with all_tenants():
        source = ReferralSource.objects.create(business=world.business, name="Instagram")
    kept = make(world.business, first_name="Ann", last_name="Lee", email="ann@example.com")
    merged = make(
        world.business,
        first_name="Annie",
        last_name="Leigh",
        email="annie@example.com",
        mobile_phone="+447700900123",
        birth_day=3,
        birth_month=4,
        city="Leeds",
        postal_code="LS1 1AA",
        referral_source=source,
        alert="Allergic to latex",
        sms_marketing=True,
        sms_marketing_at=timezone.now(),
        sms_marketing_source="form",
    )
    record = merge(world, kept, merged)
    kept = reload(kept)
    assert (kept.first_name, kept.last_name, kept.email) == ("Ann", "Lee", "ann@example.com")
    assert kept.mobile_phone == "+447700900123"
    assert "447700900123" in kept.phone_digits  # derived search columns refreshed
    assert (kept.birth_day, kept.birth_month, kept.city) == (3, 4, "Leeds")
    assert kept.referral_source == source
    assert kept.alert == "Allergic to latex"
    assert kept.sms_marketing and kept.sms_marketing_source == "form"
    assert not kept.email_marketing
    assert set(record.filled_fields) == {
        "mobile_phone",
        "birth_day",
        "birth_month",
        "city",
        "postal_code",
        "referral_source",
        "alert",
        "sms_marketing",
        "sms_marketing_at",
        "sms_marketing_source",
    }
    assert record.filled_fields["referral_source"] == source.pk


def test_merge_does_not_mix_two_addresses(world):
    kept = make(world.business, city="York")
    merged = make(world.business, address_line1="1 High St", city="Leeds", postal_code="LS1")
    record = merge(world, kept, merged)
    assert (reload(kept).address_line1, reload(kept).city) == ("", "York")
    assert "address_line1" not in record.filled_fields


def test_merge_keeps_the_other_number_as_a_second_phone(world):
    kept = make(world.business, mobile_phone="+447700900123")
    merged = make(world.business, mobile_phone="+447700900456")
    merge(world, kept, merged)
    assert reload(kept).other_phone == "+447700900456"


def test_merge_blocks_the_kept_client_if_the_merged_one_was_blocked(world):
    kept = make(world.business)
    merged = make(world.business, is_blocked=True, blocked_reason="Three no-shows")
    record = merge(world, kept, merged)
    kept = reload(kept)
    assert kept.is_blocked and kept.blocked_reason == "Three no-shows"
    assert record.filled_fields["is_blocked"] is True


def test_merge_moves_tags_without_duplicating_them(world):
    kept, merged = make(world.business), make(world.business)
    with all_tenants():
        vip = TagFactory(business=world.business, name="VIP")
        colour = TagFactory(business=world.business, name="Colour")
        ClientTagFactory(client=kept, tag=vip)
        ClientTagFactory(client=merged, tag=vip)
        moving = ClientTagFactory(client=merged, tag=colour)
    record = merge(world, kept, merged)
    assert tag_names(kept) == {"VIP", "Colour"}
    with all_tenants():
        assert ClientTag.objects.filter(client=kept).count() == 2
    assert tag_names(merged) == {"VIP"}  # the clashing row stays behind
    assert record.moved == {"clients.ClientTag.client": [moving.pk]}


def test_merge_moves_referrals_to_the_kept_client(world):
    kept, merged = make(world.business), make(world.business)
    friend = make(world.business, referred_by=merged)
    record = merge(world, kept, merged)
    assert reload(friend).referred_by_id == kept.pk
    assert record.moved["clients.Client.referred_by"] == [friend.pk]


def test_merge_does_not_let_a_client_refer_themselves(world):
    kept = make(world.business)
    merged = make(world.business, referred_by=kept)
    record = merge(world, kept, merged)
    assert reload(kept).referred_by is None
    assert "referred_by" not in record.filled_fields


def test_merge_archives_the_merged_client_and_records_it(world):
    kept, merged = make(world.business), make(world.business)
    record = merge(world, kept, merged, by=world.owner)
    merged = reload(merged)
    assert merged.is_archived
    assert merged.merged_into_id == kept.pk
    assert (record.kept, record.merged, record.merged_by) == (kept, merged, world.owner)
    assert not reload(kept).is_archived
    with tenant_context(world.business):
        assert merges_for_client(kept) == [record]


@pytest.mark.parametrize("problem", ["same", "archived", "already_merged"])
def test_merge_refuses_what_cannot_be_merged(world, problem):
    kept = make(world.business)
    merged = {
        "same": kept,
        "archived": make(world.business, archived_at=timezone.now()),
        "already_merged": make(world.business, merged_into=make(world.business)),
    }[problem]
    with pytest.raises(MergeError):
        merge(world, kept, merged)
    with all_tenants():
        assert not ClientMerge.objects.exists()


def test_merge_refuses_clients_of_two_businesses(world):
    kept, stranger = make(world.business), make(world.other_business)
    with pytest.raises(MergeError, match="different businesses"):
        merge(world, kept, stranger)
    assert not reload(stranger).is_archived


# --- Undoing ---------------------------------------------------------------------------------


def test_undo_restores_everything_the_merge_changed(world):
    kept = make(world.business, email="ann@example.com", birth_day=1, birth_month=2)
    merged = make(world.business, email="", mobile_phone="+447700900123", birth_year=1990)
    friend = make(world.business, referred_by=merged)
    with all_tenants():
        vip = TagFactory(business=world.business, name="VIP")
        colour = TagFactory(business=world.business, name="Colour")
        ClientTagFactory(client=kept, tag=vip)
        ClientTagFactory(client=merged, tag=vip)
        ClientTagFactory(client=merged, tag=colour)
    record = merge(world, kept, merged)
    undo(world, record, by=world.owner)
    kept, merged, record = reload(kept), reload(merged), reload_merge(record)
    assert kept.mobile_phone == "" and "447700900123" not in kept.phone_digits
    assert (kept.email, kept.birth_year) == ("ann@example.com", None)
    assert tag_names(kept) == {"VIP"}
    assert tag_names(merged) == {"VIP", "Colour"}
    assert reload(friend).referred_by_id == merged.pk
    assert not merged.is_archived and merged.merged_into is None
    assert record.undone_at is not None and record.undone_by == world.owner


def reload_merge(record: ClientMerge) -> ClientMerge:
    with all_tenants():
        return ClientMerge.objects.get(pk=record.pk)


def test_undo_keeps_edits_made_since_the_merge(world):
    kept = make(world.business)
    merged = make(world.business, mobile_phone="+447700900123", alert="Latex allergy")
    friend = make(world.business, referred_by=merged)
    record = merge(world, kept, merged)
    with all_tenants():
        Client.objects.filter(pk=kept.pk).update(alert="Latex and nut allergy")
        Client.objects.filter(pk=friend.pk).update(referred_by=None)
    undo(world, record)
    kept = reload(kept)
    assert kept.alert == "Latex and nut allergy"  # edited since: kept
    assert kept.mobile_phone == ""  # untouched since: emptied again
    assert reload(friend).referred_by is None


def test_undo_keeps_a_consent_answer_given_since_the_merge_whole(world):
    kept = make(world.business)
    consented_at = timezone.now() - datetime.timedelta(days=30)
    merged = make(
        world.business,
        sms_marketing=True,
        sms_marketing_at=consented_at,
        sms_marketing_source="form",
    )
    record = merge(world, kept, merged)
    with all_tenants():
        # The client withdrew consent at the desk: same source, new answer and time.
        Client.objects.filter(pk=kept.pk).update(
            sms_marketing=False, sms_marketing_at=timezone.now()
        )
    undo(world, record)
    kept = reload(kept)
    assert (kept.sms_marketing, kept.sms_marketing_source) == (False, "form")
    assert kept.sms_marketing_at is not None


def test_undo_unblocks_only_if_the_block_is_as_the_merge_left_it(world):
    kept = make(world.business)
    merged = make(world.business, is_blocked=True, blocked_reason="No-shows")
    record = merge(world, kept, merged)
    undo(world, record)
    assert not reload(kept).is_blocked and reload(kept).blocked_reason == ""
    kept_again = make(world.business)
    merged_again = make(world.business, is_blocked=True, blocked_reason="No-shows")
    record = merge(world, kept_again, merged_again)
    with all_tenants():
        Client.objects.filter(pk=kept_again.pk).update(blocked_reason="Abusive on the phone")
    undo(world, record)
    assert reload(kept_again).is_blocked


def test_undo_twice_is_refused(world):
    kept, merged = make(world.business), make(world.business)
    record = merge(world, kept, merged)
    undo(world, record)
    with pytest.raises(MergeError, match="already undone"):
        undo(world, record)


def test_undo_is_refused_once_the_kept_client_was_merged_again(world):
    first, second, third = make(world.business), make(world.business), make(world.business)
    earlier = merge(world, second, first)
    merge(world, third, second)
    with pytest.raises(MergeError, match="Undo that merge first"):
        undo(world, earlier)


def test_merge_and_undo_signals_are_sent(world):
    from clients.merge import client_merge_undone, client_merged

    seen = []

    def receiver(sender, merge, **kwargs):
        seen.append(merge.pk)

    client_merged.connect(receiver)
    client_merge_undone.connect(receiver)
    try:
        record = merge(world, make(world.business), make(world.business))
        undo(world, record)
    finally:
        client_merged.disconnect(receiver)
        client_merge_undone.disconnect(receiver)
    assert seen == [record.pk, record.pk]


# --- Views -----------------------------------------------------------------------------------


def test_merge_page_shows_both_clients_and_what_will_change(as_manager, world):
    kept = make(world.business, first_name="Ann", last_name="Kept", email="ann@example.com")
    merged = make(
        world.business, first_name="Ann", last_name="Merged", mobile_phone="+447700900123"
    )
    make(world.business, referred_by=merged)
    response = as_manager.get(merge_url(world, kept, merged))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Ann Kept" in content and "Ann Merged" in content
    assert "Will be filled" in content
    assert "Fill 1 empty field of Ann Kept: Mobile phone." in content
    assert "1 clients (referred by)" in content
    assert f"?kept={merged.pk}&amp;merged={kept.pk}" in content  # swap


def test_merge_preview_counts_what_would_move(world):
    kept, merged = make(world.business), make(world.business)
    with all_tenants():
        ClientTagFactory(client=merged)
    with tenant_context(world.business):
        preview = merge_preview(kept=kept, merged=merged)
    assert preview.problem is None
    assert preview.moves == [("client tags", 1)]


def test_posting_the_merge_merges_and_goes_to_the_kept_client(as_owner, world):
    kept, merged = make(world.business), make(world.business)
    response = as_owner.post(merge_url(world, kept, merged), follow=True)
    assert response.redirect_chain[-1][0] == url(world, "detail", pk=kept.pk)
    assert f"{merged.full_name} was merged into {kept.full_name}" in response.content.decode()
    assert reload(merged).merged_into_id == kept.pk


def test_merge_page_explains_why_a_merge_is_impossible(as_manager, world):
    kept = make(world.business)
    archived = make(world.business, archived_at=timezone.now())
    response = as_manager.get(merge_url(world, kept, archived))
    assert b"is archived" in response.content
    assert b"Merge into" not in response.content
    response = as_manager.post(merge_url(world, kept, kept), follow=True)
    assert b"merged into themselves" in response.content
    with all_tenants():
        assert not ClientMerge.objects.exists()


@pytest.mark.parametrize("query", ["", "?kept=1", "?kept=abc&merged=2", "?kept=-1&merged=0"])
def test_merge_page_with_missing_or_bad_ids_explains_instead_of_failing(as_manager, world, query):
    response = as_manager.get(url(world, "merge") + query, follow=True)
    assert response.status_code == 200
    assert b"Choose the two clients to merge" in response.content


def test_merging_a_client_of_another_business_is_404(as_owner, world):
    kept, stranger = make(world.business), make(world.other_business)
    assert as_owner.get(merge_url(world, kept, stranger)).status_code == 404
    assert as_owner.post(merge_url(world, stranger, kept)).status_code == 404
    assert as_owner.get(f"{url(world, 'merge')}?kept={kept.pk}&merged=999999").status_code == 404
    huge = f"{url(world, 'merge')}?kept={kept.pk}&merged={10**30}"
    assert as_owner.get(huge).status_code == 404
    assert not reload(stranger).is_archived


def test_undo_view_undoes_and_goes_to_the_kept_client(as_manager, world):
    kept, merged = make(world.business), make(world.business)
    record = merge(world, kept, merged)
    response = as_manager.post(url(world, "merge-undo", pk=record.pk), follow=True)
    assert response.redirect_chain[-1][0] == url(world, "detail", pk=kept.pk)
    assert b"Merge undone" in response.content
    assert not reload(merged).is_archived
    again = as_manager.post(url(world, "merge-undo", pk=record.pk), follow=True)
    assert b"already undone" in again.content


def test_undo_view_only_accepts_post(as_manager, world):
    record = merge(world, make(world.business), make(world.business))
    assert as_manager.get(url(world, "merge-undo", pk=record.pk)).status_code == 405


def test_undoing_another_business_merge_is_404(as_owner, world):
    kept, merged = make(world.other_business), make(world.other_business)
    with tenant_context(world.other_business):
        record = client_merge(kept=kept, merged=merged, by=world.other_owner)
    assert as_owner.post(url(world, "merge-undo", pk=record.pk)).status_code == 404
    assert reload(merged).is_archived


def every_merge_url(world) -> list[str]:
    kept, merged = make(world.business), make(world.business)
    record = merge(world, make(world.business), make(world.business))
    return [
        url(world, "duplicates"),
        merge_url(world, kept, merged),
        url(world, "merge-undo", pk=record.pk),
    ]


@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_cannot_find_merge_or_undo(as_staff, world, method):
    for address in every_merge_url(world):
        assert getattr(as_staff, method)(address).status_code == 403, address
    with all_tenants():
        assert ClientMerge.objects.filter(undone_at__isnull=True).count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_outsider_gets_404_on_every_merge_url(as_outsider, world, method):
    for address in every_merge_url(world):
        assert getattr(as_outsider, method)(address).status_code == 404, address


@pytest.mark.parametrize("method", ["get", "post"])
def test_owner_of_another_business_gets_404_on_every_merge_url(world, method):
    from tests.conftest import logged_in

    other_owner = logged_in(world.other_owner)
    for address in every_merge_url(world):
        assert getattr(other_owner, method)(address).status_code == 404, address


# --- Merge history on the profile ------------------------------------------------------------


def render_history(world, kept, can_merge):
    request = RequestFactory().get("/")
    request.user = world.manager
    with tenant_context(world.business):
        context = {
            "merges": merges_for_client(kept),
            "can_merge": can_merge,
            "current_business": world.business,
        }
        return render_to_string("clients/_merge_history.html", context, request=request)


def test_merge_history_describes_each_merge_with_an_undo_button(world):
    kept = make(world.business)
    merged = make(world.business, first_name="Jane", last_name="Doe")
    with all_tenants():
        Client.objects.filter(pk=merged.pk).update(
            created_at=datetime.datetime(2025, 3, 3, 12, tzinfo=datetime.UTC)
        )
    world.manager.first_name, world.manager.last_name = "Mona", "Manager"
    world.manager.save()
    record = merge(world, kept, merged)
    html = render_history(world, kept, can_merge=True)
    assert "Jane Doe</a> (created 3 Mar 2025) into this client on" in html
    assert "by Mona Manager" in html
    assert url(world, "merge-undo", pk=record.pk) in html
    assert "csrfmiddlewaretoken" in html
    assert "Undo merge" not in render_history(world, kept, can_merge=False)
    undo(world, record)
    html = render_history(world, kept, can_merge=True)
    assert "Undone on" in html and "Undo merge" not in html


def test_profile_shows_merge_history_to_managers_only(as_manager, as_staff, world):
    kept, merged = make(world.business), make(world.business, first_name="Jane")
    merge(world, kept, merged)
    detail = url(world, "detail", pk=kept.pk)
    assert b"Undo merge" in as_manager.get(detail).content
    staff_page = as_staff.get(detail).content
    assert b"Jane" in staff_page and b"Undo merge" not in staff_page


def test_every_field_a_merge_can_fill_has_a_label():
    from clients.merge import FIELD_GROUPS, LABELS, SINGLE_FIELDS

    fillable = {*SINGLE_FIELDS, *(n for group in FIELD_GROUPS for n in group)}
    assert fillable | {"is_blocked", "blocked_reason"} <= set(LABELS)


def test_merge_covers_every_foreign_key_to_client_in_any_app():
    """Appointments, sales, vouchers… added later move too, with no change to clients/merge."""
    from django.apps import apps

    from clients.merge import _client_foreign_keys, _relation_key

    pointing_at_client = {
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models(include_auto_created=True)
        for field in model._meta.get_fields()
        if field.concrete
        and (field.many_to_one or field.one_to_one)
        and field.related_model is Client
    }
    bookkeeping = {
        "clients.ClientMerge.kept",
        "clients.ClientMerge.merged",
        "clients.Client.merged_into",
    }
    assert {
        _relation_key(key) for key in _client_foreign_keys()
    } == pointing_at_client - bookkeeping
