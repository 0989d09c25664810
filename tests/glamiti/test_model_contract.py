"""Every tenant model carries a business and refuses to query without a scope."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import models
from django_scopes import ScopeError

from glamiti.models import Business

OUR_APPS = {"glamiti", "clients", "appointments", "sales", "vouchers", "audit"}
PLATFORM_MODELS = {"glamiti.Business", "glamiti.Membership", "glamiti.User", "sales.StripeEvent"}


def our_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]


def label(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


TENANT_MODELS = [m for m in our_models() if label(m) not in PLATFORM_MODELS]


def test_there_are_tenant_models_to_check():
    assert {"glamiti.TeamMember", "clients.Client"} <= {label(m) for m in TENANT_MODELS}


@pytest.mark.parametrize("model", TENANT_MODELS, ids=label)
def test_tenant_model_has_a_business_foreign_key(model):
    field = model._meta.get_field("business")
    assert isinstance(field, models.ForeignKey)
    assert field.related_model is Business
    assert not field.null, "a tenant row always belongs to a business"


@pytest.mark.parametrize("model", TENANT_MODELS, ids=label)
def test_tenant_model_default_manager_is_scoped(model):
    with pytest.raises(ScopeError):
        model._default_manager.filter(pk=1).exists()
    for manager in model._meta.managers:
        with pytest.raises(ScopeError):
            manager.all().exists()


@pytest.mark.parametrize("model", our_models(), ids=label)
def test_every_model_is_in_the_admin(model):
    assert admin.site.is_registered(model)
