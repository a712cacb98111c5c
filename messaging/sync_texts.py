"""The texts of SINKRONISASI (data synchronisation) and of a clerk's number link, in Bahasa Indonesia; merged
into messaging.messages.TEMPLATES. Written by cards/data_sync.py and cards/number_links.py.

Values: `reference` (SNK-000123), `purpose` (the keperluan as the resident wrote it), `nik` (masked),
`received` (the day the first request came), `note` (what to send), `reason`, `name`, `office_name`.
Every "balas pesan ini" is true: a reply lands in the office's inbox thread with this contact."""

from __future__ import annotations

SYNC_TEMPLATES: dict[str, str] = {
    # The reply to a #SINKRONISASI message that opened a request (intake's actions).
    "data_sync_received": (
        "Permohonan SINKRONISASI data NIK {nik} untuk keperluan {purpose} sudah kami terima dengan nomor "
        "{reference}. Petugas memeriksa data Anda lalu mengabari lewat nomor ini."
    ),
    # The reply to a resend while the first request is still open: its place in the line is kept.
    "data_sync_duplicate": (
        "Permohonan SINKRONISASI data NIK {nik} sudah kami terima pada {received} dengan nomor {reference} dan "
        "masih diproses. Tidak perlu mengirim ulang; urutan Anda tetap."
    ),
    "data_sync_documents": (
        "Untuk SINKRONISASI data {reference} (keperluan {purpose}) kami memerlukan:\n{note}\n"
        "Balas pesan ini dengan foto/PDF dokumennya."
    ),
    "data_sync_synchronised": (
        "Data kependudukan NIK {nik} ({reference}) sudah kami periksa dan disinkronkan dengan database "
        "kependudukan pusat. Silakan ajukan lagi ke {purpose}. Bila NIK masih belum dikenali, balas pesan ini."
    ),
    "data_sync_refused": "Permohonan SINKRONISASI data {reference} tidak dapat diproses: {reason}",
    # A clerk linked another WhatsApp/SMS contact to the resident: the number that no longer gets their messages
    # is told, and the new one is told it does.
    "number_moved": (
        "Nomor ini tidak lagi dipakai untuk layanan KTP-el atas nama {name}; kabar berikutnya dikirim ke nomor "
        "yang didaftarkan petugas. Bila Anda tidak memintanya, hubungi {office_name}."
    ),
    "number_linked": (
        "Nomor ini sekarang terhubung dengan data kependudukan atas nama {name} di {office_name}. Kabar layanan KTP-el "
        "dikirim ke nomor ini."
    ),
}
