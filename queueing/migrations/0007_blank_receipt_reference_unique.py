# The receipt reference of blank cards is unique per office (without case): the same delivery can no longer be
# counted twice. Receipts recorded twice before are kept (the stock already counts them), their references
# made distinct first so the constraint can be created: the second and later get " (2)", " (3)", ...

from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import Lower


def references_make_unique(apps, schema_editor):
    BlankMovement = apps.get_model("queueing", "BlankMovement")
    receipts = BlankMovement.objects.filter(kind="receipt").order_by("office_id", "created_at", "id")
    taken: dict[int, set[str]] = {}
    for office_id, reference in receipts.values_list("office_id", "reference"):
        taken.setdefault(office_id, set()).add(reference.lower())
    seen: dict[int, set[str]] = {}
    for receipt in receipts.only("id", "office_id", "reference"):
        office_seen = seen.setdefault(receipt.office_id, set())
        key = receipt.reference.lower()
        if key not in office_seen:
            office_seen.add(key)
            continue
        number = 2
        while True:
            suffix = f" ({number})"
            candidate = receipt.reference[: 200 - len(suffix)] + suffix
            if candidate.lower() not in taken[receipt.office_id]:
                break
            number += 1
        BlankMovement.objects.filter(pk=receipt.pk).update(reference=candidate)
        taken[receipt.office_id].add(candidate.lower())
        office_seen.add(candidate.lower())


class Migration(migrations.Migration):
    dependencies = [
        ("queueing", "0006_printing"),
    ]

    operations = [
        migrations.RunPython(references_make_unique, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="blankmovement",
            constraint=models.UniqueConstraint(
                F("office"),
                Lower("reference"),
                condition=models.Q(("kind", "receipt")),
                name="blankmovement_receipt_reference_unique",
            ),
        ),
    ]
