"""Deterministic generator of realistic German B2B/B2G invoices in faktoora's payload shape.

Every generated invoice follows ``docs/PAYLOAD.md`` and is meant to pass the official EN 16931 and
XRechnung 3.0 rules once rendered (CII or UBL).  The same ``(seed, index)`` always gives the same invoice.

VAT profiles:

* domestic: lines in category ``S`` (19 % and 7 %), ``Z`` (0 %, e.g. photovoltaics) and ``E`` (exempt,
  with exemption reason text and VATEX code); several categories/rates may share one invoice;
* ``AE`` reverse charge (buyer VAT id, ``VATEX-EU-AE``);
* ``K`` intra-community supply (EU buyer VAT id, delivery date, deliver-to country, ``VATEX-EU-IC``);
* ``G`` export outside the EU (deliver-to country, ``VATEX-EU-G``);
* ``O`` not subject to VAT (no VAT ids at all; the seller carries a tax number instead).
"""

from __future__ import annotations

import datetime as _dt
import random
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from ._gen_terms import add_terms, draw_type_code

__all__ = ["generate_invoice", "generate_invoices"]

_DOMESTIC = ("S", "Z", "E")
_SPECIAL = ("AE", "K", "G", "O")
_ALL_CATEGORIES = _DOMESTIC + _SPECIAL
# (format, schema) drawn with weights 60/25/15: XRechnung CII, XRechnung UBL, ZUGFeRD 2 (Factur-X)
_KINDS = (("xrechnung", None), ("xrechnung", "UBL"), ("zf:2", None))
_LEGACY_UBL = "xrechnung:ubl"  # accepted as the ``format`` argument only, never written to a payload

