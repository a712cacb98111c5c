"""Admin of the WhatsApp and SMS desk: an office's numbers and what each accepts, its own wording of the messages
to residents, and what arrived (raw payloads and messages, read-only; a failed payload can be processed again).

Scoped like the rest of the admin (registry/admin_scoping.py): a kabupaten administrator sees and edits its own
offices' rows only, and picks only its own offices; a platform superuser sees everything. What residents typed
is shown with NIK-like numbers masked.
"""

from __future__ import annotations

import string

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from intake import tasks
from intake.inbox import numbers_masked, preview
from intake.models import InboundMessage, Source, WebhookPayload
from messaging.messages import TEMPLATES
from messaging.models import MessageTemplate, OfficeNumber
from registry import clock
from registry.admin import ReadOnlyAdminMixin
from registry.admin_scoping import ProjectModelAdmin
from registry.models import Office
from registry.roles import is_platform_superuser

# Every message names its addressee: notification_write and reply_write always pass `name`.
ALWAYS_GIVEN = frozenset({"name"})


def _offices(request: HttpRequest) -> QuerySet[Office]:
    return Office.objects.visible_to(request.user)


class OfficeScopedAdmin(ProjectModelAdmin):
    """Rows of the offices in the editor's scope (the model's `office`); another office's row answers like a
    row that does not exist."""

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if is_platform_superuser(request.user):
            return queryset
        return queryset.filter(office__in=_offices(request))


# --- numbers ------------------------------------------------------------------------------------------------


class OfficeNumberForm(forms.ModelForm):
    class Meta:
        model = OfficeNumber
        fields = (
            "office", "channel", "number", "label", "phone_number_id", "is_active", "accepts_booking",
            "accepts_request", "accepts_sync", "accepts_question", "accepts_status", "sends_updates",
        )  # fmt: skip

    def clean_number(self) -> str:
        number = "".join(ch for ch in self.cleaned_data["number"] if not ch.isspace())
        if not (number.isdigit() and number.startswith("62") and 9 <= len(number) <= 15):
            raise forms.ValidationError(gettext("Tulis nomor dalam format 62…, hanya angka (mis. 6281234567890)."))
        return number

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("channel") == OfficeNumber.Channel.WHATSAPP and not cleaned.get("phone_number_id"):
            self.add_error(
                "phone_number_id",
                gettext("Nomor WhatsApp perlu Phone number ID dari Cloud API: pesan masuk dikenali lewat ID itu."),
            )
        return cleaned


@admin.register(OfficeNumber)
class OfficeNumberAdmin(OfficeScopedAdmin):
    """The office's WhatsApp numbers and SMS centres, each with what residents send to it (a message in the
    wrong format for its number gets the right format and the right number back)."""

    form = OfficeNumberForm
    list_display = (
        "number", "label", "channel", "office", "accepts_booking", "accepts_request", "accepts_sync",
        "accepts_question", "accepts_status", "sends_updates", "is_active",
    )  # fmt: skip
    list_filter = ("channel", "is_active", "sends_updates")
    list_select_related = ("office",)
    search_fields = ("number", "label")
    fieldsets = (
        (None, {"fields": ("office", "channel", "number", "label", "phone_number_id", "is_active")}),
        (
            _("Yang diterima nomor ini"),
            {"fields": ("accepts_booking", "accepts_request", "accepts_sync", "accepts_question", "accepts_status")},
        ),
        (_("Pesan dari kantor"), {"fields": ("sends_updates",)}),
    )


# --- wording --------------------------------------------------------------------------------------------------


def placeholders(text: str) -> set[str]:
    """The `{names}` a text fills in."""
    return {field for _literal, field, _spec, _conv in string.Formatter().parse(text) if field}


