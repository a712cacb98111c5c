"""Forms of the staff pages (registry/staff_views.py). They validate what a field can tell on its own and the
rules the service checks again (registry/staff.py), so a wrong value is an error beside its field and changes
nothing."""

from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts, validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from registry.models import Role, User
from registry.roles import role_office_error
from registry.staff import staff_offices_for, staff_password_generate, staff_role_problem


class OfficeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class StaffFilterForm(forms.Form):
    """The list's filters (GET)."""

    STATUS_CHOICES = [
        ("", _("Semua status")),
        ("active", _("Aktif")),
        ("inactive", _("Nonaktif")),
        ("locked", _("Terkunci (gagal masuk)")),
        ("no_mfa", _("Tanpa autentikasi dua langkah")),
    ]

    q = forms.CharField(label=_("Nama atau nama pengguna"), required=False, max_length=100)
    role = forms.ChoiceField(label=_("Peran"), required=False, choices=[("", _("Semua peran")), *Role.choices])
    office = OfficeChoiceField(label=_("Kantor"), required=False, queryset=None, empty_label=_("Semua kantor"))
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)
    # The administrator's home links here with what needs a look (delivery/home.py staff_attention): active
    # accounts never signed in, locked out, or without the second factor their role needs.
    perhatian = forms.ChoiceField(
        label=_("Perlu perhatian"),
        required=False,
        choices=[
            ("", _("Semua")),
            ("belum-masuk", _("Belum pernah masuk")),
            ("terkunci", _("Terkunci (gagal masuk)")),
            ("tanpa-2fa", _("Wajib 2FA, belum aktif")),
        ],
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = staff_offices_for(user)


class _PasswordFields(forms.Form):
    """An initial or new password: one the administrator types twice, or one generated and shown once."""

    PASSWORD_MODES = [
        ("generate", _("Buat otomatis (ditampilkan sekali setelah disimpan)")),
        ("set", _("Saya tentukan sendiri")),
    ]

    password_mode = forms.ChoiceField(label=_("Kata sandi awal"), choices=PASSWORD_MODES, initial="generate")
    password1 = forms.CharField(
        label=_("Kata sandi baru"),
        required=False,
        # The rules (length, not only digits, not a common one), under the field it applies to.
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=lambda: " ".join(password_validators_help_texts()),
    )
    password2 = forms.CharField(
        label=_("Ulangi kata sandi"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def password_chosen(self) -> tuple[str, bool]:
        """The password to set and whether it was generated (then it is shown once)."""
        if self.cleaned_data["password_mode"] == "set":  # noqa: S105 (a mode, not a password)
            return self.cleaned_data["password1"], False
        return staff_password_generate(), True

    def password_check(self, account: User) -> None:
        """Add the field errors of a typed password (for `account`, whose names the validators compare it to)."""
        if self.cleaned_data.get("password_mode") != "set":
            return
        password1, password2 = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if not password1:
            self.add_error("password1", _("Tulis kata sandinya, atau pilih dibuat otomatis."))
            return
        if password1 != password2:
            self.add_error("password2", _("Kedua kata sandi tidak sama."))
            return
        try:
            validate_password(password1, account)
        except ValidationError as exc:
            self.add_error("password1", exc)


class _AccountFields(forms.Form):
    first_name = forms.CharField(label=_("Nama depan"), max_length=150)
    last_name = forms.CharField(label=_("Nama belakang"), max_length=150, required=False)
    email = forms.EmailField(label=_("Surel"), required=False)
    role = forms.ChoiceField(label=_("Peran"), choices=Role.choices)
    office = OfficeChoiceField(
        label=_("Kantor"),
        queryset=None,
        help_text=_("Operator UPTD di kantor UPTD; peran lain di kantor Disdukcapil."),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = staff_offices_for(user)

    def clean(self) -> dict:
        cleaned = super().clean()
        role, office = cleaned.get("role"), cleaned.get("office")
        if role and office is not None and (error := role_office_error(role=role, office=office)):
            self.add_error("office", error)
        return cleaned


class StaffCreateForm(_AccountFields, _PasswordFields):
    username = forms.CharField(
        label=_("Nama pengguna"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Untuk masuk; huruf, angka dan . @ + - _ saja."),
    )
    field_order = ["username", "first_name", "last_name", "email", "role", "office", "password_mode"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("Nama pengguna itu sudah dipakai."))
        return username

    def clean(self) -> dict:
        cleaned = super().clean()
        self.password_check(
            User(
                username=cleaned.get("username", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
                email=cleaned.get("email", ""),
            )
        )
        return cleaned


class StaffEditForm(_AccountFields):
    """Name, e-mail, role and office of an account; one's own role and office, and (outside the platform) a
    peer administrator's, are shown, not editable."""

    def __init__(self, *args, user: User, account: User, **kwargs) -> None:
        initial = {
            "first_name": account.first_name,
            "last_name": account.last_name,
            "email": account.email,
            "role": account.role,
            "office": account.office_id,
        }
        super().__init__(*args, user=user, initial=initial, **kwargs)
        self.account = account
        if account.pk == user.pk:
            for name in ("role", "office"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Peran dan kantor akun Anda sendiri diubah oleh administrator lain.")
        elif problem := staff_role_problem(by=user, account=account):
            for name in ("role", "office"):
                self.fields[name].disabled = True
                self.fields[name].help_text = problem
        if account.office_id and not self.fields["office"].queryset.filter(pk=account.office_id).exists():
            # An account left at an office closed since: it stays where it is until moved.
            self.fields["office"].queryset = self.fields["office"].queryset | type(account.office).objects.filter(
                pk=account.office_id
            )


class StaffPasswordForm(_PasswordFields):
    def __init__(self, *args, account: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.account = account

    def clean(self) -> dict:
        cleaned = super().clean()
        self.password_check(self.account)
        return cleaned
