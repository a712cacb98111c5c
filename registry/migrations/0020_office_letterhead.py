"""The office's letterhead and signatory: government and agency lines, e-mail, website, the head's name, title
and NIP (18 digits, also checked by the database), and a logo; and the staff account's "must change its password"
flag (set when an administrator sets it)."""

from django.db import migrations, models

import registry.models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0019_resident_whatsapp_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="office",
            name="agency_line",
            field=models.CharField(
                blank=True,
                help_text="Misalnya DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL.",
                max_length=120,
                verbose_name="baris instansi",
            ),
        ),
        migrations.AddField(
            model_name="office",
            name="email",
            field=models.EmailField(blank=True, max_length=120, verbose_name="surel"),
        ),
        migrations.AddField(
            model_name="office",
            name="government_line",
            field=models.CharField(
                blank=True,
                help_text="Misalnya PEMERINTAH KABUPATEN PONOROGO. Kosong: dibentuk dari nama wilayah.",
                max_length=120,
                verbose_name="baris pemerintah daerah",
            ),
        ),
        migrations.AddField(
            model_name="office",
            name="head_name",
            field=models.CharField(blank=True, max_length=150, verbose_name="nama kepala"),
        ),
        migrations.AddField(
            model_name="office",
            name="head_nip",
            field=models.CharField(
                blank=True,
                help_text="18 angka, tanpa spasi.",
                max_length=18,
                validators=[registry.models.nip_validate],
                verbose_name="NIP kepala",
            ),
        ),
        migrations.AddField(
            model_name="office",
            name="head_title",
            field=models.CharField(
                blank=True,
                help_text="Seperti tertulis di atas tanda tangan, misalnya Kepala Dinas Kependudukan dan Pencatatan Sipil.",
                max_length=150,
                verbose_name="jabatan kepala",
            ),
        ),
        migrations.AddField(
            model_name="office",
            name="logo",
            field=models.FileField(blank=True, upload_to=registry.models.logo_upload_to, verbose_name="logo"),
        ),
        migrations.AddField(
            model_name="office",
            name="website",
            field=models.URLField(blank=True, max_length=120, verbose_name="situs web"),
        ),
        migrations.AddField(
            model_name="user",
            name="password_change_required",
            field=models.BooleanField(default=False, verbose_name="wajib ganti kata sandi"),
        ),
        migrations.AddConstraint(
            model_name="office",
            constraint=models.CheckConstraint(
                condition=models.Q(("head_nip", ""), ("head_nip__regex", "^[0-9]{18}$"), _connector="OR"),
                name="office_head_nip_18_digits",
            ),
        ),
    ]