def template_text_problems(code: str, text: str) -> list[str]:
    """Why an office's text for `code` would not render with the values that message has, in Indonesian; []
    when it renders. Only plain `{name}` placeholders the built-in text has (and `{name}`) are accepted: no
    `{0}`, `{name.attr}`, `{name[0]}`, conversions or formats."""
    allowed = placeholders(TEMPLATES[code]) | ALWAYS_GIVEN
    available = ", ".join(f"{{{name}}}" for name in sorted(allowed))
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return [gettext("Kurung kurawal { } tidak berpasangan. Tulis {{ atau }} untuk kurung kurawal biasa.")]
    problems = []
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in allowed or spec or conversion:
            problems.append(
                gettext("Tempat isian {%(field)s} tidak dikenal untuk pesan ini. Yang tersedia: %(available)s.")
                % {
                    "field": field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else ""),
                    "available": available,
                }  # fmt: skip
            )
    if not problems:
        try:
            text.format(**dict.fromkeys(allowed, "x"))
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            problems.append(gettext("Teks tidak dapat disusun: %(error)s") % {"error": exc})
    return problems


def _code_choices() -> list[tuple[str, str]]:
    """Every message code, with the placeholders its text may use."""
    return [
        (code, f"{code} — {' '.join(f'{{{n}}}' for n in sorted(placeholders(TEMPLATES[code]) | ALWAYS_GIVEN))}")
        for code in sorted(TEMPLATES)
    ]


class MessageTemplateForm(forms.ModelForm):
    code = forms.ChoiceField(label=_("kode"), choices=_code_choices)

    class Meta:
        model = MessageTemplate
        fields = ("office", "code", "text", "wa_template_name", "wa_template_language")
        widgets = {"text": forms.Textarea(attrs={"rows": 6, "cols": 90})}

    def clean(self):
        cleaned = super().clean()
        code, text = cleaned.get("code"), cleaned.get("text")
        if code and text:
            for problem in template_text_problems(code, text):
                self.add_error("text", problem)
        return cleaned


