"""The texts residents receive, in Bahasa Indonesia (residents are written to in Indonesian whatever the
staff member's UI language). One template per code; `notification_write` renders and stores one row."""

from __future__ import annotations

from django.utils import translation

from messaging.models import Notification
from messaging.reminder_texts import REMINDER_TEMPLATES
from messaging.replies import REPLY_TEMPLATES

FOOTER = "Layanan adminduk GRATIS, tidak dipungut biaya."

TEMPLATES: dict[str, str] = {
    "request_received": (
        "Permohonan KTP-el {kind} atas nama {name} sudah kami terima dengan nomor {number}. "
        "Kami kabari lagi setelah diverifikasi."
    ),
    "request_incomplete": (
        "Permohonan KTP-el {number} atas nama {name} BELUM LENGKAP. Mohon kirimkan:\n{missing}\n"
        "Balas pesan ini dengan foto/PDF dokumennya."
    ),
    "ready_counter": (
        "Permohonan KTP-el {number} atas nama {name} sudah lengkap. Kartu dicetak saat Anda datang ke {office}: "
        "tunggu jadwal atau undangan dari kami, atau ambil nomor antrean datang langsung."
    ),
    "ready_collect": (
        "Permohonan KTP-el {number} atas nama {name} sudah lengkap dan masuk daftar cetak. Kami kabari begitu kartu "
        "jadi dan dapat diambil di {place}; tidak perlu datang sebelum itu."
    ),
    "ready_uptd": (
        "Permohonan KTP-el {number} atas nama {name} sudah lengkap. Kartu dicetak lalu dikirim ke {place}; kami "
        "kabari begitu kartu tiba di sana. Tidak perlu datang ke kantor kabupaten."
    ),
    "ready_post": (
        "Permohonan KTP-el {number} atas nama {name} sudah lengkap. Kartu dicetak lalu dikirim lewat Pos Indonesia "
        "(bayar di tempat Rp {fee}, ongkos kurir saja)."
    ),
    "ready_waits_wajib_ktp": (
        "Permohonan KTP-el {number} atas nama {name} sudah lengkap. Kartu dicetak mulai ulang tahun Anda yang "
        "ke-17, saat Anda wajib KTP; kami kabari lagi menjelang hari itu."
    ),
    "route_changed": (
        "Cara penerimaan KTP-el {number} atas nama {name} diubah menjadi: {route} ({place}). Kami kabari langkah "
        "berikutnya."
    ),
    "request_returned_by_post": (
        "KTP-el {number} atas nama {name} tidak dapat diantar Pos dan sudah kembali ke {place}. Silakan ambil "
        "SENDIRI di sana (verifikasi sidik jari dan aktivasi)."
    ),
    "request_delivered": "KTP-el {number} atas nama {name} sudah diterima lewat Pos Indonesia. Terima kasih.",
    "request_ready_for_pickup": (
        "KTP-el {number} atas nama {name} sudah jadi dan dapat diambil SENDIRI di {place} mulai {ready_from} "
        "pada jam layanan (verifikasi sidik jari dan aktivasi). Bawa KTP lama bila ada."
    ),
    "booking_confirmed": (
        "Permohonan KTP-el {number} atas nama {name} dijadwalkan pada {day} di {office}, nomor antrean {queue}. "
        "Datang sesuai tanggal; bawa bukti pesan ini."
    ),
    "invitation": (
        "UNDANGAN: KTP-el {number} atas nama {name} siap dicetak. Silakan datang SENDIRI ke {office} pada {day}, "
        "nomor antrean {queue}. Tunjukkan pesan ini atau surat undangan (kode QR). Undangan berlaku hanya pada "
        "tanggal itu."
    ),
    "no_show_reinvited": (
        "Anda tidak hadir pada jadwal KTP-el {number} atas nama {name}. Kami undang sekali lagi pada {day} di "
        "{office}, nomor antrean {queue}."
    ),
    "no_show_returned": (
        "Anda tidak hadir pada jadwal KTP-el {number} atas nama {name}. Permohonan tetap tersimpan; balas pesan "
        "ini untuk meminta jadwal baru."
    ),
    "booking_cancelled_closed": (
        "Layanan pada {day} ditutup ({reason}). Jadwal KTP-el {number} atas nama {name} dibatalkan dan belum ada "
        "hari pengganti; kami kabari lagi begitu ada jadwal."
    ),
    "suket_issued": (
        "Blangko KTP-el sedang habis. Untuk permohonan {number} atas nama {name} diterbitkan Surat Keterangan "
        "{suket} yang berlaku sama dengan KTP-el sampai {until}. KTP-el dicetak lebih dulu begitu blangko datang."
    ),
    "request_shipped": (
        "KTP-el {number} atas nama {name} sudah dikirim lewat Pos Indonesia, nomor resi {tracking}. Siapkan Rp {fee} "
        "untuk kurir (bayar di tempat); serahkan KTP lama kepada kurir bila diminta."
    ),
    "request_at_uptd": (
        "KTP-el {number} atas nama {name} sudah tiba di {place}. Silakan ambil sendiri di sana "
        "untuk verifikasi sidik jari dan aktivasi."
    ),
    "request_handed_over": "KTP-el {number} atas nama {name} sudah diserahkan. Terima kasih.",
    "request_rejected": "Permohonan KTP-el {number} atas nama {name} ditolak. Alasan: {reason}",
    "request_cancelled": "Permohonan KTP-el {number} atas nama {name} dibatalkan. Alasan: {reason}",
    "urgent_approved": "Permohonan KTP-el {number} atas nama {name} disetujui sebagai PRIORITAS MENDESAK.",
    "urgent_refused": (
        "Permohonan prioritas mendesak untuk KTP-el {number} atas nama {name} tidak disetujui: {reason}. "
        "Permohonan tetap diproses sesuai antrean."
    ),
    "number_link_confirmed": (
        "Nomor WhatsApp ini sudah terhubung dengan data kependudukan atas nama {name}. "
        "Pesan layanan KTP-el akan dikirim ke nomor ini."
    ),
    "number_link_refused": "Permohonan SINKRONISASI nomor WhatsApp tidak dapat diproses: {reason}",
    "booking_cancelled": (
        "Jadwal kedatangan KTP-el {number} atas nama {name} pada {day} dibatalkan: {reason}. Permohonan tetap "
        "tersimpan; kami kabari jadwal berikutnya."
    ),
    "booking_moved": (
        "Jadwal kedatangan KTP-el {number} atas nama {name} dipindah ke {day} di {office}, nomor antrean {queue}. "
        "Jadwal ini MENGGANTIKAN jadwal {old_day}."
    ),
    "booking_moved_closed": (
        "Layanan di {office} pada {old_day} ditutup ({reason}). Jadwal KTP-el {number} atas nama {name} dipindah ke "
        "{day}, nomor antrean {queue}. Jadwal ini MENGGANTIKAN jadwal {old_day}; datang pada tanggal yang baru."
    ),
    "no_show_requeued": (
        "Anda tidak hadir pada jadwal KTP-el {number} atas nama {name} tanggal {day}. Permohonan tetap tersimpan "
        "dan masuk antrean lagi dari belakang; kami kirim jadwal baru."
    ),
    "appointment_unserved": (
        "KTP-el {number} atas nama {name} belum dapat dicetak pada {day}. Permohonan tetap di antrean; kami kirim "
        "jadwal baru."
    ),
    "request_stored_for_pickup": (
        "KTP-el {number} atas nama {name} sudah dicetak dan dapat diambil SENDIRI di {place} mulai {day} "
        "(verifikasi sidik jari dan aktivasi). Bawa KTP lama bila ada."
    ),
}

TEMPLATES.update(REPLY_TEMPLATES)
TEMPLATES.update(REMINDER_TEMPLATES)


def render_message(template: str, **values: object) -> str:
    with translation.override("id"):
        body = TEMPLATES[template].format(**{k: str(v) for k, v in values.items()})
    return f"{body}\n\n{FOOTER}"


def notification_write(
    *, resident, template: str, card_request=None, recipient: str | None = None, name: str = "", **values: object
) -> Notification:
    """Store a message for a resident (call inside the transaction of the change it reports).

    It goes by WhatsApp to the resident's number; without a number it is kept as `no_contact`, so the
    request page shows that nobody could be told.
    """
    number = recipient if recipient is not None else resident.whatsapp
    text = render_message(template, name=name or (resident.full_name if resident else ""), **values)
    return Notification.objects.create(
        resident=resident,
        card_request=card_request,
        channel=Notification.Channel.WHATSAPP,
        recipient=number or "",
        template=template,
        text=text,
        status=Notification.Status.PENDING if number else Notification.Status.NO_CONTACT,
    )
