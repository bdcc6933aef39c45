#!/usr/bin/python3
# make-sample-mailbox.py: a deterministic, realistic sample mailbox as .eml files.
#
#   make-sample-mailbox.py [--now YYYY-MM-DD] OUTDIR
#       About 300 messages in OUTDIR/FOLDER/*.eml for the demo and for manual testing:
#       INBOX, Sent, Drafts, Trash, Archive, Work, Work/Projects, Lists/GNOME, Lists/Debian
#       ("Lists" itself holds no mail, so a server shows it as a \Noselect parent) and a folder
#       with a non-ASCII name (Entwürfe). Plain text, format=flowed, ISO-8859-1, HTML with and
#       without a text alternative, HTML with remote images, inline images, attachments with
#       non-ASCII names (RFC 2231), RFC 2047 subjects and names in several scripts, threads.
#   make-sample-mailbox.py --bench N [--folders K] [--small] [--now YYYY-MM-DD] OUTDIR
#       N messages for the benchmark in OUTDIR/INBOX: most 2-20 KB, some 50-200 KB, a few
#       1-5 MB; 25 % with attachments. With --folders K, spread in date order over INBOX and
#       K-1 more folders (Folder02 ... FolderK), N/K each; with --small, all are 1-6 KB of
#       text (some also as HTML), no attachments: for the resync benchmark, where what counts
#       is how many messages and folders there are, not their size.
#
# Everything comes from one fixed seed: the same --now (default: today, 00:00 UTC; the newest
# mail is a few hours older) gives the same bytes.
# Files are named NNNN.eml, or NNNN.FLAGS.eml with Maildir flags (S seen, R answered,
# F flagged, D draft, T deleted), as build-aux/dovecot/mail-server.sh seed-tree expects.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import argparse
import base64
import datetime
import os
import random
import struct
import sys
import zlib
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

SEED = 20240611
DOMAIN = "tidings.example"

ME = ("Alice Liddell", "alice@localhost")

PEOPLE = [
    ("Jürgen Müller", "juergen.mueller@example.de", "de"),
    ("Françoise Dupré", "francoise.dupre@example.fr", "fr"),
    ("山田 太郎", "taro.yamada@example.jp", "ja"),
    ("Анна Петрова", "anna.petrova@example.ru", "ru"),
    ("Bob Kowalski", "bob@localhost", "en"),
    ("Priya Natarajan", "priya@example.in", "en"),
    ("Mateo García", "mateo.garcia@example.es", "en"),
    ("Siobhán O'Connor", "siobhan@example.ie", "en"),
    ("Chen Wei 陈伟", "chen.wei@example.cn", "en"),
    ("Björn Ødegård", "bjorn@example.no", "en"),
    ("Zoë Martin", "zoe.martin@example.com", "en"),
    ("Kwame Mensah", "kwame@example.gh", "en"),
]

SERVICES = [
    ("GNOME GitLab", "gitlab@gitlab.example.org"),
    ("Rail Tickets", "tickets@rail.example.com"),
    ("The Weekly Digest", "newsletter@digest.example.com"),
    ("Bank of Example", "no-reply@bank.example.com"),
    ("Calendar", "calendar-noreply@example.com"),
]

SUBJECTS = {
    "en": ["Lunch on Thursday?", "Quarterly report draft", "Photos from the weekend",
           "Can you review my patch?", "Flight details", "Meeting notes", "Quick question",
           "Book recommendations", "Re-scheduling our call", "Invoice #4821",
           "Welcome to the team!", "Your parcel is on its way", "Ideas for the offsite",
           "Budget spreadsheet", "A very long subject line that goes on and on to see how the "
           "message list truncates it without breaking anything at all", "Happy birthday 🎂"],
    "de": ["Grüße aus München", "Übersicht für März", "Können wir morgen telefonieren?",
           "Änderungen am Vertrag", "Straßenfest am Samstag"],
    "fr": ["Réunion de l'équipe — compte rendu", "Ça marche ✔", "Vacances d'été à Nîmes",
           "Question sur la facture", "Déjeuner vendredi ?"],
    "ja": ["会議の議事録", "来週の予定について", "お疲れ様です", "資料を送ります"],
    "ru": ["Отчёт за март", "Встреча в пятницу", "Привет из Москвы", "Вопрос по проекту"],
}

GREETING = {"en": "Hi Alice,", "de": "Hallo Alice,", "fr": "Bonjour Alice,",
            "ja": "アリスさん、", "ru": "Привет, Алиса!"}
