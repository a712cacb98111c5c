"""Reminders and status updates beat sends (appointment tomorrow, card ready, uncollected, missing
requirements), in Bahasa Indonesia. Administrators can reword each per office (MessageTemplate).

"Your card is ready" is not here: it is told at the change itself (request_ready_for_pickup,
request_stored_for_pickup, request_at_uptd, request_returned_by_post), and so is a moved or closed day
(booking_moved, booking_moved_closed, booking_cancelled_closed). Every text ends with the footer that the service
is free (messaging.messages.FOOTER)."""

from __future__ import annotations

REMINDER_TEMPLATES: dict[str, str] = {
    # {day} dd-mm-yyyy, {place} the printing office with its address ({office}: its name only), {hours}
    # "pukul 08.00–15.00 WIB" or "pada jam layanan", {queue} the appointment's number, {bring} one "- item" line
    # each.
    "reminder_appointment": (
        "PENGINGAT: besok, {day}, jadwal kedatangan KTP-el {number} atas nama {name} di {place} {hours}, nomor "
        "antrean {queue}. Datang SENDIRI dan bawa:\n{bring}\nTunjukkan pesan ini di loket."
    ),
    # {place} where the card waits (the office or the UPTD), {since} dd-mm-yyyy, {days} whole days.
    "reminder_uncollected_7": (
        "PENGINGAT: KTP-el {number} atas nama {name} sudah {days} hari menunggu diambil di {place} (sejak "
        "{since}). Silakan ambil SENDIRI pada jam layanan untuk verifikasi sidik jari dan aktivasi; bawa KTP lama "
        "bila ada."
    ),
    "reminder_uncollected_30": (
        "PENGINGAT: KTP-el {number} atas nama {name} BELUM DIAMBIL sejak {since} ({days} hari) dan masih disimpan "
        "di {place}. Mohon segera ambil SENDIRI pada jam layanan (verifikasi sidik jari dan aktivasi); bawa KTP "
        "lama bila ada."
    ),
    # {missing} the clerk's list, one "- item" line each; {since} the day the request was found incomplete.
    "reminder_missing_documents": (
        "PENGINGAT: Permohonan KTP-el {number} atas nama {name} masih BELUM LENGKAP sejak {since}; kartu belum "
        "dapat diproses. Mohon kirimkan:\n{missing}\nBalas pesan ini dengan foto/PDF dokumennya."
    ),
    # For a request a UPTD operator submitted, messaging sends what is missing and the card's arrival to the
    # UPTD: the `uptd_` variant is the UPTD's text, and its existence routes the reminder there too.
    "uptd_reminder_missing_documents": (
        "PENGINGAT: Permohonan KTP-el {number} untuk {name} yang diajukan lewat UPTD masih BELUM LENGKAP sejak "
        "{since}. Mohon lengkapi:\n{missing}\nBalas pesan ini dengan foto/PDF dokumennya, atau unggah di halaman "
        "permohonan."
    ),
    "uptd_reminder_uncollected_7": (
        "PENGINGAT: KTP-el {number} untuk {name} sudah {days} hari menunggu diambil di {place} (sejak {since}). "
        "Mohon kabari yang bersangkutan untuk datang SENDIRI guna verifikasi sidik jari dan aktivasi."
    ),
    "uptd_reminder_uncollected_30": (
        "PENGINGAT: KTP-el {number} untuk {name} BELUM DIAMBIL sejak {since} ({days} hari) dan masih disimpan di "
        "{place}. Mohon kabari yang bersangkutan untuk segera datang SENDIRI guna verifikasi sidik jari dan "
        "aktivasi."
    ),
}
