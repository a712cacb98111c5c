"""The work queue's keyset pages and tab counts: one partial index over the open requests, one over the closed."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cards", "0006_status_label_sedang_diverifikasi"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="cardrequest",
            index=models.Index(
                fields=["-is_urgent", "queued_at", "id", "kecamatan", "status", "urgent_status"],
                condition=models.Q(
                    status__in=[
                        "incomplete",
                        "printed",
                        "ready_for_pickup",
                        "ready_to_print",
                        "received",
                        "scheduled",
                        "sent_to_uptd",
                        "shipped",
                        "verifying",
                    ]
                ),
                name="cardrequest_open_work",
            ),
        ),
        migrations.AddIndex(
            model_name="cardrequest",
            index=models.Index(
                fields=["-is_urgent", "queued_at", "id", "kecamatan"],
                condition=models.Q(status__in=["cancelled", "handed_over", "rejected"]),
                name="cardrequest_closed_work",
            ),
        ),
    ]