@admin.register(MessageTemplate)
class MessageTemplateAdmin(OfficeScopedAdmin):
    """An office's own wording of a message to residents; without one, the built-in text is sent. The text is
    checked by rendering it with that message's placeholders, so a misspelt `{placeholder}` is refused here
    rather than found by a resident."""

    form = MessageTemplateForm
    list_display = ("code", "office", "text_start", "wa_template_name", "updated_at", "updated_by")
    list_filter = ("code",)
    list_select_related = ("office", "updated_by")
    search_fields = ("code", "text")
    readonly_fields = ("builtin_text", "updated_at", "updated_by")

    def get_fields(self, request: HttpRequest, obj: MessageTemplate | None = None):
        fields = ["office", "code", "text", "wa_template_name", "wa_template_language"]
        return fields if obj is None else [*fields[:2], "builtin_text", *fields[2:], "updated_at", "updated_by"]

    def get_form(self, request: HttpRequest, obj: MessageTemplate | None = None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["text"].help_text = gettext(
            "Hanya tempat isian yang tertulis di samping kode (mis. {number}); footer “gratis” ditambahkan "
            "otomatis. Nama templat WhatsApp dipakai di luar jendela 24 jam."
        )
        return form

    @admin.display(description=_("teks bawaan"))
    def builtin_text(self, obj: MessageTemplate) -> str:
        return TEMPLATES.get(obj.code, "")

    @admin.display(description=_("isi"))
    def text_start(self, obj: MessageTemplate) -> str:
        return preview(obj.text)

    def save_model(self, request: HttpRequest, obj: MessageTemplate, form, change: bool) -> None:
        obj.updated_by = request.user
        obj.updated_at = clock.now()
        super().save_model(request, obj, form, change)


# --- what arrived ---------------------------------------------------------------------------------------------


@admin.register(WebhookPayload)
class WebhookPayloadAdmin(ReadOnlyAdminMixin, ProjectModelAdmin):
    """Payloads as they arrived, kept after a failure; "process again" puts failed ones back in line. A
    kabupaten administrator sees the payloads of its own numbers (an SMS centre's, or a WhatsApp payload naming
    one of its Cloud API number ids)."""

    list_display = ("received_at", "source", "status", "attempts", "error_start", "processed_at")
    list_filter = ("status", "source")
    fields = (
        "received_at", "source", "status", "attempts", "processed_at", "office_number", "error_masked", "body_masked",
    )  # fmt: skip
    readonly_fields = ("error_masked", "body_masked")
    actions = ("process_again",)
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if is_platform_superuser(request.user):
            return queryset
        numbers = OfficeNumber.objects.filter(office__in=_offices(request))
        condition = Q(office_number__in=numbers)
        # A WhatsApp payload names its number inside ("phone_number_id": "…"); the ids are long and unique.
        for phone_number_id in numbers.exclude(phone_number_id="").values_list("phone_number_id", flat=True):
            condition |= Q(source=Source.WHATSAPP, body__contains=f'"{phone_number_id}"')
        return queryset.filter(condition)

    def has_process_again_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("intake.change_webhookpayload")

    @admin.action(description=_("Proses ulang kiriman yang gagal"), permissions=["process_again"])
    def process_again(self, request: HttpRequest, queryset: QuerySet[WebhookPayload]) -> None:
        """Failed payloads back to pending (attempts from zero), each sent to the processing task once the
        reset is committed; processing is idempotent (a message id is stored once)."""
        ids = list(queryset.filter(status=WebhookPayload.Status.FAILED).values_list("pk", flat=True))
        with transaction.atomic():
            WebhookPayload.objects.filter(pk__in=ids, status=WebhookPayload.Status.FAILED).update(
                status=WebhookPayload.Status.PENDING, attempts=0
            )
            for payload_id in ids:
                transaction.on_commit(lambda pk=payload_id: tasks.enqueue(tasks.process_payload, pk))
        self.message_user(
            request,
            gettext("%(n)d kiriman diproses ulang.") % {"n": len(ids)},
            messages.SUCCESS if ids else messages.WARNING,
        )

    @admin.display(description=_("galat"))
    def error_start(self, obj: WebhookPayload) -> str:
        return preview(obj.error.splitlines()[0] if obj.error else "")

    @admin.display(description=_("galat"))
    def error_masked(self, obj: WebhookPayload) -> str:
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', numbers_masked(obj.error))

    @admin.display(description=_("isi mentah (nomor panjang disamarkan)"))
    def body_masked(self, obj: WebhookPayload) -> str:
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', numbers_masked(obj.body))


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdminMixin, OfficeScopedAdmin):
    """Every message residents sent, once, with what it did; NIK-like numbers masked."""

    list_display = ("received_at", "source", "office", "contact", "kind", "intent", "outcome", "text_start")
    list_filter = ("source", "kind", "intent", "outcome")
    list_select_related = ("office", "contact")
    show_full_result_count = False
    fields = (
        "received_at", "sent_at", "source", "provider_message_id", "office", "office_number", "contact", "thread",
        "kind", "text_masked", "media_type", "media_name_masked", "media_error", "intent", "outcome",
        "card_request", "reply", "answered_at", "error_masked", "payload",
    )  # fmt: skip
    readonly_fields = ("text_masked", "media_name_masked", "error_masked")

    @admin.display(description=_("isi"))
    def text_start(self, obj: InboundMessage) -> str:
        return preview(obj.text)

    @admin.display(description=_("isi"))
    def text_masked(self, obj: InboundMessage) -> str:
        return numbers_masked(obj.text)

    @admin.display(description=_("nama berkas"))
    def media_name_masked(self, obj: InboundMessage) -> str:
        return numbers_masked(obj.media_name)

    @admin.display(description=_("galat"))
    def error_masked(self, obj: InboundMessage) -> str:
        return numbers_masked(obj.error)