_FIRST_NAMES = (
    "Jürgen", "Björn", "Sören", "Jörg", "Günther", "Käthe", "Ännchen", "Måns", "Zoë", "René",
    "Anna", "Lena", "Lukas", "Maximilian", "Sophie", "Felix", "Marie", "Jonas", "Hannah", "Paul",
    "Özlem", "Tülay", "Dragoş", "Małgorzata", "Luís", "Hélène",
)  # fmt: skip
_LAST_NAMES = (
    "Müller", "Schäfer", "Weiß", "Groß", "Jäger", "Köhler", "Bäcker", "Schröder", "Krüger", "Günther",
    "Schmitz", "Wagner", "Becker", "Hoffmann", "Schulz", "Fuß", "Strauß", "Vöhringer", "Şahin", "Nowak",
    "Löwe", "Sämann", "Türk", "Brückner", "Heß", "Blümel",
)  # fmt: skip
_COMPANY_WORDS = (
    "Bäckerei", "Metallbau", "Elektrotechnik", "Heizungsbau", "Softwarehaus", "Druckerei", "Gärtnerei",
    "Büroservice", "Ingenieurbüro", "Straßenbau", "Möbelwerkstatt", "Glaserei", "Dachdeckerei",
    "Reinigungsdienst", "Übersetzungsbüro", "Kfz-Werkstatt", "Solartechnik", "Landschaftspflege",
)  # fmt: skip
_LEGAL_FORMS = ("GmbH", "GmbH & Co. KG", "AG", "e.K.", "KG", "OHG", "UG (haftungsbeschränkt)")
_PUBLIC_BUYERS = (
    "Stadtverwaltung Köln", "Landratsamt München", "Bezirksamt Tempelhof-Schöneberg",
    "Universität Tübingen", "Landesbetrieb Straßenbau Nordrhein-Westfalen", "Gemeinde Weißenhäuser Strand",
    "Bundesamt für Güterverkehr", "Stadtwerke Lüneburg", "Kreisverwaltung Südliche Weinstraße",
    "Freie und Hansestadt Hamburg – Behörde für Schule", "Amt für Bürgerangelegenheiten Gießen",
    "Landeshauptstadt Düsseldorf",
)  # fmt: skip
_STREETS = (
    "Hauptstraße", "Bahnhofstraße", "Schloßallee", "Königsweg", "Mühlenweg", "Große Bäckerstraße",
    "Am Südhang", "Lindenstraße", "Goethestraße", "Grüner Weg", "Marktplatz", "Kölner Straße",
    "Fürstenwall", "Jägerstraße", "Rosenhöhe", "An der Weißach",
)  # fmt: skip
_CITIES = (
    ("80331", "München"), ("50667", "Köln"), ("40213", "Düsseldorf"), ("90402", "Nürnberg"),
    ("97070", "Würzburg"), ("23552", "Lübeck"), ("35390", "Gießen"), ("41061", "Mönchengladbach"),
    ("49074", "Osnabrück"), ("66111", "Saarbrücken"), ("10117", "Berlin"), ("20095", "Hamburg"),
    ("60311", "Frankfurt am Main"), ("37073", "Göttingen"), ("72070", "Tübingen"), ("90762", "Fürth"),
    ("21335", "Lüneburg"), ("01067", "Dresden"), ("04109", "Leipzig"), ("88045", "Friedrichshafen"),
)  # fmt: skip
# (country, city, postcode, VAT id prefix, digits or None when the buyer has no EU VAT id)
_EU_BUYERS = (
    ("AT", "Wien", "1010", "ATU", 8, "Mariahilfer Straße"),
    ("FR", "Strasbourg", "67000", "FR", 11, "Rue du Dôme"),
    ("NL", "Utrecht", "3511", "NL", 9, "Oudegracht"),
    ("BE", "Liège", "4000", "BE0", 9, "Rue Léopold"),
    ("PL", "Wrocław", "50-001", "PL", 10, "ulica Świdnicka"),
    ("DK", "Aarhus", "8000", "DK", 8, "Søndergade"),
    ("IT", "Bolzano", "39100", "IT", 11, "Via dei Portici"),
)  # fmt: skip
_NON_EU_BUYERS = (
    ("CH", "Zürich", "8001", "Bahnhofstrasse"),
    ("NO", "Tromsø", "9008", "Storgata"),
    ("US", "Boston", "02108", "Beacon Street"),
    ("GB", "Manchester", "M1 1AE", "Deansgate"),
    ("JP", "Ōsaka", "530-0001", "Umeda 1-chōme"),
)  # fmt: skip
_BANKS = (
    ("Sparkasse KölnBonn", "COLSDE33XXX"), ("Commerzbank", "COBADEFFXXX"),
    ("Deutsche Bank", "DEUTDEDBXXX"), ("GLS Gemeinschaftsbank", "GENODEM1GLS"),
    ("Stadtsparkasse München", "SSKMDEMMXXX"), ("Volksbank Mittelhessen", "VBMHDE5FXXX"),
)  # fmt: skip
# (name, unit codes, price range in cents, rate when category S)
_PRODUCTS = (
    ("Beratungsleistung Projektsteuerung", ("HUR",), (6500, 18000), "19"),
    ("Wartung Heizungsanlage", ("HUR", "LS"), (4500, 9500), "19"),
    ("Softwarelizenz „Büro Pro“ (Jahresabo)", ("C62", "ANN"), (9900, 129900), "19"),
    ("Druckerpapier A4, 80 g/m²", ("H87", "XBX"), (399, 2999), "19"),
    ("Schrauben M8×40, verzinkt", ("C62", "KGM"), (3, 1250), "19"),
    ("Kabel NYM-J 3×1,5 mm²", ("MTR",), (89, 320), "19"),
    ("Heizöl EL schwefelarm", ("LTR",), (85, 140), "19"),
    ("Reinigung Büroräume", ("MTK", "HUR"), (150, 4200), "19"),
    ("Fahrtkosten (Kilometerpauschale)", ("KMT",), (30, 70), "19"),
    ("Tagessatz Entwicklung", ("DAY",), (60000, 140000), "19"),
    ("Strom Abrechnungszeitraum", ("KWH",), (21, 45), "19"),
    ("Serverhosting Managed", ("MON",), (4900, 49900), "19"),
    ("Fachbuch „Öffentliches Vergaberecht“", ("H87", "C62"), (2490, 8900), "7"),
    ("Kaffeebohnen, Röstung „Dunkel“", ("KGM",), (1290, 3490), "7"),
    ("Mineralwasser still, Kiste", ("XCR", "H87"), (499, 899), "7"),
    ("Schnittblumen Gesteck für Empfang", ("C62", "SET"), (1500, 12000), "7"),
    ("Zeitschriften-Abonnement „Kommunal heute“", ("MON", "ANN"), (890, 12000), "7"),
    ("Übernachtung Tagungsgast", ("DAY",), (7900, 15900), "7"),
)  # fmt: skip
_ZERO_PRODUCTS = (
    ("Photovoltaikanlage 9,8 kWp inkl. Speicher", ("C62", "SET"), (890000, 2490000)),
    ("Solarmodul 430 Wp", ("H87", "C62"), (11000, 24000)),
    ("Montage Wechselrichter (PV)", ("HUR", "LS"), (6500, 9500)),
)  # fmt: skip
_EXEMPT_PRODUCTS = (
    ("Schulungsleistung Erste Hilfe", ("HUR", "DAY"), (4500, 90000), "Steuerfrei gemäß § 4 Nr. 21 UStG"),
    ("Ärztliche Untersuchung (Arbeitsmedizin)", ("C62",), (4500, 25000), "Steuerfrei gemäß § 4 Nr. 14 UStG"),
    ("Vermietung Lagerfläche", ("MON", "MTK"), (350, 180000), "Steuerfrei gemäß § 4 Nr. 12 UStG"),
)  # fmt: skip
_SERVICE_PRODUCTS = (
    ("Montageleistung vor Ort", ("HUR", "DAY"), (6500, 120000)),
    ("Wartungsvertrag Maschinenpark", ("MON", "LS"), (15000, 450000)),
    ("Ingenieurleistung Planung", ("HUR",), (8500, 16000)),
    ("Frästeile Aluminium, Sonderanfertigung", ("H87", "C62"), (1200, 45000)),
    ("Edelstahlblech 2 mm", ("KGM", "MTK"), (480, 6900)),
)  # fmt: skip
_NOTES = (
    "Vielen Dank für Ihren Auftrag!",
    "Bitte geben Sie bei Zahlung die Rechnungsnummer an.",
    "Leistungszeitraum entspricht dem Rechnungsmonat.",
    "Lieferung frei Haus – Rückfragen gern an unsere Buchhaltung.",
)