CLOSING = {"en": "Best,", "de": "Viele Grüße", "fr": "Bien à toi,", "ja": "よろしくお願いします。",
           "ru": "С уважением,"}
SENTENCES = {
    "en": ["I had a look at the numbers and they seem fine to me.",
           "Let me know if Thursday still works for you.",
           "The train was late again, so I only got home at nine.",
           "Attached is the version we talked about yesterday.",
           "I think we should keep the scope small for the first release.",
           "Could you double-check the dates before I send it out?",
           "Thanks again for your help with the migration.",
           "The new office has a great view of the river.",
           "We could also ask Bob, he knows that code best.",
           "No rush on this, next week is fine.",
           "I moved the meeting to the small room on the second floor.",
           "The build is green again after the last fix."],
    "de": ["Ich habe mir die Zahlen angesehen, sie sehen gut aus.",
           "Passt dir Donnerstag noch? Sonst gerne nächste Woche.",
           "Die Übersicht hängt an, bitte kurz prüfen.",
           "Schöne Grüße auch an das ganze Team in Köln."],
    "fr": ["J'ai relu le document, il me semble très clair.",
           "Est-ce que jeudi te convient toujours ?",
           "Voici la version dont nous avons parlé hier.",
           "Merci encore pour ton aide précieuse."],
    "ja": ["資料を確認しました。特に問題はないと思います。",
           "木曜日の会議は予定通り行います。",
           "添付のファイルをご確認ください。",
           "引き続きよろしくお願いいたします。"],
    "ru": ["Я посмотрела цифры, всё выглядит хорошо.",
           "Четверг тебе всё ещё подходит?",
           "Во вложении версия, о которой мы говорили вчера.",
           "Спасибо ещё раз за помощь."],
}

WORDS = ("the of and to in is was for on that with as it at by from this be are have an "
         "not or which one all were when we there can been has more if will would about out "
         "up into them some could time these two may then do first any my now such like our "
         "over man me even most made after also did many before must through back years where "
         "much your way well down should because each just those people how too little state "
         "good very make world still own see men work long get here between both life being "
         "under never day same another know while last might us great old year off come since "
         "against go came right used take three release server folder message account sync "
         "network patch review meeting budget invoice report schedule project").split()

REMOTE_IMAGES = [
    "https://images.example.com/newsletter/header.png",
    "https://cdn.example.net/promo/summer-sale.jpg",
    "https://tracker.example.com/open.gif?id=8f2a91",
]


