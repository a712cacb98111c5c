"""Replies to what residents send by WhatsApp and SMS (confirmation, the right format, status answers,
"already registered"), in Bahasa Indonesia. Administrators can reword each per office (MessageTemplate).
Written by intake/actions.py through `reply_write` (and `status_answer`, the one sent to a resident's registered
number, through `notification_write`).

Values every reply has: `name` (the resident concerned, else the sender's profile name) and `office` (the
office's name). Others per text: `format` (the exact format to send, with an example), `problems` (one line
per problem), `number` (PKTP-000123), `kind`, `day`, `queue`, `place`, `state` / `answer` (a request's state in
words, intake/status_text.py), `reason`. Every "balas pesan ini" is true: a reply lands in the office's inbox
thread with this contact (a photo or PDF is offered to the clerk for the request it belongs to)."""

from __future__ import annotations

REPLY_TEMPLATES: dict[str, str] = {
    # --- the format ----------------------------------------------------------------------------------------
    "reply_format": "Maaf, pesan Anda belum dapat kami proses:\n{problems}\n\nKirim ulang dengan format:\n{format}",
    "reply_wrong_number": ("Nomor ini tidak melayani {purpose}. Kirim ke {channel} {number} dengan format:\n{format}"),
    "reply_not_offered": (
        "Layanan {purpose} lewat pesan belum tersedia di {office}. Silakan datang ke kantor pada jam layanan."
    ),
    # --- booking a print day (#nama#NIK#tanggal) ----------------------------------------------------------------
    "reply_booking_mismatch": (
        "NIK dan nama tidak cocok dengan data penduduk {office}. Tulis nama lengkap sesuai KK, periksa NIK, lalu "
        "kirim ulang dengan format:\n{format}"
    ),
    "reply_booking_confirmed": (
        "Pendaftaran berhasil. KTP-el {number} atas nama {name} dicetak pada {day} di {place}, nomor antrean "
        "{queue}. Datang SENDIRI pada tanggal itu saja, pada jam layanan, dan tunjukkan pesan ini di loket.{bring}"
    ),
    "reply_booking_already": (
        "KTP-el {number} atas nama {name} SUDAH terdaftar pada {day} di {place}, nomor antrean {queue}. "
        "Tidak perlu mendaftar lagi."
    ),
    # The same sentence as reply_booking_refer: a stranger does not learn that a request is already booked.
    "reply_booking_elsewhere": (
        "Pendaftaran jadwal KTP-el atas NIK tersebut tidak dapat diproses dari nomor ini. Kabar tentang "
        "permohonan penduduk itu hanya dikirim ke nomor yang terdaftar untuk penduduk itu."
    ),
    "reply_booking_full": (
        "Tanggal {day} {reason}. Hari terdekat yang masih ada tempat: {next_day}. Untuk datang pada hari itu kirim "
        "ulang dengan tanggal {next_day}, format:\n{format}"
    ),
    "reply_booking_none_free": (
        "Tanggal {day} {reason}, dan dalam 90 hari ke depan belum ada hari dengan tempat untuk pendaftaran lewat "
        "pesan. Permohonan {number} tetap di antrean; kami kabari begitu ada jadwal."
    ),
    "reply_booking_window": (
        "Tanggal kedatangan {day} tidak dapat dipilih: pilih tanggal antara {first} dan {last}.{next_free} "
        "Kirim ulang dengan format:\n{format}"
    ),
    "reply_booking_not_yet": (
        "KTP-el pemula {number} dicetak mulai ulang tahun ke-17 ({first}). Pilih tanggal kedatangan mulai {first}, "
        "format:\n{format}"
    ),
    "reply_booking_no_request": "Belum ada permohonan KTP-el yang berjalan atas nama {name}. {how}",
    "reply_booking_not_ready": "KTP-el {number} atas nama {name} belum dapat dijadwalkan: permohonan {state}",
    "reply_booking_refused": "Pendaftaran jadwal KTP-el {number} belum dapat diproses: {reason}",
    "reply_booking_refer": (
        "Pendaftaran jadwal KTP-el atas NIK tersebut tidak dapat diproses dari nomor ini. Kabar tentang "
        "permohonan penduduk itu hanya dikirim ke nomor yang terdaftar untuk penduduk itu."
    ),
    # --- a card request (#KTP#…) ---------------------------------------------------------------------------------
    "reply_numbers_invalid": "Nomor yang Anda kirim belum benar:\n{problems}\n\nKirim ulang dengan format:\n{format}",
    "reply_request_mismatch": (
        "NIK dan KK tidak cocok dengan data kami. Periksa NIK, nomor KK dan nama lengkap sesuai KK, lalu kirim "
        "ulang dengan format:\n{format}"
    ),
    "reply_request_opened": (
        "Permohonan KTP-el {kind} atas nama {name} kami terima dengan nomor {number}.{next_steps}\n"
        "Cek status kapan saja dengan mengirim #STATUS#NIK."
    ),
    "reply_request_duplicate": (
        "Permohonan KTP-el {kind} atas nama {name} sudah kami terima sebelumnya dengan nomor {number}; permohonan "
        "itu {state} Tidak perlu mengirim ulang: urutan Anda tetap."
    ),
    "reply_request_elsewhere": (
        "Sudah ada permohonan KTP-el {kind} yang berjalan untuk NIK tersebut. Keterangannya kami kirim ke nomor "
        "yang terdaftar untuk penduduk itu."
    ),
    "reply_request_refused": "Permohonan belum dapat kami terima: {reason}",
    # --- SINKRONISASI (the receipt and the resend are messaging/sync_texts.py's data_sync_received/_duplicate) ---
    "reply_sync_elsewhere": (
        "Sudah ada permohonan SINKRONISASI yang sedang diproses untuk NIK tersebut. Kabarnya dikirim ke nomor yang "
        "mengajukannya; tidak perlu mengirim ulang."
    ),
    "reply_sync_refused": "Permohonan SINKRONISASI belum dapat kami terima: {reason}\n\nFormat yang benar:\n{format}",
    # --- the inbox -----------------------------------------------------------------------------------------------
    "reply_inbox_received": (
        "Pesan Anda sudah kami terima dan diteruskan ke petugas, yang membalas pada jam layanan. Untuk cek status "
        "KTP-el kirim #STATUS#NIK."
    ),
    "reply_media_received": "Dokumen diterima, petugas akan memeriksa.",
    "reply_media_refused": (
        "Berkas Anda tidak dapat kami terima: {reason} Kirim foto (JPG/PNG) atau PDF, paling besar 5 MB, dengan "
        "membalas pesan ini."
    ),
    # --- status --------------------------------------------------------------------------------------------------
    "reply_status": "Status permohonan KTP-el:\n\n{answer}",
    "reply_status_elsewhere": (
        "Demi keamanan data, status permohonan hanya dikirim ke nomor yang terdaftar. Bila NIK tersebut terdaftar "
        "di {office}, statusnya kami kirim ke nomor itu."
    ),
    "reply_status_ask_nik": (
        "Kami belum menemukan permohonan KTP-el dari nomor ini. Untuk cek status kirim NIK Anda (16 angka) "
        "dengan format:\n{format}"
    ),
    # Sent to the resident's registered number (not a reply) when someone else asked.
    "status_answer": (
        "Status KTP-el yang ditanyakan lewat pesan ke {office}:\n\n{answer}\n\nBila bukan Anda yang menanyakan, "
        "abaikan pesan ini; data Anda tidak dikirim ke penanya."
    ),
}
