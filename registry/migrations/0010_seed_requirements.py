"""The requirements per kind that the offices ask for today; administrators edit them afterwards."""

from django.db import migrations

REQUIREMENTS = [
    # kind, code, name, description, stage, position
    ("hilang", "surat-kehilangan", "Surat keterangan kehilangan dari kepolisian",
     "Surat kehilangan dari Polsek/Polres, difoto atau dipindai.", "document", 1),
    ("rusak", "ktp-lama", "KTP-el lama diserahkan",
     "KTP-el yang rusak ditarik saat kartu baru diserahkan.", "handover", 1),
    ("ubah_data", "dokumen-pendukung", "Dokumen pendukung perubahan data",
     "Mis. akta, surat nikah/cerai, ijazah, atau KK terbaru sesuai data yang diubah.", "document", 1),
    ("ubah_data", "ktp-lama", "KTP-el lama diserahkan",
     "KTP-el lama ditarik saat kartu baru diserahkan.", "handover", 2),
]  # fmt: skip


def seed(apps, schema_editor):
    Requirement = apps.get_model("registry", "Requirement")
    for kind, code, name, description, stage, position in REQUIREMENTS:
        Requirement.objects.get_or_create(
            kind=kind,
            code=code,
            defaults={"name": name, "description": description, "stage": stage, "position": position},
        )


def unseed(apps, schema_editor):
    Requirement = apps.get_model("registry", "Requirement")
    for kind, code, *_rest in REQUIREMENTS:
        Requirement.objects.filter(kind=kind, code=code).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0009_card_requests")]
    operations = [migrations.RunPython(seed, unseed)]
