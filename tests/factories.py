import factory
from django.contrib.auth import get_user_model

from clients.models import Client
from glamiti.models import Business, Membership, Role, TeamMember

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)


class BusinessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Business
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Salon {n}")
    slug = factory.Sequence(lambda n: f"salon-{n}")
    time_zone = "Europe/London"
    currency = "GBP"
    country = "GB"
    locale = "en-GB"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    business = factory.SubFactory(BusinessFactory)
    role = Role.STAFF


class TeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMember

    business = factory.SubFactory(BusinessFactory)
    name = factory.Faker("name")
    job_title = "Stylist"


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    business = factory.SubFactory(BusinessFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"client{n}@example.com")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clients.Tag"
        django_get_or_create = ["business", "name"]

    business = factory.SubFactory(BusinessFactory)
    name = factory.Sequence(lambda n: f"Tag {n}")


class ClientTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clients.ClientTag"

    client = factory.SubFactory(ClientFactory)
    business = factory.SelfAttribute("client.business")
    tag = factory.SubFactory(TagFactory, business=factory.SelfAttribute("..client.business"))