def _iban(rng: random.Random) -> str:
    bban = f"{rng.randrange(10_000_000, 99_999_999)}{rng.randrange(10**9, 10**10)}"
    numeric = bban + "1314" + "00"  # D=13, E=14
    check = 98 - int(numeric) % 97
    return f"DE{check:02d}{bban}"


def _leitweg_id(rng: random.Random) -> str:
    grob = f"{rng.randrange(1, 17):02d}{rng.randrange(0, 10 ** rng.choice((1, 3, 7))):d}"
    fein = rng.choice(("", f"{rng.randrange(1, 99999):05d}", f"V{rng.randrange(1, 999):03d}"))
    body = grob + fein
    digits = "".join(str(int(c, 36)) for c in body)
    check = 98 - int(digits + "00") % 97
    return f"{grob}-{fein}-{check:02d}" if fein else f"{grob}-{check:02d}"


def _money(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def _quantity(rng: random.Random, unit: str) -> str | int:
    if unit in ("KGM", "LTR", "MTR", "MTK", "KWH", "KMT"):
        value = Decimal(rng.randrange(5, 500_000)) / Decimal(rng.choice((1, 10, 100, 1000)))
        return str(value.normalize()) if value != value.to_integral() else str(int(value))
    if unit == "HUR":
        return str(Decimal(rng.randrange(1, 160)) / 4)
    if rng.random() < 0.15:
        return rng.randrange(1, 50)  # a JSON number now and then
    return str(rng.randrange(1, 250))


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def _email(rng: random.Random, name: str, domain: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", " ": "."})
    local = "".join(c for c in name.lower().translate(table) if c.isascii() and (c.isalnum() or c == "."))
    return f"{local or 'info'}@{domain}"


def _domain(name: str, country: str = "DE") -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
    slug = "".join(c for c in name.lower().translate(table) if c.isascii() and c.isalnum())[:24]
    tld = {"GB": "co.uk", "US": "com"}.get(country, country.lower())
    return f"{slug or 'firma'}.{tld}"


def _german_address(rng: random.Random) -> dict[str, str]:
    postcode, city = rng.choice(_CITIES)
    number = f"{rng.randrange(1, 180)}{rng.choice(('', '', '', 'a', 'b'))}"
    return {"street": f"{rng.choice(_STREETS)} {number}", "postcode": postcode, "city": city, "country": "DE"}


def _seller(rng: random.Random, *, with_vat: bool) -> dict[str, Any]:
    company = f"{rng.choice(_LAST_NAMES)} {rng.choice(_COMPANY_WORDS)} {rng.choice(_LEGAL_FORMS)}"
    domain = _domain(company)
    contact = _person(rng)
    bank, bic = rng.choice(_BANKS)
    seller: dict[str, Any] = {"name": company, **_german_address(rng)}
    if with_vat:
        seller["vatId"] = f"DE{rng.randrange(100_000_000, 999_999_999)}"
    if not with_vat or rng.random() < 0.4:
        seller["legalRegistrationId"] = f"HRB {rng.randrange(1000, 250000)}"
    if not with_vat or rng.random() < 0.4:
        seller["taxId"] = f"{rng.randrange(10, 99)}/{rng.randrange(100, 999)}/{rng.randrange(10000, 99999)}"
    seller.update(
        {
            "email": f"buchhaltung@{domain}",
            "phone": f"+49 {rng.randrange(30, 999)} {rng.randrange(100000, 9999999)}",
            "contactName": contact,
            "electronicAddress": f"rechnung@{domain}",
            "electronicAddressScheme": "EM",
            "iban": _iban(rng),
            "bic": bic,
            "bankName": bank,
        }
    )
    return seller


def _buyer(rng: random.Random, profile: str) -> dict[str, Any]:
    buyer: dict[str, Any]
    if profile in ("AE", "K"):
        country, city, postcode, prefix, digits, street = (
            rng.choice(_EU_BUYERS) if profile == "K" else ("DE", "", "", "DE", 9, "")
        )
        name = f"{rng.choice(_LAST_NAMES)} {rng.choice(_COMPANY_WORDS)} {rng.choice(_LEGAL_FORMS)}"
        if country == "DE":
            buyer = {"name": name, **_german_address(rng)}
        else:
            buyer = {"name": name, "street": f"{street} {rng.randrange(1, 90)}", "postcode": postcode}
            buyer.update({"city": city, "country": country})
        vat_digits = "".join(str(rng.randrange(10)) for _ in range(digits))
        buyer["vatId"] = f"{prefix}{vat_digits}" + ("B01" if country == "NL" else "")
    elif profile == "G":
        country, city, postcode, street = rng.choice(_NON_EU_BUYERS)
        name = f"{rng.choice(_LAST_NAMES)} Trading {rng.choice(('Ltd.', 'Inc.', 'AG', 'AS', 'K.K.'))}"
        buyer = {"name": name, "street": f"{street} {rng.randrange(1, 90)}", "postcode": postcode}
        buyer.update({"city": city, "country": country})
    else:
        if rng.random() < 0.5:
            name = rng.choice(_PUBLIC_BUYERS)
        else:
            name = f"{rng.choice(_LAST_NAMES)} {rng.choice(_COMPANY_WORDS)} {rng.choice(_LEGAL_FORMS)}"
        buyer = {"name": name, **_german_address(rng)}
        if profile != "O" and rng.random() < 0.3:
            buyer["vatId"] = f"DE{rng.randrange(100_000_000, 999_999_999)}"
    domain = _domain(buyer["name"], buyer["country"])
    contact = _person(rng)
    buyer["contactName"] = contact
    buyer["email"] = _email(rng, contact, domain)
    if rng.random() < 0.5:
        buyer["phone"] = f"+49 {rng.randrange(30, 999)} {rng.randrange(100000, 9999999)}"
    buyer["electronicAddress"] = f"e-rechnung@{domain}"
    buyer["electronicAddressScheme"] = "EM"
    return buyer


def _tax(category: str, rate: str) -> dict[str, Any]:
    tax: dict[str, Any] = {"typeCode": "VAT", "categoryCode": category}
    # numbers and decimal strings both occur on the wire; O gets "0" (the renderers omit it, BR-O-05)
    tax["rate"] = 19 if rate == "19" else rate
    if category == "AE":
        tax.update(exemptionReason="Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)")
        tax["exemptionReasonCode"] = "VATEX-EU-AE"
    elif category == "K":
        tax.update(exemptionReason="Steuerfreie innergemeinschaftliche Lieferung")
        tax["exemptionReasonCode"] = "VATEX-EU-IC"
    elif category == "G":
        tax.update(exemptionReason="Steuerfreie Ausfuhrlieferung", exemptionReasonCode="VATEX-EU-G")
    elif category == "O":
        tax.update(exemptionReason="Nicht im Inland steuerbare Leistung", exemptionReasonCode="VATEX-EU-O")
    return tax


def _line(rng: random.Random, index: int, category: str, allow_7: bool) -> dict[str, Any]:
    reason = None
    if category == "S":
        choices = [p for p in _PRODUCTS if allow_7 or p[3] == "19"]
        name, units, (lo, hi), rate = rng.choice(choices)
    elif category == "Z":
        name, units, (lo, hi) = rng.choice(_ZERO_PRODUCTS)
        rate = "0"
    elif category == "E":
        name, units, (lo, hi), reason = rng.choice(_EXEMPT_PRODUCTS)
        rate = "0"
    else:
        name, units, (lo, hi) = rng.choice(_SERVICE_PRODUCTS)
        rate = "0"
    unit = rng.choice(units)
    cents = rng.randrange(lo, hi + 1)
    price = _money(cents)
    if rng.random() < 0.1 and unit in ("KWH", "KGM", "C62"):
        price = str(
            (Decimal(cents) / 100 + Decimal(rng.randrange(0, 100)) / 10000).quantize(Decimal("0.0001"))
        )
    tax = _tax(category, rate)
    if category == "E":
        tax["exemptionReason"] = reason
        if rng.random() < 0.5:
            tax["exemptionReasonCode"] = "VATEX-EU-132"
    product: dict[str, Any] = {
        "productId": f"ART-{rng.randrange(1000, 99999)}",
        "name": name,
        "quantity": _quantity(rng, unit),
        "unitCode": unit,
        "price": price,
        "taxes": [tax],
    }
    if rng.random() < 0.3:
        product["description"] = rng.choice(
            (
                "Gemäß Angebot vom Vormonat",
                "Lieferung ab Lager Süd",
                "inkl. Anfahrt",
                "Größe: XL, Farbe: grün",
            )
        )
    return {"id": str(index), "product": product}


def _pick_profile(rng: random.Random, categories: Sequence[str] | None) -> tuple[str, list[str]]:
    allowed = list(_ALL_CATEGORIES) if categories is None else [c.upper() for c in categories]
    unknown = [c for c in allowed if c not in _ALL_CATEGORIES]
    if unknown or not allowed:
        raise ValueError(f"categories must be a non-empty subset of {_ALL_CATEGORIES}, got {categories!r}")
    domestic = [c for c in _DOMESTIC if c in allowed]
    specials = [c for c in _SPECIAL if c in allowed]
    if categories is None:
        profile = rng.choices(("domestic", *_SPECIAL), weights=(80, 5, 5, 5, 5))[0]
    else:
        options = (["domestic"] if domestic else []) + specials
        weights = [len(options) * 2 if o == "domestic" else 1 for o in options]
        profile = rng.choices(options, weights=weights)[0]
    return profile, (domestic if profile == "domestic" else [profile])


def _skonto_and_schema(invoice: dict[str, Any], extra: random.Random, days: int, schema: str | None) -> None:
    """Extras drawn from their own stream, so adding them did not change the rest of the invoice."""
    if days >= 14 and extra.random() < 0.15:  # XRechnung Skonto line (BR-DE-18 format)
        skonto_days = extra.choice((7, 10))
        invoice["paymentTerms"] += (
            f"\n#SKONTO#TAGE={skonto_days}#PROZENT={extra.choice(('2.00', '3.00', '1.50'))}#\n"
        )
    if schema is not None:
        invoice["schema"] = schema
    elif invoice["format"] == "xrechnung" and extra.random() < 0.1:
        invoice["schema"] = "CII"  # the default, sent explicitly now and then


def _optional_fields(
    invoice: dict[str, Any], rng: random.Random, profile: str, issue: _dt.date, preceding: str
) -> None:
    """Note, preceding invoice, delivery date, deliver-to address and e-mail delivery (main stream)."""
    buyer = invoice["buyer"]
    type_code = invoice["invoiceTypeCode"]
    if rng.random() < 0.5:
        invoice["note"] = rng.choice(_NOTES)
    if type_code in ("381", "383", "384"):
        invoice["precedingInvoiceNumber"] = preceding
    if profile in ("K", "G") or rng.random() < 0.4:
        invoice["deliveryDate"] = (issue - _dt.timedelta(days=rng.randrange(0, 20))).strftime("%Y%m%d")
    if profile in ("K", "G") or rng.random() < 0.15:
        ship_to: dict[str, Any] = {"name": buyer["name"]}
        for key in ("street", "postcode", "city", "country"):
            ship_to[key] = buyer[key]
        invoice["shipTo"] = ship_to
    if rng.random() < 0.3:
        invoice["delivery"] = {
            "type": "email",
            "recipient": buyer["email"],
            "carbonCopy": None,
            "blindCarbonCopy": None,
        }


def generate_invoice(
    index: int,
    *,
    seed: int = 0,
    lines: int | None = None,
    categories: Sequence[str] | None = None,
    type_code: str | None = None,
    format: str | None = None,
    schema: str | None = None,
    number_prefix: str = "RE",
    terms: bool = True,
) -> dict[str, Any]:
    """Return invoice number ``index`` of the series ``seed`` (a fresh dict, JSON-ready).

    ``lines`` fixes the number of items (default 1-20), ``categories`` restricts the VAT categories
    (subset of S, Z, E, AE, K, G, O; ``O`` never shares an invoice with another category),
    ``type_code`` and ``format`` fix BT-3 and the output format (default: mostly 380 / ``xrechnung``),
    ``schema`` the XRechnung syntax (``"CII"``/``"UBL"``; default: drawn, about a quarter UBL).  The old
    spelling ``format="xrechnung:ubl"`` is still understood here (it means ``xrechnung`` + ``UBL``).
    ``terms=False`` leaves out the extended EN 16931 terms of :mod:`._gen_terms` (allowances, charges,
    periods, references, direct debit, foreign currency, attachments, rarer type codes).
    """
    rng = random.Random(f"faktoora-async:{seed}:{index}")
    profile, line_categories = _pick_profile(rng, categories)
    if format is None:
        format, drawn_schema = rng.choices(_KINDS, weights=(60, 25, 15))[0]
        schema = schema or drawn_schema
    elif format == _LEGACY_UBL:
        format, schema = "xrechnung", schema or "UBL"
    # the extended terms come from their own stream, so they do not change the rest of the invoice
    terms_rng = random.Random(f"faktoora-async:{seed}:{index}:terms")
    if type_code is None:
        type_code = rng.choices(("380", "381", "384"), weights=(86, 10, 4))[0]
        if terms:
            type_code = draw_type_code(type_code, terms_rng)
    n_lines = lines if lines is not None else rng.choice((1, 1, 2, 3, 3, 4, 5, 6, 8, 10, 12, 15, 20))
    if n_lines < 1:
        raise ValueError("lines must be >= 1")

    issue = _dt.date(2025, 1, 1) + _dt.timedelta(days=rng.randrange(0, 540))
    due = issue + _dt.timedelta(days=rng.choice((7, 14, 14, 30, 30, 60)))
    seller = _seller(rng, with_vat=profile != "O")
    buyer = _buyer(rng, profile)

    allow_7 = rng.random() < 0.6
    if profile == "domestic":
        weights = {"S": 8, "Z": 1, "E": 1}
        pool = line_categories
        chosen = [rng.choices(pool, weights=[weights[c] for c in pool])[0] for _ in range(n_lines)]
    else:
        chosen = [profile] * n_lines
    items = [_line(rng, i + 1, cat, allow_7) for i, cat in enumerate(chosen)]

    days = (due - issue).days
    invoice: dict[str, Any] = {
        "format": format,
        "invoiceNumber": f"{number_prefix}-{seed}-{index:06d}",
        "issueDate": issue.strftime("%Y%m%d"),
        "currency": "EUR",
        "invoiceTypeCode": type_code,
        "buyerReference": _leitweg_id(rng),
        "dueDate": due.strftime("%Y%m%d"),
        "paymentTerms": rng.choice(
            (f"Zahlbar innerhalb von {days} Tagen ohne Abzug.", f"Zahlungsziel: {days} Tage netto.")
        ),
        "paymentMeansCode": rng.choices(("58", "30"), weights=(9, 1))[0],
        "seller": seller,
        "buyer": buyer,
        "invoiceItems": items,
    }
    _skonto_and_schema(invoice, random.Random(f"faktoora-async:{seed}:{index}:extra"), days, schema)
    _optional_fields(invoice, rng, profile, issue, f"{number_prefix}-{seed}-{max(index - 1, 0):06d}-V")
    if terms:
        add_terms(invoice, terms_rng, issue)
    return invoice


def generate_invoices(
    n: int,
    *,
    seed: int = 0,
    start: int = 0,
    lines: int | None = None,
    categories: Sequence[str] | None = None,
    type_code: str | None = None,
    format: str | None = None,
    schema: str | None = None,
    number_prefix: str = "RE",
    terms: bool = True,
) -> Iterator[dict[str, Any]]:
    """Yield ``n`` invoices: ``generate_invoice(start + i, seed=seed, ...)`` for i in range(n)."""
    for i in range(n):
        yield generate_invoice(
            start + i,
            seed=seed,
            lines=lines,
            categories=categories,
            type_code=type_code,
            format=format,
            schema=schema,
            number_prefix=number_prefix,
            terms=terms,
        )
