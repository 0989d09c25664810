"""Card actions on the client's Cards tab: add a card (Stripe's card field), make one the
default, remove one. The tab itself is `sales.profile_tabs.cards_tab`."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from clients.masking import display_name
from clients.models import Client
from clients.profile import profile_client
from glamiti.models import Role
from glamiti.tenancy import BusinessRequest, role_required
from sales import cards, stripe_api
from sales.cards import CardError, StripeError
from sales.models import CardSetup, CardSetupStatus, SavedCard


def _tab_url(request: BusinessRequest, client: Client) -> str:
    return reverse("profile:cards", kwargs={"business": request.business.slug, "pk": client.pk})


def _card(request: BusinessRequest, client: Client, card_pk: int) -> SavedCard:
    cards_on_file = SavedCard.objects.filter(
        business=request.business, client=client, removed_at__isnull=True
    )
    return get_object_or_404(cards_on_file, pk=card_pk)


def _setup(request: BusinessRequest, client: Client, setup_pk: int) -> CardSetup:
    setups = CardSetup.objects.filter(business=request.business, client=client)
    return get_object_or_404(setups.select_related("card"), pk=setup_pk)


def _saved(card: SavedCard) -> str:
    return f"{card.brand.title()} •••• {card.last4}"


@require_POST
@role_required(Role.STAFF)
def card_add(request: BusinessRequest, pk: int) -> HttpResponse:
    """Start adding a card (a SetupIntent), then show Stripe's card field for it."""
    client = profile_client(request, pk)
    try:
        setup, _ = cards.card_setup_start(client=client, by=request.user)
    except (CardError, StripeError) as error:
        messages.error(request, f"The card field couldn't be opened. {error.message}")
        return redirect(_tab_url(request, client))
    kwargs = {"business": request.business.slug, "pk": client.pk, "setup_pk": setup.pk}
    return redirect(reverse("profile:card-setup", kwargs=kwargs))


@role_required(Role.STAFF)
def card_setup(request: BusinessRequest, pk: int, setup_pk: int) -> HttpResponse:
    """The page with Stripe's card field, confirming the setup in the browser."""
    client = profile_client(request, pk)
    setup = _setup(request, client, setup_pk)
    if setup.status == CardSetupStatus.SUCCEEDED:
        messages.info(request, "That card is already saved.")
        return redirect(_tab_url(request, client))
    context = {"client": client, "setup": setup, "client_secret": "", "problem": ""}
    try:
        status, context["client_secret"] = cards.card_setup_client_secret(setup)
    except StripeError as error:
        context["problem"] = error.message
    else:
        if status not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            # Confirmed already (a reload after the card field finished), or over.
            return _complete(request, client, setup)
    context.update(
        publishable_key=stripe_api.publishable_key(),
        stripe_js_url=stripe_api.js_url(),
        tab_url=_tab_url(request, client),
    )
    return render(request, "sales/card_add.html", context)


@require_POST
@role_required(Role.STAFF)
def card_setup_complete(request: BusinessRequest, pk: int, setup_pk: int) -> HttpResponse:
    """The card field confirmed the setup: save the card Stripe now holds."""
    client = profile_client(request, pk)
    return _complete(request, client, _setup(request, client, setup_pk))


def _complete(request: BusinessRequest, client: Client, setup: CardSetup) -> HttpResponse:
    try:
        card = cards.card_setup_complete(setup=setup)
    except (CardError, StripeError) as error:
        messages.error(request, error.message)
    else:
        default = " It is the default card." if card.is_default else ""
        messages.success(request, f"{_saved(card)} saved for {display_name(client)}.{default}")
    return redirect(_tab_url(request, client))


@require_POST
@role_required(Role.STAFF)
def card_make_default(request: BusinessRequest, pk: int, card_pk: int) -> HttpResponse:
    client = profile_client(request, pk)
    card = _card(request, client, card_pk)
    try:
        cards.card_set_default(card=card)
    except CardError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{_saved(card)} is now the default card.")
    return redirect(_tab_url(request, client))


@require_POST
@role_required(Role.STAFF)
def card_delete(request: BusinessRequest, pk: int, card_pk: int) -> HttpResponse:
    client = profile_client(request, pk)
    card = _card(request, client, card_pk)
    try:
        cards.card_remove(card=card)
    except (CardError, StripeError) as error:
        messages.error(request, f"{_saved(card)} was not removed. {error.message}")
    else:
        messages.success(request, f"{_saved(card)} removed.")
    return redirect(_tab_url(request, client))
