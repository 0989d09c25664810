from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("glamiti", "0004_row_level_security"),
    ]

    operations = [
        migrations.AddField(
            model_name="business",
            name="mask_contacts_from_staff",
            field=models.BooleanField(
                default=False,
                help_text="Staff then see first names with the initial of the last name, masked "
                "e-mail addresses and only the last 4 digits of phone numbers.",
                verbose_name="Hide client contact details from staff",
            ),
        ),
        migrations.AddField(
            model_name="business",
            name="retention_years",
            field=models.PositiveSmallIntegerField(
                blank=True, null=True, verbose_name="Erase clients with no visit for N years"
            ),
        ),
    ]