def tiny_png(rng, width=16, height=16):
    """A valid PNG with random colours."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    rows = b"".join(b"\x00" + bytes(rng.randrange(256) for _ in range(width * 3))
                    for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def tiny_pdf(title, filler=b""):
    """A small, valid one-page PDF (filler makes it bigger, in a stream nobody renders)."""
    text = title.encode("ascii", "replace")
    content = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(filler) + filler + b"\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return out


def ics_event(summary, start, uid):
    end = start + datetime.timedelta(hours=1)
    fmt = "%Y%m%dT%H%M%SZ"
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tidings//Sample//EN\r\n"
            "METHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:%s\r\nDTSTART:%s\r\n"
            "DTEND:%s\r\nSUMMARY:%s\r\nLOCATION:Room 2.14\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            % (uid, start.strftime(fmt), start.strftime(fmt), end.strftime(fmt), summary))


def address(name, email):
    local, _, domain = email.partition("@")
    return Address(display_name=name, username=local, domain=domain)


class Sample:
    def __init__(self, outdir, now):
        self.outdir = outdir
        self.now = now
        self.rng = random.Random(SEED)
        self.counter = {}
        self.msgid_serial = 0

    def msgid(self):
        self.msgid_serial += 1
        return "<sample.%05d.%08x@%s>" % (self.msgid_serial, self.rng.getrandbits(32), DOMAIN)

    def body_text(self, lang, n=None):
        n = n or self.rng.randint(2, 5)
        sentences = self.rng.sample(SENTENCES[lang], min(n, len(SENTENCES[lang])))
        return " ".join(sentences)

    def letter(self, lang, sender_name, paragraphs=None):
        paragraphs = paragraphs or self.rng.randint(1, 3)
        parts = [GREETING[lang], ""]
        for _ in range(paragraphs):
            parts += [self.body_text(lang), ""]
        parts += [CLOSING[lang], sender_name.split()[0]]
        return "\n".join(parts) + "\n"

    def write(self, folder, msg, flags=""):
        self.write_raw(folder, msg.as_bytes(policy=policy.default), flags)

    def write_raw(self, folder, data, flags=""):
        n = self.counter.get(folder, 0) + 1
        self.counter[folder] = n
        d = os.path.join(self.outdir, *folder.split("/"))
        os.makedirs(d, exist_ok=True)
        flags = "".join(sorted(set(flags)))
        name = "%04d.%s.eml" % (n, flags) if flags else "%04d.eml" % n
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)

    def date(self, days_ago_max, days_ago_min=0):
        seconds = self.rng.randint(days_ago_min * 86400, days_ago_max * 86400)
        return self.now - datetime.timedelta(seconds=seconds)

    def base(self, sender, to, subject, date, msgid=None):
        msg = EmailMessage(policy=policy.default)
        msg["Date"] = format_datetime(date)
        msg["From"] = address(*sender)
        msg["To"] = [address(*t) for t in to]
        if subject is not None:
            msg["Subject"] = subject
        msg["Message-ID"] = msgid or self.msgid()
        return msg

    # -- kinds of body ----------------------------------------------------------------------

    def html_of(self, text, remote=False, heading=None):
        paras = "".join("<p>%s</p>\n" % p.replace("\n", "<br>\n")
                        for p in text.strip().split("\n\n"))
        img = ""
        if remote:
            img = '<p><img src="%s" width="600" height="200" alt="Banner"></p>\n' % (
                self.rng.choice(REMOTE_IMAGES))
        head = "<h2 style=\"color:#3465a4\">%s</h2>\n" % heading if heading else ""
        return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n"
                "<body style=\"font-family:sans-serif\">\n%s%s%s"
                "<p style=\"font-size:small;color:#888\">Sent with care.</p>\n</body></html>\n"
                % (head, img, paras))

    def set_body(self, msg, kind, text, lang="en"):
        if kind == "plain":
            msg.set_content(text)
        elif kind == "flowed":
            # Soft line breaks: a space before the newline (RFC 3676).
            lines = []
            for hard in text.split("\n"):
                line = ""
                for w in hard.split(" "):
                    if line and len(line) + len(w) > 66:
                        lines.append(line)
                        line = ""
                    line += w + " "
                lines.append(line.rstrip(" "))
            msg.set_content("\n".join(lines).rstrip("\n") + "\n", params={"format": "flowed"},
                            cte="quoted-printable" if not text.isascii() else "7bit")
        elif kind == "latin1":
            msg.set_content(text, charset="iso-8859-1", cte="8bit")
        elif kind == "alternative":
            msg.set_content(text)
            msg.add_alternative(self.html_of(text), subtype="html")
        elif kind == "html-only":
            msg.set_content(self.html_of(text), subtype="html")
        elif kind == "html-remote":
            msg.set_content(self.html_of(text, remote=True, heading="News of the week"),
                            subtype="html")
        elif kind == "alternative-remote":
            msg.set_content(text)
            msg.add_alternative(self.html_of(text, remote=True, heading="Summer offers"),
                                subtype="html")
        elif kind == "inline-image":
            msg.set_content(text)
            cid = "logo.%d@%s" % (self.msgid_serial, DOMAIN)
            msg.add_alternative(self.html_of(text).replace(
                "<body style=\"font-family:sans-serif\">\n",
                "<body style=\"font-family:sans-serif\">\n<p><img src=\"cid:%s\" alt=\"logo\">"
                "</p>\n" % cid), subtype="html")
            msg.get_payload()[1].add_related(tiny_png(self.rng, 32, 32), "image", "png",
                                             cid="<%s>" % cid, filename="logo.png")
        else:
            raise ValueError(kind)

    def attach(self, msg, what, date):
        if what == "pdf":
            name = self.rng.choice(["Übersicht März.pdf", "Отчёт за квартал.pdf",
                                    "facture-été.pdf", "report-q3.pdf", "議事録.pdf"])
            msg.add_attachment(tiny_pdf("Sample document", self.rng.randbytes(2000)),
                               maintype="application", subtype="pdf", filename=name)
        elif what == "png":
            name = self.rng.choice(["photo 🌅.png", "Straße.png", "screenshot.png",
                                    "写真.png"])
            msg.add_attachment(tiny_png(self.rng, 48, 32), maintype="image", subtype="png",
                               filename=name)
        elif what == "txt":
            name = self.rng.choice(["会議メモ.txt", "notes.txt", "Liste für Café.txt"])
            msg.add_attachment(self.body_text("en", 4) + "\n" + self.body_text("de", 2) + "\n",
                               filename=name)
        elif what == "ics":
            start = (date + datetime.timedelta(days=3)).replace(minute=0, second=0,
                                                                microsecond=0)
            msg.add_attachment(ics_event("Planning meeting", start, "%s-ics" % self.msgid()[1:-1]),
                               subtype="calendar", filename="invite.ics",
                               params={"method": "REQUEST"})

    # -- folders ----------------------------------------------------------------------------

    KINDS = ["plain"] * 10 + ["flowed"] * 2 + ["alternative"] * 5 + ["html-only"] * 2 + \
        ["html-remote"] + ["alternative-remote"] + ["inline-image"]

    def random_message(self, folder, date, flags, lang=None, person=None, kind=None,
                       attachments=()):
        name, email, plang = person or self.rng.choice(PEOPLE)
        lang = lang or (plang if self.rng.random() < 0.7 else "en")
        subject = self.rng.choice(SUBJECTS[lang])
        msg = self.base((name, email), [ME], subject, date)
        if self.rng.random() < 0.15:
            other = self.rng.choice(PEOPLE)
            msg["Cc"] = address(other[0], other[1])
        self.set_body(msg, kind or self.rng.choice(self.KINDS), self.letter(lang, name), lang)
        for a in attachments:
            self.attach(msg, a, date)
        self.write(folder, msg, flags)

    def seen_flags(self, date, recent_days=4):
        age = (self.now - date).days
        flags = "" if age < recent_days and self.rng.random() < 0.7 else "S"
        if self.rng.random() < 0.06:
            flags += "F"
        return flags

    def thread(self, folder_in, subject, people, length, start_days_ago, lang="en"):
        """A conversation: other people's mails land in folder_in, Alice's in Sent."""
        refs = []
        date = self.now - datetime.timedelta(days=start_days_ago, hours=self.rng.randint(0, 9))
        for i in range(length):
            from_me = i % 2 == 1
            sender = ME if from_me else people[(i // 2) % len(people)][:2]
            to = [people[0][:2]] if from_me else [ME]
            subj = subject if i == 0 else "Re: " + subject
            msg = self.base(sender, to, subj, date)
            if refs:
                msg["In-Reply-To"] = refs[-1]
                msg["References"] = " ".join(refs[-10:])
            quoted = "\n".join("> " + l for l in self.body_text(lang, 2).split(". "))
            text = (self.letter(lang, sender[0], 1) if not from_me else
                    "Thanks! " + self.body_text("en", 2) + "\n\nAlice\n")
            if i > 0:
                text += "\nOn %s, someone wrote:\n%s\n" % (
                    format_datetime(date - datetime.timedelta(hours=3)), quoted)
            self.set_body(msg, "flowed" if i % 3 == 2 else "plain", text, lang)
            if i == 0 and self.rng.random() < 0.5:
                self.attach(msg, "pdf", date)
            refs.append(msg["Message-ID"])
            replied = i < length - 1
            if from_me:
                self.write("Sent", msg, "S")
            else:
                age = (self.now - date).days
                flags = ("S" if age > 2 or replied else "") + ("R" if replied else "")
                self.write(folder_in, msg, flags)
            date += datetime.timedelta(hours=self.rng.randint(1, 30))

    def list_message(self, folder, list_id, list_addr, date, subject, sender, refs=None):
        msg = self.base(sender, [("", list_addr)], subject, date)
        msg["List-Id"] = "<%s>" % list_id
        msg["List-Unsubscribe"] = "<mailto:%s?subject=unsubscribe>" % list_addr.replace(
            "@", "-request@")
        msg["Precedence"] = "list"
        if refs:
            msg["In-Reply-To"] = refs[-1]
            msg["References"] = " ".join(refs)
        self.set_body(msg, self.rng.choice(["plain", "plain", "flowed"]),
                      self.letter("en", sender[0], self.rng.randint(1, 4)).replace(
                          "Hi Alice,", "Hi all,"))
        self.write(folder, msg, self.seen_flags(date, 2))
        return msg["Message-ID"]

    def build(self):
        rng = self.rng

        # INBOX: a mix of everything, recent ones unread.
        for i in range(90):
            date = self.date(120)
            attachments = []
            r = rng.random()
            if r < 0.10:
                attachments = ["pdf"]
            elif r < 0.15:
                attachments = ["png", "txt"]
            elif r < 0.18:
                attachments = ["ics"]
            self.random_message("INBOX", date, self.seen_flags(date), attachments=attachments)

        # Fixed showcase messages, so the demo always has each case near the top.
        now = self.now
        special = [
            ("plain", "de", ["pdf"]), ("latin1", "de", []), ("html-remote", "en", []),
            ("alternative-remote", "fr", []), ("html-only", "ja", ["png"]),
            ("inline-image", "ru", []), ("flowed", "fr", ["txt", "ics"]),
            ("alternative", "en", ["pdf", "png", "txt"]),
        ]
        for i, (kind, lang, att) in enumerate(special):
            person = next(p for p in PEOPLE if p[2] == lang) if lang != "en" else PEOPLE[5]
            date = now - datetime.timedelta(hours=2 + i * 5)
            self.random_message("INBOX", date, "", lang=lang, person=person, kind=kind,
                                attachments=att)

        # Latin-1 with Latin-1 in the headers too (encoded the old way).
        raw = ("Date: %s\n"
               "From: =?iso-8859-1?q?Ren=E9_Fran=E7ois?= <rene@example.fr>\n"
               "To: Alice Liddell <alice@localhost>\n"
               "Subject: =?iso-8859-1?q?D=E9j=E0_vu_=E0_l'h=F4tel?=\n"
               "Message-ID: %s\n"
               "MIME-Version: 1.0\n"
               "Content-Type: text/plain; charset=iso-8859-1\n"
               "Content-Transfer-Encoding: 8bit\n\n"
               "Bonjour Alice,\n\nL'hôtel était très agréable, à bientôt !\n\nRené\n"
               % (format_datetime(now - datetime.timedelta(days=9)), self.msgid()))
        self.write_raw("INBOX", raw.encode("iso-8859-1"), "S")

        # A message without a subject, and one with an emoji-only subject.
        msg = self.base(PEOPLE[10][:2], [ME], None, now - datetime.timedelta(days=3))
        msg.set_content("Forgot the subject, sorry!\n")
        self.write("INBOX", msg, "S")
        msg = self.base(PEOPLE[6][:2], [ME], "🎉🎉🎉", now - datetime.timedelta(days=1, hours=4))
        msg.set_content("We shipped it! 🚀\n")
        self.write("INBOX", msg, "")

        # Notifications from services, HTML with remote images.
        for i in range(12):
            date = self.date(60)
            service = rng.choice(SERVICES)
            msg = self.base(service, [ME], rng.choice(
                ["Your weekly summary", "Payment received", "New sign-in to your account",
                 "Reminder: appointment tomorrow", "Ihre Buchungsbestätigung",
                 "Nouvelle connexion détectée"]), date)
            self.set_body(msg, rng.choice(["html-remote", "alternative-remote", "html-only"]),
                          self.letter("en", service[0], 2))
            self.write("INBOX", msg, self.seen_flags(date))

        # Threads across INBOX and Sent.
        self.thread("INBOX", "Trip to Lisbon in May", [PEOPLE[0], PEOPLE[5]], 6, 12)
        self.thread("INBOX", "Übergabe des Projekts", [PEOPLE[0]], 4, 20, "de")
        self.thread("INBOX", "Dîner samedi ?", [PEOPLE[1]], 3, 2, "fr")
        self.thread("INBOX", "新しいサーバーの件", [PEOPLE[2]], 4, 30, "ja")
        self.thread("INBOX", "Отпуск в августе", [PEOPLE[3]], 3, 45, "ru")
        self.thread("INBOX", "Code review: sync engine", [PEOPLE[4], PEOPLE[8]], 5, 5)

        # Sent: replies are already there from the threads; more of Alice's own mail.
        for i in range(22):
            date = self.date(150)
            to = rng.choice(PEOPLE)
            msg = self.base(ME, [to[:2]], rng.choice(SUBJECTS["en"]), date)
            self.set_body(msg, rng.choice(["plain", "plain", "flowed", "alternative"]),
                          "Hi %s,\n\n%s\n\nAlice\n" % (to[0].split()[0], self.body_text("en")))
            if rng.random() < 0.2:
                self.attach(msg, rng.choice(["pdf", "png", "txt"]), date)
            self.write("Sent", msg, "S")

        # Drafts, and the same again in the non-ASCII "Entwürfe".
        for folder, count in (("Drafts", 5), ("Entwürfe", 4)):
            for i in range(count):
                date = self.date(20)
                to = rng.choice(PEOPLE)
                lang = "de" if folder == "Entwürfe" else "en"
                msg = self.base(ME, [to[:2]], rng.choice(SUBJECTS[lang]), date)
                msg.set_content("%s\n\n%s\n" % (GREETING[lang].replace("Alice", to[0].split()[0]),
                                                self.body_text(lang, 2)))
                self.write(folder, msg, "SD")

        # Trash and Archive.
        for i in range(15):
            date = self.date(200, 20)
            self.random_message("Trash", date, "S")
        for i in range(45):
            date = self.date(365, 90)
            self.random_message("Archive", date, "S" + ("F" if rng.random() < 0.1 else ""),
                                attachments=["pdf"] if rng.random() < 0.15 else [])

        # Work, Work/Projects.
        for folder, count in (("Work", 14), ("Work/Projects", 20)):
            for i in range(count):
                date = self.date(90)
                self.random_message(folder, date, self.seen_flags(date, 7),
                                    person=rng.choice(PEOPLE[4:8] + PEOPLE[:2]),
                                    attachments=["pdf"] if rng.random() < 0.2 else [])
        self.thread("Work/Projects", "Roadmap for 2.0", [PEOPLE[5], PEOPLE[9]], 4, 8)

        # Mailing lists with their own threads.
        for folder, list_id, list_addr, topics, count in (
                ("Lists/GNOME", "desktop-devel.gnome.example.org",
                 "desktop-devel@gnome.example.org",
                 ["GTK 4.14 release notes", "Proposal: new icon style", "Meson 1.4 migration",
                  "Accessibility hackfest", "Libadwaita breakpoints"], 24),
                ("Lists/Debian", "debian-devel.lists.example.org",
                 "debian-devel@lists.example.org",
                 ["Bookworm point release", "Reproducible builds status", "Freeze dates"],
                 10)):
            made = 0
            while made < count:
                topic = rng.choice(topics)
                refs = []
                date = self.date(60)
                for j in range(rng.randint(1, 4)):
                    if made >= count:
                        break
                    sender = rng.choice(PEOPLE)[:2]
                    mid = self.list_message(folder, list_id, list_addr, date,
                                            topic if not refs else "Re: " + topic, sender, refs)
                    refs.append(mid)
                    made += 1
                    date += datetime.timedelta(hours=rng.randint(1, 20))
        return sum(self.counter.values())


# -- the benchmark mailbox ------------------------------------------------------------------

def bench_text(rng, size):
    words = rng.choices(WORDS, k=max(8, size // 5))
    lines, line = [], []
    length = 0
    for w in words:
        line.append(w)
        length += len(w) + 1
        if length > 70:
            lines.append(" ".join(line))
            line, length = [], 0
            if rng.random() < 0.15:
                lines.append("")
    lines.append(" ".join(line))
    return "\n".join(lines)[:size] + "\n"


def bench_folder(i, count, folders):
    k = i * folders // count
    return "INBOX" if k == 0 else "Folder%02d" % (k + 1)


def make_bench(outdir, count, now, folders=1, small=False):
    rng = random.Random(SEED + count + (1000003 * folders if small else 0))
    for k in range(folders):
        os.makedirs(os.path.join(outdir, bench_folder(k * count // folders, count, folders)),
                    exist_ok=True)
    start = now - datetime.timedelta(days=730)
    step = (now - start) / max(count, 1)
    total = 0
    people = PEOPLE + [(n, e, "en") for n, e in SERVICES]
    for i in range(count):
        folder = os.path.join(outdir, bench_folder(i, count, folders))
        r = rng.random()
        if small:                         # text only, 1-6 KB
            size, attach = rng.randint(1 << 10, 6 << 10), False
        elif r < 0.004:                     # a few 1-5 MB, always with an attachment
            size, attach = rng.randint(1 << 20, 5 << 20), True
        elif r < 0.104:                   # some 50-200 KB, always with an attachment
            size, attach = rng.randint(50 << 10, 200 << 10), True
        else:                             # most 2-20 KB; 1 in 6 with a small attachment
            size, attach = rng.randint(2 << 10, 20 << 10), rng.random() < 0.167
        date = start + step * i + datetime.timedelta(seconds=rng.randint(0, 600))
        name, email, _ = rng.choice(people)
        msg = EmailMessage(policy=policy.default)
        msg["Date"] = format_datetime(date)
        msg["From"] = address(name, email)
        msg["To"] = address(*ME)
        msg["Subject"] = "%s (%d)" % (rng.choice(SUBJECTS[rng.choice(list(SUBJECTS))]), i + 1)
        msg["Message-ID"] = "<bench.%06d.%08x@%s>" % (i + 1, rng.getrandbits(32), DOMAIN)

        # Base64 makes an attachment 4/3 bigger; the text takes the rest of the size.
        if attach:
            text_size = min(max(800, size // 10), 6000) if size > 20 << 10 else \
                rng.randint(800, max(900, size // 2))
            raw_size = max(256, (size - text_size - 600) * 3 // 4)
        else:
            text_size = max(500, size - 450)
            raw_size = 0
        if rng.random() < 0.4 and not attach:
            # Text and HTML of it: each about half of the size.
            text = bench_text(rng, max(500, text_size // 2 - 40))
            msg.set_content(text)
            msg.add_alternative("<html><body><p>%s</p></body></html>\n"
                                % text.replace("\n\n", "</p><p>"), subtype="html")
        else:
            msg.set_content(bench_text(rng, text_size))
        if attach:
            kind = rng.choice(["pdf", "png", "bin", "txt"])
            if kind == "pdf":
                data = tiny_pdf("Bench", rng.randbytes(raw_size))
                msg.add_attachment(data, maintype="application", subtype="pdf",
                                   filename="document-%d.pdf" % (i + 1))
            elif kind == "png":
                msg.add_attachment(rng.randbytes(raw_size), maintype="image", subtype="png",
                                   filename="photo-%d.png" % (i + 1))
            elif kind == "bin":
                msg.add_attachment(rng.randbytes(raw_size), maintype="application",
                                   subtype="zip", filename="archive-%d.zip" % (i + 1))
            else:
                msg.add_attachment(bench_text(rng, raw_size), filename="log-%d.txt" % (i + 1))
        data = msg.as_bytes(policy=policy.default)
        flags = ".S" if rng.random() < 0.8 else ""
        with open(os.path.join(folder, "%06d%s.eml" % (i + 1, flags)), "wb") as f:
            f.write(data)
        total += len(data)
    return total


def main():
    parser = argparse.ArgumentParser(description="A deterministic sample mailbox as .eml files.")
    parser.add_argument("--bench", type=int, metavar="N",
                        help="N benchmark messages in OUTDIR/INBOX instead of the sample")
    parser.add_argument("--folders", type=int, default=1, metavar="K",
                        help="with --bench: spread the messages over INBOX and K-1 folders")
    parser.add_argument("--small", action="store_true",
                        help="with --bench: only small text messages (1-6 KB)")
    parser.add_argument("--now", help="the date the mailbox is made for (YYYY-MM-DD)")
    parser.add_argument("outdir")
    args = parser.parse_args()

    if args.now:
        now = datetime.datetime.strptime(args.now, "%Y-%m-%d")
    else:
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        now = now.replace(hour=0, minute=0, second=0, microsecond=0)
    now = now.replace(tzinfo=datetime.timezone.utc)

    # The email package draws MIME boundaries from the global generator.
    random.seed(SEED)
    if os.path.exists(args.outdir) and os.listdir(args.outdir):
        sys.exit("make-sample-mailbox.py: %s is not empty" % args.outdir)
    os.makedirs(args.outdir, exist_ok=True)

    if args.bench is not None:
        if args.bench <= 0:
            sys.exit("make-sample-mailbox.py: --bench needs a positive count")
        if not 1 <= args.folders <= min(args.bench, 99):
            sys.exit("make-sample-mailbox.py: --folders needs 1 to 99, at most N")
        total = make_bench(args.outdir, args.bench, now, args.folders, args.small)
        where = " in %d folders" % args.folders if args.folders > 1 else ""
        print("%d messages%s, %.1f MB in %s" % (args.bench, where, total / 1e6, args.outdir))
    elif args.folders != 1 or args.small:
        sys.exit("make-sample-mailbox.py: --folders and --small go with --bench")
    else:
        count = Sample(args.outdir, now).build()
        print("%d messages in %s" % (count, args.outdir))


if __name__ == "__main__":
    main()
