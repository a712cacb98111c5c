# Access-log details, import refusal reasons and import outcomes hold system texts (messaging/system_text.py): the columns are
# unchanged (no SQL); the field class reads a stored key with parameters in the reader's language.

from django.db import migrations

import messaging.system_text


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0020_office_letterhead"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accesslog",
            name="detail",
            field=messaging.system_text.SystemTextField(blank=True, max_length=255, verbose_name="keterangan"),
        ),
        migrations.AlterField(
            model_name="importrowerror",
            name="reason",
            field=messaging.system_text.SystemTextField(max_length=500, verbose_name="alasan"),
        ),
        migrations.AlterField(
            model_name="residentimport",
            name="message",
            field=messaging.system_text.SystemTextTextField(blank=True, verbose_name="pesan"),
        ),
    ]
