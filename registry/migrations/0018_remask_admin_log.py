"""The admin's "recent actions" and history pages show the one mask (issue 12).

django_admin_log.object_repr keeps the str() of a row at the time of the action: a resident or family changed
before issue 12 reads `NAMA (3502********0001)`, the old mask that kept the NIK's serial. Those are rewritten with
the head and twelve stars (`3502************`), what `registry.models.mask_number` shows now. The access log
cannot be rewritten (append-only, hash-chained): its rows are re-masked when shown (`registry.tables`).

The pattern is written out here, not imported: a migration is frozen history and must not change when the app's
code does. Reversing is a no-op (the serials are gone on purpose).
"""

import re

from django.db import migrations

OLD_MASK = re.compile(r"\b([0-9]{4})\*{8}[0-9]{4}\b")
OLD_MASK_SQL = r"[0-9]{4}\*{8}[0-9]{4}"
BATCH = 500


def remask_object_repr(apps, schema_editor):
    LogEntry = apps.get_model("admin", "LogEntry")
    entries = LogEntry.objects.using(schema_editor.connection.alias).filter(object_repr__regex=OLD_MASK_SQL)
    changed = []
    for entry in entries.only("id", "object_repr").iterator(chunk_size=BATCH):
        remasked = OLD_MASK.sub(lambda m: f"{m.group(1)}{'*' * 12}", entry.object_repr)
        if remasked != entry.object_repr:
            entry.object_repr = remasked
            changed.append(entry)
        if len(changed) >= BATCH:
            LogEntry.objects.using(schema_editor.connection.alias).bulk_update(changed, ["object_repr"])
            changed = []
    if changed:
        LogEntry.objects.using(schema_editor.connection.alias).bulk_update(changed, ["object_repr"])


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("registry", "0017_accesslog_hash_chain"),
    ]

    operations = [
        migrations.RunPython(remask_object_repr, migrations.RunPython.noop, elidable=True),
    ]
