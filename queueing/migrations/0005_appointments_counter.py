"""Route 1 at the counter: a walk-in ticket tied to the resident's request, the walk-in appointment made for
the ticket's place, and the day's one call queue on appointments (waiting, called, served, absent)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

CALL_STATUSES = [
    ("waiting", "Menunggu"),
    ("called", "Dipanggil"),
    ("served", "Selesai dilayani"),
    ("absent", "Tidak ada saat dipanggil"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("cards", "0002_pipeline_routes"),
        ("queueing", "0004_cards_app"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="call_status",
            field=models.CharField(blank=True, choices=CALL_STATUSES, max_length=10, verbose_name="panggilan"),
        ),
        migrations.AddField(
            model_name="booking",
            name="called_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="dipanggil"),
        ),
        migrations.AddField(
            model_name="booking",
            name="called_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="dipanggil oleh",
            ),
        ),
        migrations.AddField(
            model_name="booking",
            name="counter",
            field=models.CharField(blank=True, max_length=20, verbose_name="loket"),
        ),
        migrations.AddField(
            model_name="booking",
            name="ticket",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="booking",
                to="queueing.walkinticket",
                verbose_name="nomor antrean datang langsung",
            ),
        ),
        migrations.AddField(
            model_name="walkinticket",
            name="card_request",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="walk_in_tickets",
                to="cards.cardrequest",
                verbose_name="permohonan",
            ),
        ),
        migrations.AddField(
            model_name="walkinticket",
            name="ended_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="selesai"),
        ),
        # Checked-in appointments already in the queue wait to be called.
        migrations.RunSQL(
            "UPDATE queueing_booking SET call_status = 'waiting' WHERE status = 'checked_in'",
            migrations.RunSQL.noop,
        ),
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(
                condition=models.Q(("status", "checked_in"), ("call_status", ""), _connector="OR"),
                name="booking_only_checked_in_is_called",
            ),
        ),
    ]
