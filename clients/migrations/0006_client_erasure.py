"""GDPR erasure (clients/privacy.py): when a client's personal data was erased for good."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0004_consent_records"),
    ]

    operations = [
        migrations.AddField(
            model_name="client",
            name="erased_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
