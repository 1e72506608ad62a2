"""EN 16931 and XRechnung 3.0 validation in pure Python: a verdict without Java or stylesheets.

``validate_document(data)`` takes invoice bytes (CII, UBL, or a PDF embedding one) or a
:class:`~faktoora_async.einvoice.parse.ParsedInvoice` and returns a :class:`Verdict`: ``accepted`` is
``False`` as soon as one message has level ``"fatal"`` or ``"error"``.

Principle: a rule is reported only where the official Schematron rules (CEN/TC 434 EN 16931 validation
artefacts and KoSIT's XRechnung 3.0 rules, including the PEPPOL rules that XRechnung adopts) report the
same rule id for the same document.  Where the CII and UBL variants of an official rule differ, the
check below is the one that holds for the syntax at hand, or the more lenient of the two.  Rules not in
the list below are not checked, so a document the official rules reject for another reason (a schema
or datatype rule such as ``CII-DT-*``/``UBL-SR-*``, an identifier code list, ...) can pass here.

Implemented rules (all reported with level ``"fatal"``, as the official rules flag them):

* Mandatory content: BR-01 .. BR-16, BR-18 .. BR-20, BR-21 .. BR-27, BR-29, BR-30, BR-31 .. BR-33, BR-36 .. BR-38,
  BR-41 .. BR-44, BR-45 .. BR-49, BR-50, BR-52, BR-53, BR-55, BR-56, BR-57, BR-61 (UBL), BR-62, BR-63,
  BR-CO-04, BR-CO-09, BR-CO-18, BR-CO-21 .. BR-CO-24, BR-CO-26,
  CII-DT-015 .. CII-DT-029 (referenced documents), CII-DT-097, CII-SR-467, CII-SR-470,
  UBL-SR-12, UBL-SR-13, UBL-SR-18, UBL-SR-47, UBL-SR-53.
* Totals: BR-CO-10, BR-CO-11, BR-CO-12, BR-CO-13, BR-CO-14, BR-CO-15, BR-CO-16, BR-CO-17.
* VAT categories: BR-S-01 .. BR-S-10, BR-Z-01 .. BR-Z-10, BR-E-01 .. BR-E-10, BR-AE-01 .. BR-AE-10,
  BR-IC-01 .. BR-IC-12 (category K), BR-G-01 .. BR-G-10, BR-O-01, BR-O-02, BR-O-05 .. BR-O-14,
  BR-AF-01 .. BR-AF-10 (L), BR-AG-01 .. BR-AG-10 (M), BR-B-01, BR-B-02.
* Code lists: BR-CL-01 (document type), BR-CL-08 (note subject), BR-CL-03/04/05 (ISO 4217), BR-CL-14 (ISO 3166 country),
  BR-CL-16 (payment means), BR-CL-17/18 (VAT category), BR-CL-22 (VATEX), BR-CL-23 (UN/ECE Rec 20 unit),
  BR-CL-24 (attachment MIME type), BR-CL-25 (electronic address scheme),
  BR-CL-10/11/21/26 (ISO 6523 ICD identifier schemes).
* XRechnung 3.0 (``xrechnung=True``): BR-DE-1 .. BR-DE-11, BR-DE-14, BR-DE-15, BR-DE-16, BR-DE-18,
  BR-DE-22, BR-DE-23-a/b, BR-DE-24-a/b, BR-DE-25-a/b, PEPPOL-EN16931-R001, R005, R008, R010, R020,
  R041, R042, R044, R046, R053, R054, R061, R110, R111, R120 (UBL), R121, R130;
  and the warning BR-DE-21 (specification identifier is not XRechnung 3.0).
"""

# ruff: noqa: E501
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Final

from lxml import etree

from .parse import NS, UBL_CREDIT_NOTE_ROOT, ParsedInvoice, detect_syntax, parse_document, parse_xml

__all__ = ["Message", "Verdict", "validate_document", "validate_xml"]

logger = logging.getLogger("faktoora_async.einvoice.validate")


@dataclass(frozen=True)
class Message:
    """One finding: the rule id, its level (``fatal``, ``error`` or ``warning``), a text and an XPath-ish location."""

    rule_id: str
    level: str
    text: str
    location: str

    @property
    def is_error(self) -> bool:
        return self.level in ("fatal", "error")


@dataclass(frozen=True)
class Verdict:
    """The outcome of a validation: accepted unless a fatal/error message exists."""

    accepted: bool
    messages: list[Message] = field(default_factory=list)
    syntax: str = ""

    @property
    def errors(self) -> list[Message]:
        return [m for m in self.messages if m.is_error]

    @property
    def warnings(self) -> list[Message]:
        return [m for m in self.messages if not m.is_error]

    def error_ids(self) -> set[str]:
        """The distinct rule ids of the fatal/error messages."""
        return {m.rule_id for m in self.errors}

    def to_dict(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "syntax": self.syntax,
            "messages": [
                {"ruleId": m.rule_id, "level": m.level, "text": m.text, "location": m.location}
                for m in self.messages
            ],
        }


# ----------------------------------------------------------------------------------------- numbers


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Code lists (facts from UNTDID 1001/4461/5305, ISO 4217, ISO 3166-1, UN/ECE Rec 20, CEF VATEX/EAS).
_DOCUMENT_TYPES: Final = _codes(
    "71 80 81 82 83 84 102 130 202 203 204 211 218 219 261 262 295 296 308 325 326 331 380 381 382 "
    "383 384 385 386 387 388 389 390 393 394 395 396 420 456 457 458 471 472 473 500 501 502 503 527 "
    "532 553 575 623 633 751 780 817 870 875 876 877 935 "
)  # BR-CL-01, 62 codes

_CURRENCIES: Final = _codes(
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CLF CLP CNH CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD "
    "FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS "
    "KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK "
    "MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR "
    "SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STD SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH "
    "UGX USD USN UYI UYU UYW UZS VES VED VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD "
    "XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG "
)  # BR-CL-04, 178 codes

_COUNTRIES: Final = _codes(
    "1A AD AE AF AG AI AL AM AN AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BL BJ BM BN BO BQ "
    "BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ "
    "EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
    "HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA "
    "LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY "
    "MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS "
    "RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN "
    "TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XI YE YT ZA ZM ZW "
)  # BR-CL-14, 251 codes

_PAYMENT_MEANS: Final = _codes(
    "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 "
    "36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 "
    "68 69 70 74 75 76 77 78 91 92 93 94 95 96 97 98 ZZZ "
)  # BR-CL-16, 84 codes

_VATEX: Final = _codes(
    "VATEX-EU-79-C VATEX-EU-132 VATEX-EU-132-1A VATEX-EU-132-1B VATEX-EU-132-1C VATEX-EU-132-1D "
    "VATEX-EU-132-1E VATEX-EU-132-1F VATEX-EU-132-1G VATEX-EU-132-1H VATEX-EU-132-1I VATEX-EU-132-1J "
    "VATEX-EU-132-1K VATEX-EU-132-1L VATEX-EU-132-1M VATEX-EU-132-1N VATEX-EU-132-1O VATEX-EU-132-1P "
    "VATEX-EU-132-1Q VATEX-EU-135-1 VATEX-EU-143 VATEX-EU-143-1A VATEX-EU-143-1B VATEX-EU-143-1C "
    "VATEX-EU-143-1D VATEX-EU-143-1E VATEX-EU-143-1F VATEX-EU-143-1FA VATEX-EU-143-1G VATEX-EU-143-1H "
    "VATEX-EU-143-1I VATEX-EU-143-1J VATEX-EU-143-1K VATEX-EU-143-1L VATEX-EU-144 VATEX-EU-146-1E "
    "VATEX-EU-159 VATEX-EU-309 VATEX-EU-148 VATEX-EU-148-A VATEX-EU-148-B VATEX-EU-148-C "
    "VATEX-EU-148-D VATEX-EU-148-E VATEX-EU-148-F VATEX-EU-148-G VATEX-EU-151 VATEX-EU-151-1A "
    "VATEX-EU-151-1AA VATEX-EU-151-1B VATEX-EU-151-1C VATEX-EU-151-1D VATEX-EU-151-1E VATEX-EU-G "
    "VATEX-EU-O VATEX-EU-IC VATEX-EU-AE VATEX-EU-D VATEX-EU-F VATEX-EU-I VATEX-EU-J "
    "VATEX-FR-FRANCHISE VATEX-FR-CNWVAT VATEX-EU-153 VATEX-FR-CGI261-1 VATEX-FR-CGI261-2 "
    "VATEX-FR-CGI261-3 VATEX-FR-CGI261-4 VATEX-FR-CGI261-5 VATEX-FR-CGI261-7 VATEX-FR-CGI261-8 "
    "VATEX-FR-CGI261A VATEX-FR-CGI261B VATEX-FR-CGI261C-1 VATEX-FR-CGI261C-2 VATEX-FR-CGI261C-3 "
    "VATEX-FR-CGI261D-1 VATEX-FR-CGI261D-1BIS VATEX-FR-CGI261D-2 VATEX-FR-CGI261D-3 "
    "VATEX-FR-CGI261D-4 VATEX-FR-CGI261E-1 VATEX-FR-CGI261E-2 VATEX-FR-CGI277A VATEX-FR-CGI275 "
    "VATEX-FR-298SEXDECIESA VATEX-FR-CGI295 VATEX-FR-AE "
)  # BR-CL-22, 88 codes

_UNIT_CODES: Final = _codes(
    "10 11 13 14 15 20 21 22 23 24 25 27 28 33 34 35 37 38 40 41 56 57 58 59 60 61 74 77 80 81 85 87 "
    "89 91 1I 2A 2B 2C 2G 2H 2I 2J 2K 2L 2M 2N 2P 2Q 2R 2U 2X 2Y 2Z 3B 3C 4C 4G 4H 4K 4L 4M 4N 4O 4P "
    "4Q 4R 4T 4U 4W 4X 5A 5B 5E 5J A10 A11 A12 A13 A14 A15 A16 A17 A18 A19 A2 A20 A21 A22 A23 A24 A26 "
    "A27 A28 A29 A3 A30 A31 A32 A33 A34 A35 A36 A37 A38 A39 A4 A40 A41 A42 A43 A44 A45 A47 A48 A49 A5 "
    "A53 A54 A55 A56 A59 A6 A68 A69 A7 A70 A71 A73 A74 A75 A76 A8 A84 A85 A86 A87 A88 A89 A9 A90 A91 "
    "A93 A94 A95 A96 A97 A98 A99 AA AB ACR ACT AD AE AH AI AK AL AMH AMP ANN APZ AQ AS ASM ASU ATM "
    "AWG AY AZ B1 B10 B11 B12 B13 B14 B15 B16 B17 B18 B19 B20 B21 B22 B23 B24 B25 B26 B27 B28 B29 B3 "
    "B30 B31 B32 B33 B34 B35 B4 B41 B42 B43 B44 B45 B46 B47 B48 B49 B50 B52 B53 B54 B55 B56 B57 B58 "
    "B59 B60 B61 B62 B63 B64 B66 B67 B68 B69 B7 B70 B71 B72 B73 B74 B75 B76 B77 B78 B79 B8 B80 B81 "
    "B82 B83 B84 B85 B86 B87 B88 B89 B90 B91 B92 B93 B94 B95 B96 B97 B98 B99 BAR BB BFT BHP BIL BLD "
    "BLL BP BPM BQL BTU BUA BUI C0 C10 C11 C12 C13 C14 C15 C16 C17 C18 C19 C20 C21 C22 C23 C24 C25 "
    "C26 C27 C28 C29 C3 C30 C31 C32 C33 C34 C35 C36 C37 C38 C39 C40 C41 C42 C43 C44 C45 C46 C47 C48 "
    "C49 C50 C51 C52 C53 C54 C55 C56 C57 C58 C59 C60 C61 C62 C63 C64 C65 C66 C67 C68 C69 C7 C70 C71 "
    "C72 C73 C74 C75 C76 C78 C79 C8 C80 C81 C82 C83 C84 C85 C86 C87 C88 C89 C9 C90 C91 C92 C93 C94 "
    "C95 C96 C97 C99 CCT CDL CEL CEN CG CGM CKG CLF CLT CMK CMQ CMT CNP CNT COU CTG CTM CTN CUR CWA "
    "CWI D03 D04 D1 D10 D11 D12 D13 D15 D16 D17 D18 D19 D2 D20 D21 D22 D23 D24 D25 D26 D27 D29 D30 "
    "D31 D32 D33 D34 D36 D41 D42 D43 D44 D45 D46 D47 D48 D49 D5 D50 D51 D52 D53 D54 D55 D56 D57 D58 "
    "D59 D6 D60 D61 D62 D63 D65 D68 D69 D73 D74 D77 D78 D80 D81 D82 D83 D85 D86 D87 D88 D89 D91 D93 "
    "D94 D95 DAA DAD DAY DB DBM DBW DD DEC DG DJ DLT DMA DMK DMO DMQ DMT DN DPC DPR DPT DRA DRI DRL "
    "DT DTN DWT DZN DZP E01 E07 E08 E09 E10 E12 E14 E15 E16 E17 E18 E19 E20 E21 E22 E23 E25 E27 E28 "
    "E30 E31 E32 E33 E34 E35 E36 E37 E38 E39 E4 E40 E41 E42 E43 E44 E45 E46 E47 E48 E49 E50 E51 E52 "
    "E53 E54 E55 E56 E57 E58 E59 E60 E61 E62 E63 E64 E65 E66 E67 E68 E69 E70 E71 E72 E73 E74 E75 E76 "
    "E77 E78 E79 E80 E81 E82 E83 E84 E85 E86 E87 E88 E89 E90 E91 E92 E93 E94 E95 E96 E97 E98 E99 EA "
    "EB EQ F01 F02 F03 F04 F05 F06 F07 F08 F10 F11 F12 F13 F14 F15 F16 F17 F18 F19 F20 F21 F22 F23 "
    "F24 F25 F26 F27 F28 F29 F30 F31 F32 F33 F34 F35 F36 F37 F38 F39 F40 F41 F42 F43 F44 F45 F46 F47 "
    "F48 F49 F50 F51 F52 F53 F54 F55 F56 F57 F58 F59 F60 F61 F62 F63 F64 F65 F66 F67 F68 F69 F70 F71 "
    "F72 F73 F74 F75 F76 F77 F78 F79 F80 F81 F82 F83 F84 F85 F86 F87 F88 F89 F90 F91 F92 F93 F94 F95 "
    "F96 F97 F98 F99 FAH FAR FBM FC FF FH FIT FL FNU FOT FP FR FS FTK FTQ G01 G04 G05 G06 G08 G09 G10 "
    "G11 G12 G13 G14 G15 G16 G17 G18 G19 G2 G20 G21 G23 G24 G25 G26 G27 G28 G29 G3 G30 G31 G32 G33 "
    "G34 G35 G36 G37 G38 G39 G40 G41 G42 G43 G44 G45 G46 G47 G48 G49 G50 G51 G52 G53 G54 G55 G56 G57 "
    "G58 G59 G60 G61 G62 G63 G64 G65 G66 G67 G68 G69 G70 G71 G72 G73 G74 G75 G76 G77 G78 G79 G80 G81 "
    "G82 G83 G84 G85 G86 G87 G88 G89 G90 G91 G92 G93 G94 G95 G96 G97 G98 G99 GB GBQ GDW GE GF GFI GGR "
    "GIA GIC GII GIP GJ GL GLD GLI GLL GM GO GP GQ GRM GRN GRO GV GWH H03 H04 H05 H06 H07 H08 H09 H10 "
    "H11 H12 H13 H14 H15 H16 H18 H19 H20 H21 H22 H23 H24 H25 H26 H27 H28 H29 H30 H31 H32 H33 H34 H35 "
    "H36 H37 H38 H39 H40 H41 H42 H43 H44 H45 H46 H47 H48 H49 H50 H51 H52 H53 H54 H55 H56 H57 H58 H59 "
    "H60 H61 H62 H63 H64 H65 H66 H67 H68 H69 H70 H71 H72 H73 H74 H75 H76 H77 H79 H80 H81 H82 H83 H84 "
    "H85 H87 H88 H89 H90 H91 H92 H93 H94 H95 H96 H98 H99 HA HAD HBA HBX HC HDW HEA HGM HH HIU HKM HLT "
    "HM HMO HMQ HMT HPA HTZ HUR HWE IA IE INH INK INQ ISD IU IUG IV J10 J12 J13 J14 J15 J16 J17 J18 "
    "J19 J2 J20 J21 J22 J23 J24 J25 J26 J27 J28 J29 J30 J31 J32 J33 J34 J35 J36 J38 J39 J40 J41 J42 "
    "J43 J44 J45 J46 J47 J48 J49 J50 J51 J52 J53 J54 J55 J56 J57 J58 J59 J60 J61 J62 J63 J64 J65 J66 "
    "J67 J68 J69 J70 J71 J72 J73 J74 J75 J76 J78 J79 J81 J82 J83 J84 J85 J87 J90 J91 J92 J93 J95 J96 "
    "J97 J98 J99 JE JK JM JNT JOU JPS JWL K1 K10 K11 K12 K13 K14 K15 K16 K17 K18 K19 K2 K20 K21 K22 "
    "K23 K26 K27 K28 K3 K30 K31 K32 K33 K34 K35 K36 K37 K38 K39 K40 K41 K42 K43 K45 K46 K47 K48 K49 "
    "K50 K51 K52 K53 K54 K55 K58 K59 K6 K60 K61 K62 K63 K64 K65 K66 K67 K68 K69 K70 K71 K73 K74 K75 "
    "K76 K77 K78 K79 K80 K81 K82 K83 K84 K85 K86 K87 K88 K89 K90 K91 K92 K93 K94 K95 K96 K97 K98 K99 "
    "KA KAT KB KBA KCC KDW KEL KGM KGS KHY KHZ KI KIC KIP KJ KJO KL KLK KLX KMA KMH KMK KMQ KMT KNI "
    "KNM KNS KNT KO KPA KPH KPO KPP KR KSD KSH KT KTN KUR KVA KVR KVT KW KWH KWN KWO KWS KWT KWY KX "
    "L10 L11 L12 L13 L14 L15 L16 L17 L18 L19 L2 L20 L21 L23 L24 L25 L26 L27 L28 L29 L30 L31 L32 L33 "
    "L34 L35 L36 L37 L38 L39 L40 L41 L42 L43 L44 L45 L46 L47 L48 L49 L50 L51 L52 L53 L54 L55 L56 L57 "
    "L58 L59 L60 L63 L64 L65 L66 L67 L68 L69 L70 L71 L72 L73 L74 L75 L76 L77 L78 L79 L80 L81 L82 L83 "
    "L84 L85 L86 L87 L88 L89 L90 L91 L92 L93 L94 L95 L96 L98 L99 LA LAC LBR LBT LD LEF LF LH LK LM LN "
    "LO LP LPA LR LS LTN LTR LUB LUM LUX LY M1 M10 M11 M12 M13 M14 M15 M16 M17 M18 M19 M20 M21 M22 "
    "M23 M24 M25 M26 M27 M29 M30 M31 M32 M33 M34 M35 M36 M37 M38 M39 M4 M40 M41 M42 M43 M44 M45 M46 "
    "M47 M48 M49 M5 M50 M51 M52 M53 M55 M56 M57 M58 M59 M60 M61 M62 M63 M64 M65 M66 M67 M68 M69 M7 "
    "M70 M71 M72 M73 M74 M75 M76 M77 M78 M79 M80 M81 M82 M83 M84 M85 M86 M87 M88 M89 M9 M90 M91 M92 "
    "M93 M94 M95 M96 M97 M98 M99 MAH MAL MAM MAR MAW MBE MBF MBR MC MCU MD MGM MHZ MIK MIL MIN MIO "
    "MIU MKD MKM MKW MLD MLT MMK MMQ MMT MND MNJ MON MPA MQD MQH MQM MQS MQW MRD MRM MRW MSK MTK MTQ "
    "MTR MTS MTZ MVA MWH N1 N10 N11 N12 N13 N14 N15 N16 N17 N18 N19 N20 N21 N22 N23 N24 N25 N26 N27 "
    "N28 N29 N3 N30 N31 N32 N33 N34 N35 N36 N37 N38 N39 N40 N41 N42 N43 N44 N45 N46 N47 N48 N49 N50 "
    "N51 N52 N53 N54 N55 N56 N57 N58 N59 N60 N61 N62 N63 N64 N65 N66 N67 N68 N69 N70 N71 N72 N73 N74 "
    "N75 N76 N77 N78 N79 N80 N81 N82 N83 N84 N85 N86 N87 N88 N89 N90 N91 N92 N93 N94 N95 N96 N97 N98 "
    "N99 NA NAR NCL NEW NF NIL NIU NL NM3 NMI NMP NPT NT NTU NU NX OA ODE ODG ODK ODM OHM ON ONZ OPM "
    "OT OZA OZI P1 P10 P11 P12 P13 P14 P15 P16 P17 P18 P19 P2 P20 P21 P22 P23 P24 P25 P26 P27 P28 P29 "
    "P30 P31 P32 P33 P34 P35 P36 P37 P38 P39 P40 P41 P42 P43 P44 P45 P46 P47 P48 P49 P5 P50 P51 P52 "
    "P53 P54 P55 P56 P57 P58 P59 P60 P61 P62 P63 P64 P65 P66 P67 P68 P69 P70 P71 P72 P73 P74 P75 P76 "
    "P77 P78 P79 P80 P81 P82 P83 P84 P85 P86 P87 P88 P89 P90 P91 P92 P93 P94 P95 P96 P97 P98 P99 PAL "
    "PD PFL PGL PI PLA PO PQ PR PS PTD PTI PTL PTN Q10 Q11 Q12 Q13 Q14 Q15 Q16 Q17 Q18 Q19 Q20 Q21 "
    "Q22 Q23 Q24 Q25 Q26 Q27 Q28 Q29 Q3 Q30 Q31 Q32 Q33 Q34 Q35 Q36 Q37 Q38 Q39 Q40 Q41 Q42 QA QAN QB "
    "QR QTD QTI QTL QTR R1 R9 RH RM ROM RP RPM RPS RT S3 S4 SAN SCO SCR SEC SET SG SIE SM3 SMI SQ SQR "
    "SR STC STI STK STL STN STW SW SX SYR T0 T3 TAH TAN TI TIC TIP TKM TMS TNE TP TPI TPR TQD TRL TST "
    "TTS U1 U2 UB UC VA VLT VP W2 WA WB WCD WE WEB WEE WG WHR WM WSD WTT X1 YDK YDQ YRD Z11 Z9 ZP ZZ "
    "X1A X1B X1D X1F X1G X1W X2C X3A X3H X43 X44 X4A X4B X4C X4D X4F X4G X4H X5H X5L X5M X6H X6P X7A "
    "X7B X8A X8B X8C XAA XAB XAC XAD XAE XAF XAG XAH XAI XAJ XAL XAM XAP XAT XAV XB4 XBA XBB XBC XBD "
    "XBE XBF XBG XBH XBI XBJ XBK XBL XBM XBN XBO XBP XBQ XBR XBS XBT XBU XBV XBW XBX XBY XBZ XCA XCB "
    "XCC XCD XCE XCF XCG XCH XCI XCJ XCK XCL XCM XCN XCO XCP XCQ XCR XCS XCT XCU XCV XCW XCX XCY XCZ "
    "XDA XDB XDC XDG XDH XDI XDJ XDK XDL XDM XDN XDP XDR XDS XDT XDU XDV XDW XDX XDY XEC XED XEE XEF "
    "XEG XEH XEI XEN XFB XFC XFD XFE XFI XFL XFO XFP XFR XFT XFW XFX XGB XGI XGL XGR XGU XGY XGZ XHA "
    "XHB XHC XHG XHN XHR XIA XIB XIC XID XIE XIF XIG XIH XIK XIL XIN XIZ XJB XJC XJG XJR XJT XJY XKG "
    "XKI XLE XLG XLT XLU XLV XLZ XMA XMB XMC XME XMR XMS XMT XMW XMX XNA XNE XNF XNG XNS XNT XNU XNV "
    "XO1 XO2 XO3 XO4 XO5 XO6 XO7 XO8 XO9 XOA XOB XOC XOD XOE XOF XOG XOH XOI XOJ XOK XOL XOM XON XOP "
    "XOQ XOR XOS XOT XOU XOV XOW XOX XOY XOZ XP1 XP2 XP3 XP4 XPA XPB XPC XPD XPE XPF XPG XPH XPI XPJ "
    "XPK XPL XPN XPO XPP XPR XPT XPU XPV XPX XPY XPZ XQA XQB XQC XQD XQF XQG XQH XQJ XQK XQL XQM XQN "
    "XQP XQQ XQR XQS XRD XRG XRJ XRK XRL XRO XRT XRZ XSA XSB XSC XSD XSE XSH XSI XSK XSL XSM XSO XSP "
    "XSS XST XSU XSV XSW XSX XSY XSZ XT1 XTB XTC XTD XTE XTG XTI XTK XTL XTN XTO XTR XTS XTT XTU XTV "
    "XTW XTY XTZ XUC XUN XVA XVG XVI XVK XVL XVN XVO XVP XVQ XVR XVS XVY XWA XWB XWC XWD XWF XWG XWH "
    "XWJ XWK XWL XWM XWN XWP XWQ XWR XWS XWT XWU XWV XWW XWX XWY XWZ XXA XXB XXC XXD XXF XXG XXH XXJ "
    "XXK XYA XYB XYC XYD XYF XYG XYH XYJ XYK XYL XYM XYN XYP XYQ XYR XYS XYT XYV XYW XYX XYY XYZ XZA "
    "XZB XZC XZD XZF XZG XZH XZJ XZK XZL XZM XZN XZP XZQ XZR XZS XZT XZU XZV XZW XZX XZY XZZ "
)  # BR-CL-23, 2162 codes

_EAS_CODES: Final = _codes(
    "0002 0007 0009 0037 0060 0088 0096 0097 0106 0130 0135 0142 0147 0151 0154 0158 0170 0177 0183 "
    "0184 0188 0190 0191 0192 0193 0194 0195 0196 0198 0199 0200 0201 0202 0203 0204 0205 0208 0209 "
    "0210 0211 0212 0213 0215 0216 0217 0218 0219 0220 0221 0225 0230 0235 0240 0244 0242 0245 0246 "
    "0248 9910 9913 9914 9915 9918 9919 9920 9922 9923 9924 9925 9926 9927 9928 9929 9930 9931 9932 "
    "9933 9934 9935 9936 9937 9938 9939 9940 9941 9942 9943 9944 9945 9946 9947 9948 9949 9950 9951 "
    "9952 9953 9957 9959 AN AQ AS AU EM "
)  # BR-CL-25, 104 codes

_ICD_CODES: Final = _codes(
    "0002 0003 0004 0005 0006 0007 0008 0009 0010 0011 0012 0013 0014 0015 0016 0017 0018 0019 0020 "
    "0021 0022 0023 0024 0025 0026 0027 0028 0029 0030 0031 0032 0033 0034 0035 0036 0037 0038 0039 "
    "0040 0041 0042 0043 0044 0045 0046 0047 0048 0049 0050 0051 0052 0053 0054 0055 0056 0057 0058 "
    "0059 0060 0061 0062 0063 0064 0065 0066 0067 0068 0069 0070 0071 0072 0073 0074 0075 0076 0077 "
    "0078 0079 0080 0081 0082 0083 0084 0085 0086 0087 0088 0089 0090 0091 0093 0094 0095 0096 0097 "
    "0098 0099 0100 0101 0102 0104 0105 0106 0107 0108 0109 0110 0111 0112 0113 0114 0115 0116 0117 "
    "0118 0119 0120 0121 0122 0123 0124 0125 0126 0127 0128 0129 0130 0131 0132 0133 0134 0135 0136 "
    "0137 0138 0139 0140 0141 0142 0143 0144 0145 0146 0147 0148 0149 0150 0151 0152 0153 0154 0155 "
    "0156 0157 0158 0159 0160 0161 0162 0163 0164 0165 0166 0167 0168 0169 0170 0171 0172 0173 0174 "
    "0175 0176 0177 0178 0179 0180 0183 0184 0185 0186 0187 0188 0189 0190 0191 0192 0193 0194 0195 "
    "0196 0197 0198 0199 0200 0201 0202 0203 0204 0205 0206 0207 0208 0209 0210 0211 0212 0213 0214 "
    "0215 0216 0217 0218 0219 0220 0221 0222 0223 0224 0225 0226 0227 0228 0229 0230 0231 0232 0233 "
    "0234 0235 0236 0237 0238 0239 0240 0241 0242 0243 0244 0245 0246 0247 0248 "
)  # BR-CL-10, 243 codes

_SUBJECT_CODES: Final = _codes(
    "AAA AAB AAC AAD AAE AAF AAG AAI AAJ AAK AAL AAM AAN AAO AAP AAQ AAR AAS AAT AAU AAV AAW AAX AAY "
    "AAZ ABA ABB ABC ABD ABE ABF ABG ABH ABI ABJ ABK ABL ABM ABN ABO ABP ABQ ABR ABS ABT ABU ABV ABW "
    "ABX ABZ ACA ACB ACC ACD ACE ACF ACG ACH ACI ACJ ACK ACL ACM ACN ACO ACP ACQ ACR ACS ACT ACU ACV "
    "ACW ACX ACY ACZ ADA ADB ADC ADD ADE ADF ADG ADH ADI ADJ ADK ADL ADM ADN ADO ADP ADQ ADR ADS ADT "
    "ADU ADV ADW ADX ADY ADZ AEA AEB AEC AED AEE AEF AEG AEH AEI AEJ AEK AEL AEM AEN AEO AEP AEQ AER "
    "AES AET AEU AEV AEW AEX AEY AEZ AFA AFB AFC AFD AFE AFF AFG AFH AFI AFJ AFK AFL AFM AFN AFO AFP "
    "AFQ AFR AFS AFT AFU AFV AFW AFX AFY AFZ AGA AGB AGC AGD AGE AGF AGG AGH AGI AGJ AGK AGL AGM AGN "
    "AGO AGP AGQ AGR AGS AGT AGU AGV AGW AGX AGY AGZ AHA AHB AHC AHD AHE AHF AHG AHH AHI AHJ AHK AHL "
    "AHM AHN AHO AHP AHQ AHR AHS AHT AHU AHV AHW AHX AHY AHZ AIA AIB AIC AID AIE AIF AIG AIH AII AIJ "
    "AIK AIL AIM AIN AIO AIP AIQ AIR AIS AIT AIU AIV AIW AIX AIY AIZ AJA AJB ALC ALD ALE ALF ALG ALH "
    "ALI ALJ ALK ALL ALM ALN ALO ALP ALQ ARR ARS AUT AUU AUV AUW AUX AUY AUZ AVA AVB AVC AVD AVE AVF "
    "BAG BAH BAI BAJ BAK BAL BAM BAN BAO BAP BAQ BAR BAS BAT BAU BAV BAW BAX BAY BAZ BBA BBB BLC BLD "
    "BLE BLF BLG BLH BLI BLJ BLK BLL BLM BLN BLO BLP BLQ BLR BLS BLT BLU BLV BLW BLX BLY BLZ BMA BMB "
    "BMC BMD BME BMF BMG BMH CCI CCJ CCK CCL CCM CCN CCO CEX CHG CIP CLP CLR COI CUR CUS DAR DCL DEL "
    "DIN DOC DUT EUR FBC GBL GEN GS7 HAN HAZ ICN IIN IMI IND INS INV IRP ITR ITS LAN LIN LOI MCO MDH "
    "MKS ORI OSI PAC PAI PAY PKG PKT PMD PMT PRD PRF PRI PUR QIN QQD QUT RAH REG RET REV RQR SAF SIC "
    "SIN SLR SPA SPG SPH SPP SPT SRN SSR SUR TCA TDT TRA TRR TXD WHI ZZZ "
)  # BR-CL-08, 401 codes

_ALLOWANCE_REASONS: Final = _codes(
    "41 42 60 62 63 64 65 66 67 68 70 71 88 95 100 102 103 104 105 "
)  # BR-CL-19, 19 codes

_CHARGE_REASONS: Final = _codes(
    "AA AAA AAC AAD AAE AAF AAH AAI AAS AAT AAV AAY AAZ ABA ABB ABC ABD ABF ABK ABL ABN ABR ABS ABT "
    "ABU ACF ACG ACH ACI ACJ ACK ACL ACM ACS ADC ADE ADJ ADK ADL ADM ADN ADO ADP ADQ ADR ADT ADW ADY "
    "ADZ AEA AEB AEC AED AEF AEH AEI AEJ AEK AEL AEM AEN AEO AEP AES AET AEU AEV AEW AEX AEY AEZ AJ "
    "AU CA CAB CAD CAE CAF CAI CAJ CAK CAL CAM CAN CAO CAP CAQ CAR CAS CAT CAU CAV CAW CAX CAY CAZ CD "
    "CG CS CT DAB DAD DAC DAF DAG DAH DAI DAJ DAK DAL DAM DAN DAO DAP DAQ DL EG EP ER FAA FAB FAC FC "
    "FH FI GAA HAA HD HH IAA IAB ID IF IR IS KO L1 LA LAA LAB LF MAE MI ML NAA OA PA PAA PC PL PRV "
    "RAB RAC RAD RAF RE RF RH RV SA SAA SAD SAE SAI SG SH SM SU TAB TAC TT TV V1 V2 WH XAA YY ZZZ "
)  # BR-CL-20, 178 codes

_VAT_PREFIXES: Final = _codes(
    "1A AD AE AF AG AI AL AM AN AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ "
    "BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ "
    "EC EE EG EH EL ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW "
    "GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ "
    "LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX "
    "MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO "
    "RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL "
    "TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XI YE YT ZA ZM ZW "
)  # BR-CO-09


_HUNDRED: Final = Decimal(100)
_ONE: Final = Decimal(1)
_ZERO: Final = Decimal(0)
_XR_SKONTO: Final = re.compile(
    r"(^|\r?\n)#(SKONTO)#TAGE=([0-9]+#PROZENT=[0-9]+\.[0-9]{2})(#BASISBETRAG=-?[0-9]+\.[0-9]{2})?#$"
)
_DATE_102: Final = re.compile(r"^\s*(\d{4})(1[0-2]|0[1-9])(3[01]|[12][0-9]|0[1-9])\s*$")
_MIME_TYPES: Final = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.spreadsheet",
    }
)
_VAT_CATEGORIES: Final = frozenset({"AE", "L", "M", "E", "S", "Z", "G", "O", "K", "B"})
_DE16_CATEGORIES: Final = frozenset({"S", "Z", "E", "AE", "K", "G", "L", "M"})
_XR_SPEC_IDS: Final = frozenset(
    {
        "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
        "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
        "#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0",
    }
)


def _dec(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _round2(value: Decimal) -> Decimal:
    """XPath ``round(x * 100) div 100``: halves round towards positive infinity."""
    return (value * _HUNDRED + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR") / _HUNDRED


def _round0(value: Decimal) -> Decimal:
    return (value + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR")


# ------------------------------------------------------------------------------ neutral doc model


@dataclass
class _Party:
    present: bool = False
    name: str | None = None
    address_present: bool = False
    city: str | None = None
    postcode: str | None = None
    country: str | None = None
    contact_present: bool = False
    contact_name: str | None = None
    phone: str | None = None
    email: str | None = None
    endpoint_present: bool = False
    endpoint_scheme: str | None = None
    vat_ids: list[str] = field(default_factory=list)  # CII schemeID VA / UBL PartyTaxScheme VAT
    fc_ids: list[str] = field(default_factory=list)  # CII schemeID FC
    any_tax_ids: list[str] = field(default_factory=list)  # UBL: every PartyTaxScheme/CompanyID
    legal_id: bool = False
    other_id: bool = False
    scheme_missing: bool = False


@dataclass
class _AC:
    charge: bool | None
    indicator_text: str | None
    amount: Decimal | None
    amount_present: bool
    base_present: bool
    base: Decimal | None
    percent_present: bool
    percent: Decimal | None
    category: str | None
    rate: Decimal | None
    reason: bool
    category_present: bool = True


@dataclass
class _Line:
    line_id: str | None
    qty_present: bool
    qty: Decimal | None
    unit: str | None
    net_present: bool
    net: Decimal | None
    name: str | None
    price_present: bool
    price: Decimal | None
    gross_present: bool
    gross: Decimal | None
    price_discount: Decimal | None
    price_discount_present: bool
    price_charge_flags: list[str]
    base_qty: Decimal | None
    base_qty_present: bool
    base_qty_units: list[str]
    tax_type: str | None
    category: str | None
    rate: Decimal | None
    rate_present: bool
    acs: list[_AC]
    period_start: str | None
    period_end: str | None
    period_present: bool
    period_broken: bool = False
    category_present: bool = True


@dataclass
class _Tax:
    type_code: str | None
    category: str | None
    rate: Decimal | None
    rate_present: bool
    basis: Decimal | None
    basis_present: bool
    amount: Decimal | None
    amount_present: bool
    exemption: bool
    exemption_code: str | None
    category_present: bool = True


@dataclass
class _PM:
    code: str | None
    account_present: bool
    account_id: bool
    card: bool
    mandate: bool
    account_id_element: bool = False
    code_present: bool = True


@dataclass
class _Doc:
    syntax: str
    credit: bool = False
    spec_id: str | None = None
    process_id: str | None = None
    number: str | None = None
    issue_date: str | None = None
    type_code: str | None = None
    currency: str | None = None
    tax_currency: str | None = None
    buyer_reference: str | None = None
    seller: _Party = field(default_factory=_Party)
    buyer: _Party = field(default_factory=_Party)
    tax_rep_present: bool = False
    tax_rep_vat: bool = False
    tax_rep_name: str | None = None
    tax_rep_address: bool = False
    tax_rep_country: str | None = None
    ship_to_address: bool = False
    ship_to_country: str | None = None
    ship_to_city: str | None = None
    ship_to_postcode: str | None = None
    delivery_date: str | None = None
    period_present: bool = False
    period_start: str | None = None
    period_end: str | None = None
    period_broken: bool = False
    payment_means: list[_PM] = field(default_factory=list)
    direct_debit: bool = False
    terms_first: str | None = None
    acs: list[_AC] = field(default_factory=list)
    lines: list[_Line] = field(default_factory=list)
    taxes: list[_Tax] = field(default_factory=list)
    sums_present: bool = False
    sums: dict[str, Decimal | None] = field(default_factory=dict)  # present keys only
    tax_totals: list[tuple[str | None, Decimal | None, bool, Decimal]] = field(default_factory=list)
    doc_refs_without_id: int = 0
    preceding_without_id: int = 0
    attachments: list[tuple[str | None, str | None]] = field(default_factory=list)  # filename, mime
    all_vat_ids: list[str] = field(default_factory=list)
    endpoint_schemes: list[str] = field(default_factory=list)
    empty_elements: list[str] = field(default_factory=list)
    mandate_id: bool = False
    incomplete_tax_schemes: int = 0
    subject_codes: list[str] = field(default_factory=list)
    structure: list[str] = field(default_factory=list)  # syntax-binding rule ids (CII-DT-*)
    bad_dates: int = 0
    scheme_ids: list[tuple[str, str]] = field(default_factory=list)  # (rule id, ICD scheme)


def _t(el: etree._Element | None, path: str | None = None) -> str | None:
    if el is None:
        return None
    node = el.find(path, NS) if path else el
    if node is None:
        return None
    text = node.text
    if text is None:
        return None
    value = " ".join(text.split())
    return value or None


def _has(el: etree._Element | None, path: str) -> bool:
    return el is not None and el.find(path, NS) is not None


def _empty_elements(root: etree._Element, syntax: str) -> list[str]:
    """Local names of elements with no element children and no text (PEPPOL-EN16931-R008)."""
    out = []
    skip = "{{{}}}ApplicableHeaderTradeDelivery".format(NS["ram"])
    for el in root.iter(etree.Element):
        if any(isinstance(child.tag, str) for child in el):
            continue
        text = (el.text or "") + "".join(child.tail or "" for child in el)
        if text.strip() or (syntax == "cii" and el.tag == skip):
            continue
        out.append(etree.QName(el).localname)
    return out


# ------------------------------------------------------------------------------------------- CII


def _cii_party(el: etree._Element | None) -> _Party:
    party = _Party()
    if el is None:
        return party
    party.present = True
    party.name = _t(el, "ram:Name")
    address = el.find("ram:PostalTradeAddress", NS)
    party.address_present = address is not None
    party.city = _t(address, "ram:CityName")
    party.postcode = _t(address, "ram:PostcodeCode")
    party.country = _t(address, "ram:CountryID")
    contact = el.find("ram:DefinedTradeContact", NS)
    party.contact_present = contact is not None
    if contact is not None:
        party.contact_name = _t(contact, "ram:PersonName") or _t(contact, "ram:DepartmentName")
        party.phone = _t(contact, "ram:TelephoneUniversalCommunication/ram:CompleteNumber")
        party.email = _t(contact, "ram:EmailURIUniversalCommunication/ram:URIID")
    uri = el.find("ram:URIUniversalCommunication/ram:URIID", NS)
    party.endpoint_present = uri is not None
    first_uri = el.find("ram:URIUniversalCommunication", NS)
    first_id = first_uri.find("ram:URIID", NS) if first_uri is not None else None
    party.endpoint_scheme = (first_id.get("schemeID") or "").strip() or None if first_id is not None else None
    if first_uri is not None and first_id is None:
        party.endpoint_scheme = None
    party.scheme_missing = first_uri is not None and party.endpoint_scheme is None
    for reg in el.iterfind("ram:SpecifiedTaxRegistration/ram:ID", NS):
        scheme = reg.get("schemeID")
        if scheme == "VA":
            party.vat_ids.append(reg.text or "")
        elif scheme == "FC":
            party.fc_ids.append(reg.text or "")
    party.legal_id = _has(el, "ram:SpecifiedLegalOrganization/ram:ID")
    party.other_id = _has(el, "ram:ID") or _has(el, "ram:GlobalID")
    return party


def _cii_ac(el: etree._Element) -> _AC:
    indicator = _t(el, "ram:ChargeIndicator/udt:Indicator")
    amount_el = el.find("ram:ActualAmount", NS)
    tax = el.find("ram:CategoryTradeTax", NS)
    vat_tax = tax if tax is not None and (_t(tax, "ram:TypeCode") or "").upper() == "VAT" else None
    rate_text = _t(tax, "ram:RateApplicablePercent")
    return _AC(
        charge=True if indicator == "true" else False if indicator == "false" else None,
        indicator_text=indicator,
        amount=_dec(_t(amount_el)),
        amount_present=amount_el is not None,
        base_present=_has(el, "ram:BasisAmount"),
        base=_dec(_t(el, "ram:BasisAmount")),
        percent_present=_has(el, "ram:CalculationPercent"),
        percent=_dec(_t(el, "ram:CalculationPercent")),
        category=_t(vat_tax, "ram:CategoryCode") if vat_tax is not None else _t(tax, "ram:CategoryCode"),
        category_present=_has(vat_tax, "ram:CategoryCode"),
        rate=_dec(rate_text),
        reason=_has(el, "ram:Reason") or _has(el, "ram:ReasonCode"),
    )


def _cii_doc(root: etree._Element, xrechnung: bool) -> _Doc:
    doc = _Doc(syntax="cii")
    ctx = root.find("rsm:ExchangedDocumentContext", NS)
    doc.spec_id = _t(ctx, "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID")
    doc.process_id = _t(ctx, "ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID")
    exdoc = root.find("rsm:ExchangedDocument", NS)
    doc.number = _t(exdoc, "ram:ID")
    issue = exdoc.find("ram:IssueDateTime/udt:DateTimeString", NS) if exdoc is not None else None
    doc.issue_date = _t(issue) if issue is not None and issue.get("format") == "102" else None
    doc.type_code = _t(exdoc, "ram:TypeCode")
    tx = root.find("rsm:SupplyChainTradeTransaction", NS)
    agreement = tx.find("ram:ApplicableHeaderTradeAgreement", NS) if tx is not None else None
    delivery = tx.find("ram:ApplicableHeaderTradeDelivery", NS) if tx is not None else None
    settlement = tx.find("ram:ApplicableHeaderTradeSettlement", NS) if tx is not None else None
    doc.currency = _t(settlement, "ram:InvoiceCurrencyCode")
    doc.tax_currency = _t(settlement, "ram:TaxCurrencyCode")
    if agreement is not None:
        br = agreement.find("ram:BuyerReference", NS)
        doc.buyer_reference = _t(br)
        doc.seller = _cii_party(agreement.find("ram:SellerTradeParty", NS))
        doc.buyer = _cii_party(agreement.find("ram:BuyerTradeParty", NS))
        rep = agreement.find("ram:SellerTaxRepresentativeTradeParty", NS)
        if rep is not None:
            doc.tax_rep_present = True
            doc.tax_rep_name = _t(rep, "ram:Name")
            doc.tax_rep_address = _has(rep, "ram:PostalTradeAddress")
            doc.tax_rep_country = _t(rep, "ram:PostalTradeAddress/ram:CountryID")
            doc.tax_rep_vat = rep.find("ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']", NS) is not None
        for ref in agreement.iterfind("ram:AdditionalReferencedDocument", NS):
            obj = ref.find("ram:AttachmentBinaryObject", NS)
            if obj is not None:
                doc.attachments.append((obj.get("filename"), obj.get("mimeCode")))
    for ref in root.iter("{{{}}}AdditionalReferencedDocument".format(NS["ram"])):
        if _t(ref, "ram:IssuerAssignedID") is None:
            doc.doc_refs_without_id += 1
    if delivery is not None:
        ship = delivery.find("ram:ShipToTradeParty/ram:PostalTradeAddress", NS)
        doc.ship_to_address = ship is not None
        doc.ship_to_country = _t(ship, "ram:CountryID")
        doc.ship_to_city = _t(ship, "ram:CityName")
        doc.ship_to_postcode = _t(ship, "ram:PostcodeCode")
        doc.delivery_date = _t(
            delivery, "ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/udt:DateTimeString"
        )
    if settlement is not None:
        period = settlement.find("ram:BillingSpecifiedPeriod", NS)
        if period is not None:
            doc.period_present = True
            doc.period_start = _t(period, "ram:StartDateTime/udt:DateTimeString")
            doc.period_end = _t(period, "ram:EndDateTime/udt:DateTimeString")
            doc.period_broken = _cii_period_broken(period)
        for pm in settlement.iterfind("ram:SpecifiedTradeSettlementPaymentMeans", NS):
            account = pm.find("ram:PayeePartyCreditorFinancialAccount", NS)
            doc.payment_means.append(
                _PM(
                    code=_t(pm, "ram:TypeCode"),
                    code_present=_has(pm, "ram:TypeCode"),
                    account_present=account is not None,
                    account_id=_t(account, "ram:IBANID") is not None
                    or _t(account, "ram:ProprietaryID") is not None,
                    card=_has(pm, "ram:ApplicableTradeSettlementFinancialCard"),
                    mandate=_has(pm, "ram:PayerPartyDebtorFinancialAccount/ram:IBANID"),
                    account_id_element=_has(account, "ram:IBANID") or _has(account, "ram:ProprietaryID"),
                )
            )
        doc.mandate_id = _has(settlement, "ram:SpecifiedTradePaymentTerms/ram:DirectDebitMandateID")
        doc.direct_debit = _has(
            settlement, "ram:SpecifiedTradePaymentTerms/ram:DirectDebitMandateID"
        ) or _has(settlement, "ram:CreditorReferenceID")
        first_terms = settlement.find("ram:SpecifiedTradePaymentTerms/ram:Description", NS)
        doc.terms_first = first_terms.text if first_terms is not None else None
        doc.acs = [_cii_ac(ac) for ac in settlement.iterfind("ram:SpecifiedTradeAllowanceCharge", NS)]
        for tax in settlement.iterfind("ram:ApplicableTradeTax", NS):
            doc.taxes.append(
                _Tax(
                    type_code=_t(tax, "ram:TypeCode"),
                    category=_t(tax, "ram:CategoryCode"),
                    category_present=_has(tax, "ram:CategoryCode"),
                    rate=_dec(_t(tax, "ram:RateApplicablePercent")),
                    rate_present=_t(tax, "ram:RateApplicablePercent") is not None,
                    basis=_dec(_t(tax, "ram:BasisAmount")),
                    basis_present=_has(tax, "ram:BasisAmount"),
                    amount=_dec(_t(tax, "ram:CalculatedAmount")),
                    amount_present=_has(tax, "ram:CalculatedAmount"),
                    exemption=_has(tax, "ram:ExemptionReason") or _has(tax, "ram:ExemptionReasonCode"),
                    exemption_code=_t(tax, "ram:ExemptionReasonCode"),
                )
            )
        for prec in settlement.iterfind("ram:InvoiceReferencedDocument", NS):
            if _t(prec, "ram:IssuerAssignedID") is None:
                doc.preceding_without_id += 1
        sums = settlement.find("ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS)
        if sums is not None:
            doc.sums_present = True
            for key, tag in (
                ("line", "ram:LineTotalAmount"),
                ("allowance", "ram:AllowanceTotalAmount"),
                ("charge", "ram:ChargeTotalAmount"),
                ("basis", "ram:TaxBasisTotalAmount"),
                ("grand", "ram:GrandTotalAmount"),
                ("prepaid", "ram:TotalPrepaidAmount"),
                ("rounding", "ram:RoundingAmount"),
                ("due", "ram:DuePayableAmount"),
            ):
                node = sums.find(tag, NS)
                if node is not None:
                    doc.sums[key] = _dec(node.text)
            calc_sum = sum((t.amount or _ZERO for t in doc.taxes), _ZERO)
            for node in sums.iterfind("ram:TaxTotalAmount", NS):
                doc.tax_totals.append((node.get("currencyID"), _dec(node.text), True, calc_sum))
    for item in tx.iterfind("ram:IncludedSupplyChainTradeLineItem", NS) if tx is not None else ():
        doc.lines.append(_cii_line(item))
    for reg in root.iter("{{{}}}SpecifiedTaxRegistration".format(NS["ram"])):
        for node in reg.iterfind("ram:ID[@schemeID='VA']", NS):
            doc.all_vat_ids.append((node.text or "").strip())
    for uri in root.iter("{{{}}}URIUniversalCommunication".format(NS["ram"])):
        for node in uri.iterfind("ram:URIID[@schemeID]", NS):
            doc.endpoint_schemes.append(node.get("schemeID") or "")
    doc.scheme_ids = _cii_scheme_ids(root)
    doc.structure = _cii_referenced_documents(root)
    doc.subject_codes = [
        " ".join((n.text or "").split()) for n in root.iter("{{{}}}SubjectCode".format(NS["ram"]))
    ]
    for node in root.iter("{{{}}}DateTimeString".format(NS["udt"])):
        if node.get("format") == "102" and not _DATE_102.match(node.text or ""):
            doc.bad_dates += 1
    if xrechnung:
        doc.empty_elements = _empty_elements(root, "cii")
    return doc


# CII-DT-015 .. CII-DT-029: elements a *ReferencedDocument may not carry (None: never; else the
# AdditionalReferencedDocument type codes that allow it)
_REFDOC_RULES: Final[tuple[tuple[str, str, frozenset[str] | None], ...]] = (
    ("CII-DT-015", "URIID", frozenset({"916"})),
    ("CII-DT-016", "StatusCode", None),
    ("CII-DT-017", "CopyIndicator", None),
    ("CII-DT-019", "GlobalID", None),
    ("CII-DT-020", "RevisionID", None),
    ("CII-DT-021", "Name", frozenset({"916"})),
    ("CII-DT-022", "AttachmentBinaryObject", frozenset({"916"})),
    ("CII-DT-023", "Information", None),
    ("CII-DT-024", "ReferenceTypeCode", frozenset({"130"})),
    ("CII-DT-025", "SectionName", None),
    ("CII-DT-026", "PreviousRevisionID", None),
    ("CII-DT-028", "EffectiveSpecifiedPeriod", None),
    ("CII-DT-029", "IssuerTradeParty", None),
)


def _cii_referenced_documents(root: etree._Element) -> list[str]:
    out: list[str] = []
    ram = NS["ram"]
    for el in root.iter(etree.Element):
        qname = etree.QName(el)
        if qname.namespace != ram or not qname.localname.endswith("ReferencedDocument"):
            continue
        additional = qname.localname == "AdditionalReferencedDocument"
        codes = {(c.text or "") for c in el.iterfind("ram:TypeCode", NS)}
        for rule, child, allowed in _REFDOC_RULES:
            if el.find(f"ram:{child}", NS) is not None and not (additional and allowed and codes & allowed):
                out.append(rule)
        if codes and not (additional and codes & {"50", "130", "916"}):
            out.append("CII-DT-018")
        if (
            el.find("ram:FormattedIssueDateTime", NS) is not None
            and qname.localname != "InvoiceReferencedDocument"
        ):
            out.append("CII-DT-027")
    return out


def _cii_scheme_ids(root: etree._Element) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    product = "{{{}}}SpecifiedTradeProduct".format(NS["ram"])
    ship_to = "{{{}}}ShipToTradeParty".format(NS["ram"])
    tax_reg = "{{{}}}SpecifiedTaxRegistration".format(NS["ram"])
    for el in root.iter("{{{}}}GlobalID".format(NS["ram"])):
        scheme = el.get("schemeID")
        if scheme is None:
            continue
        ancestors = {a.tag for a in el.iterancestors()}
        if product in ancestors:
            out.append(("BR-CL-21", scheme))
        elif ship_to in ancestors:
            out.append(("BR-CL-26", scheme))
        else:
            out.append(("BR-CL-10", scheme))
    for el in root.iter("{{{}}}ID".format(NS["ram"])):
        scheme = el.get("schemeID")
        if scheme is not None and not any(a.tag == tax_reg for a in el.iterancestors()):
            out.append(("BR-CL-11", scheme))
    return out


def _cii_period_broken(period: etree._Element | None) -> bool:
    """Start and end elements both present but one lacks its format-102 date string (BR-29/BR-30)."""
    if period is None or not (_has(period, "ram:StartDateTime") and _has(period, "ram:EndDateTime")):
        return False
    return not (
        _has(period, "ram:StartDateTime/udt:DateTimeString[@format='102']")
        and _has(period, "ram:EndDateTime/udt:DateTimeString[@format='102']")
    )


def _cii_line(item: etree._Element) -> _Line:
    agreement = item.find("ram:SpecifiedLineTradeAgreement", NS)
    net_price = agreement.find("ram:NetPriceProductTradePrice", NS) if agreement is not None else None
    gross_price = agreement.find("ram:GrossPriceProductTradePrice", NS) if agreement is not None else None
    qty = item.find("ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", NS)
    settlement = item.find("ram:SpecifiedLineTradeSettlement", NS)
    tax = settlement.find("ram:ApplicableTradeTax", NS) if settlement is not None else None
    net = (
        settlement.find("ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount", NS)
        if settlement is not None
        else None
    )
    period = settlement.find("ram:BillingSpecifiedPeriod", NS) if settlement is not None else None
    price_el = net_price.find("ram:ChargeAmount", NS) if net_price is not None else None
    gross_el = gross_price.find("ram:ChargeAmount", NS) if gross_price is not None else None
    discount = (
        gross_price.find("ram:AppliedTradeAllowanceCharge/ram:ActualAmount", NS)
        if gross_price is not None
        else None
    )
    flags = [
        _t(ac, "ram:ChargeIndicator/udt:Indicator") or ""
        for ac in (
            gross_price.iterfind("ram:AppliedTradeAllowanceCharge", NS) if gross_price is not None else ()
        )
        if _has(ac, "ram:ActualAmount")
    ]
    base_units = [
        b.get("unitCode") or ""
        for p in (net_price, gross_price)
        if p is not None
        for b in p.iterfind("ram:BasisQuantity[@unitCode]", NS)
    ]
    base = net_price.find("ram:BasisQuantity", NS) if net_price is not None else None
    return _Line(
        line_id=_t(item, "ram:AssociatedDocumentLineDocument/ram:LineID"),
        qty_present=qty is not None,
        qty=_dec(_t(qty)),
        unit=qty.get("unitCode") if qty is not None else None,
        net_present=net is not None,
        net=_dec(_t(net)),
        name=_t(item, "ram:SpecifiedTradeProduct/ram:Name"),
        price_present=price_el is not None,
        price=_dec(_t(price_el)),
        gross_present=gross_el is not None,
        gross=_dec(_t(gross_el)),
        price_discount=_dec(_t(discount)),
        price_discount_present=discount is not None,
        price_charge_flags=flags,
        base_qty=_dec(_t(base)),
        base_qty_present=base is not None,
        base_qty_units=base_units,
        tax_type=_t(tax, "ram:TypeCode"),
        category=_t(tax, "ram:CategoryCode"),
        category_present=_has(tax, "ram:CategoryCode"),
        rate=_dec(_t(tax, "ram:RateApplicablePercent")),
        rate_present=_has(tax, "ram:RateApplicablePercent"),
        acs=[
            _cii_ac(ac)
            for ac in (
                settlement.iterfind("ram:SpecifiedTradeAllowanceCharge", NS) if settlement is not None else ()
            )
        ],
        period_start=_t(period, "ram:StartDateTime/udt:DateTimeString"),
        period_end=_t(period, "ram:EndDateTime/udt:DateTimeString"),
        period_present=period is not None,
        period_broken=_cii_period_broken(period),
    )


# ------------------------------------------------------------------------------------------- UBL


def _is_vat_scheme(el: etree._Element) -> bool:
    return (_t(el, "cac:TaxScheme/cbc:ID") or "").upper() == "VAT"


def _ubl_party(el: etree._Element | None) -> _Party:
    party = _Party()
    if el is None:
        return party
    party.present = True
    party.name = _t(el, "cac:PartyLegalEntity/cbc:RegistrationName")
    address = el.find("cac:PostalAddress", NS)
    party.address_present = address is not None
    party.city = _t(address, "cbc:CityName")
    party.postcode = _t(address, "cbc:PostalZone")
    party.country = _t(address, "cac:Country/cbc:IdentificationCode")
    contact = el.find("cac:Contact", NS)
    party.contact_present = contact is not None
    party.contact_name = _t(contact, "cbc:Name")
    party.phone = _t(contact, "cbc:Telephone")
    party.email = _t(contact, "cbc:ElectronicMail")
    endpoint = el.find("cbc:EndpointID", NS)
    party.endpoint_present = endpoint is not None
    party.endpoint_scheme = (
        ((endpoint.get("schemeID") or "").strip() or None) if endpoint is not None else None
    )
    party.scheme_missing = endpoint is not None and endpoint.get("schemeID") is None
    for scheme in el.iterfind("cac:PartyTaxScheme", NS):
        company = scheme.find("cbc:CompanyID", NS)
        if company is None:
            continue
        party.any_tax_ids.append(company.text or "")
        if _is_vat_scheme(scheme):
            party.vat_ids.append(company.text or "")
    party.legal_id = _has(el, "cac:PartyLegalEntity/cbc:CompanyID")
    party.other_id = any(
        i.get("schemeID") != "SEPA" for i in el.iterfind("cac:PartyIdentification/cbc:ID", NS)
    )
    return party


def _ubl_ac(el: etree._Element) -> _AC:
    indicator = _t(el, "cbc:ChargeIndicator")
    amount_el = el.find("cbc:Amount", NS)
    cat = el.find("cac:TaxCategory", NS)
    return _AC(
        charge=True if indicator == "true" else False if indicator == "false" else None,
        indicator_text=indicator,
        amount=_dec(_t(amount_el)),
        amount_present=amount_el is not None,
        base_present=_has(el, "cbc:BaseAmount"),
        base=_dec(_t(el, "cbc:BaseAmount")),
        percent_present=_has(el, "cbc:MultiplierFactorNumeric"),
        percent=_dec(_t(el, "cbc:MultiplierFactorNumeric")),
        category=_t(cat, "cbc:ID"),
        category_present=cat is not None and _is_vat_scheme(cat) and _has(cat, "cbc:ID"),
        rate=_dec(_t(cat, "cbc:Percent")),
        reason=_has(el, "cbc:AllowanceChargeReason") or _has(el, "cbc:AllowanceChargeReasonCode"),
    )


def _ubl_doc(root: etree._Element, xrechnung: bool) -> _Doc:
    credit = root.tag == UBL_CREDIT_NOTE_ROOT
    doc = _Doc(syntax="ubl", credit=credit)
    doc.spec_id = _t(root, "cbc:CustomizationID")
    doc.process_id = _t(root, "cbc:ProfileID")
    doc.number = _t(root, "cbc:ID")
    doc.issue_date = _t(root, "cbc:IssueDate")
    doc.type_code = _t(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode")
    doc.currency = _t(root, "cbc:DocumentCurrencyCode")
    doc.tax_currency = _t(root, "cbc:TaxCurrencyCode")
    doc.buyer_reference = _t(root, "cbc:BuyerReference")
    supplier = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    doc.seller = _ubl_party(supplier)
    doc.buyer = _ubl_party(root.find("cac:AccountingCustomerParty/cac:Party", NS))
    rep = root.find("cac:TaxRepresentativeParty", NS)
    if rep is not None:
        doc.tax_rep_present = True
        doc.tax_rep_name = _t(rep, "cac:PartyName/cbc:Name")
        doc.tax_rep_address = _has(rep, "cac:PostalAddress")
        doc.tax_rep_country = _t(rep, "cac:PostalAddress/cac:Country/cbc:IdentificationCode")
        doc.tax_rep_vat = any(
            _is_vat_scheme(s) and _has(s, "cbc:CompanyID") for s in rep.iterfind("cac:PartyTaxScheme", NS)
        )
    for ref in root.iterfind("cac:AdditionalDocumentReference", NS):
        if _t(ref, "cbc:ID") is None:
            doc.doc_refs_without_id += 1
        obj = ref.find("cac:Attachment/cbc:EmbeddedDocumentBinaryObject", NS)
        if obj is not None:
            doc.attachments.append((obj.get("filename"), obj.get("mimeCode")))
    delivery = root.find("cac:Delivery", NS)
    if delivery is not None:
        address = delivery.find("cac:DeliveryLocation/cac:Address", NS)
        doc.ship_to_address = address is not None
        doc.ship_to_country = _t(address, "cac:Country/cbc:IdentificationCode")
        doc.ship_to_city = _t(address, "cbc:CityName")
        doc.ship_to_postcode = _t(address, "cbc:PostalZone")
        doc.delivery_date = _t(delivery, "cbc:ActualDeliveryDate")
    period = root.find("cac:InvoicePeriod", NS)
    if period is not None:
        doc.period_present = True
        doc.period_start = _t(period, "cbc:StartDate")
        doc.period_end = _t(period, "cbc:EndDate")
    for pm in root.iterfind("cac:PaymentMeans", NS):
        account = pm.find("cac:PayeeFinancialAccount", NS)
        doc.payment_means.append(
            _PM(
                code=_t(pm, "cbc:PaymentMeansCode"),
                code_present=_has(pm, "cbc:PaymentMeansCode"),
                account_present=account is not None,
                account_id=_t(account, "cbc:ID") is not None,
                card=_has(pm, "cac:CardAccount"),
                mandate=_has(pm, "cac:PaymentMandate"),
            )
        )
    doc.mandate_id = _has(root, "cac:PaymentMeans/cac:PaymentMandate/cbc:ID")
    first_note = root.find("cac:PaymentTerms/cbc:Note", NS)
    doc.terms_first = first_note.text if first_note is not None else None
    doc.acs = [_ubl_ac(ac) for ac in root.iterfind("cac:AllowanceCharge", NS)]
    for total in root.iterfind("cac:TaxTotal", NS):
        amount = total.find("cbc:TaxAmount", NS)
        subtotals = total.findall("cac:TaxSubtotal", NS)
        sub_sum = sum((_dec(_t(s, "cbc:TaxAmount")) or _ZERO for s in subtotals), _ZERO)
        doc.tax_totals.append(
            (
                amount.get("currencyID") if amount is not None else None,
                _dec(_t(amount)),
                bool(subtotals),
                sub_sum,
            )
        )
        for sub in subtotals:
            cat = sub.find("cac:TaxCategory", NS)
            doc.taxes.append(
                _Tax(
                    type_code="VAT"
                    if cat is not None and _is_vat_scheme(cat)
                    else _t(cat, "cac:TaxScheme/cbc:ID"),
                    category=_t(cat, "cbc:ID"),
                    category_present=cat is not None and _is_vat_scheme(cat) and _has(cat, "cbc:ID"),
                    rate=_dec(_t(cat, "cbc:Percent")),
                    rate_present=_t(cat, "cbc:Percent") is not None,
                    basis=_dec(_t(sub, "cbc:TaxableAmount")),
                    basis_present=_has(sub, "cbc:TaxableAmount"),
                    amount=_dec(_t(sub, "cbc:TaxAmount")),
                    amount_present=_has(sub, "cbc:TaxAmount"),
                    exemption=_has(cat, "cbc:TaxExemptionReason") or _has(cat, "cbc:TaxExemptionReasonCode"),
                    exemption_code=_t(cat, "cbc:TaxExemptionReasonCode"),
                )
            )
    for ref in root.iterfind("cac:BillingReference/cac:InvoiceDocumentReference", NS):
        if _t(ref, "cbc:ID") is None:
            doc.preceding_without_id += 1
    sums = root.find("cac:LegalMonetaryTotal", NS)
    if sums is not None:
        doc.sums_present = True
        for key, tag in (
            ("line", "cbc:LineExtensionAmount"),
            ("allowance", "cbc:AllowanceTotalAmount"),
            ("charge", "cbc:ChargeTotalAmount"),
            ("basis", "cbc:TaxExclusiveAmount"),
            ("grand", "cbc:TaxInclusiveAmount"),
            ("prepaid", "cbc:PrepaidAmount"),
            ("rounding", "cbc:PayableRoundingAmount"),
            ("due", "cbc:PayableAmount"),
        ):
            node = sums.find(tag, NS)
            if node is not None:
                doc.sums[key] = _dec(node.text)
    line_tag, qty_tag = (
        ("cac:CreditNoteLine", "cbc:CreditedQuantity")
        if credit
        else ("cac:InvoiceLine", "cbc:InvoicedQuantity")
    )
    for line in root.iterfind(line_tag, NS):
        doc.lines.append(_ubl_line(line, qty_tag))
    for scheme in root.iter("{{{}}}PartyTaxScheme".format(NS["cac"])):
        company_id = _t(scheme, "cbc:CompanyID")
        if _is_vat_scheme(scheme) and scheme.find("cbc:CompanyID", NS) is not None:
            doc.all_vat_ids.append(company_id or "")
        if _t(scheme, "cac:TaxScheme/cbc:ID") is None or scheme.find("cbc:CompanyID", NS) is None:
            doc.incomplete_tax_schemes += 1
    for endpoint in root.iter("{{{}}}EndpointID".format(NS["cbc"])):
        if endpoint.get("schemeID") is not None:
            doc.endpoint_schemes.append(endpoint.get("schemeID") or "")
    doc.scheme_ids = _ubl_scheme_ids(root)
    doc.structure = _ubl_party_tax_scheme_counts(root)
    for note in root.iterfind("cbc:Note", NS):
        text = note.text or ""
        if "#" in text:
            code = text.split("#", 2)[1] if text.count("#") >= 2 else ""
            if len(code) == 3 and " " not in code:
                doc.subject_codes.append(code)
    if xrechnung:
        doc.empty_elements = _empty_elements(root, "ubl")
    return doc


def _ubl_party_tax_scheme_counts(root: etree._Element) -> list[str]:
    """UBL-SR-12/13/18: at most one VAT / one other tax registration per party."""
    out: list[str] = []

    def count(party: str, vat: bool) -> int:
        n = 0
        for scheme in root.iterfind(f"{party}/cac:PartyTaxScheme", NS):
            scheme_id = scheme.find("cac:TaxScheme/cbc:ID", NS)
            if scheme_id is None or scheme.find("cbc:CompanyID", NS) is None:
                continue
            is_vat = (scheme_id.text or "").upper() == "VAT"
            n += is_vat == vat
        return n

    if count("cac:AccountingSupplierParty/cac:Party", True) > 1:
        out.append("UBL-SR-12")
    if count("cac:AccountingSupplierParty/cac:Party", False) > 1:
        out.append("UBL-SR-13")
    if count("cac:AccountingCustomerParty/cac:Party", True) > 1:
        out.append("UBL-SR-18")
    return out


def _ubl_scheme_ids(root: etree._Element) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for path, rule in (
        (".//cac:PartyIdentification/cbc:ID[@schemeID]", "BR-CL-10"),
        (".//cac:PartyLegalEntity/cbc:CompanyID[@schemeID]", "BR-CL-11"),
        (".//cac:StandardItemIdentification/cbc:ID[@schemeID]", "BR-CL-21"),
        (".//cac:DeliveryLocation/cbc:ID[@schemeID]", "BR-CL-26"),
    ):
        for el in root.iterfind(path, NS):
            scheme = el.get("schemeID") or ""
            if rule == "BR-CL-10" and scheme.strip() == "SEPA":
                tags = {etree.QName(a).localname for a in el.iterancestors()}
                if "AccountingSupplierParty" in tags or "PayeeParty" in tags:
                    continue
            out.append((rule, scheme))
    return out


def _ubl_line(line: etree._Element, qty_tag: str) -> _Line:
    qty = line.find(qty_tag, NS)
    price = line.find("cac:Price", NS)
    price_el = price.find("cbc:PriceAmount", NS) if price is not None else None
    price_ac = price.find("cac:AllowanceCharge", NS) if price is not None else None
    cat = line.find("cac:Item/cac:ClassifiedTaxCategory", NS)
    base = price.find("cbc:BaseQuantity", NS) if price is not None else None
    period = line.find("cac:InvoicePeriod", NS)
    net = line.find("cbc:LineExtensionAmount", NS)
    return _Line(
        line_id=_t(line, "cbc:ID"),
        qty_present=qty is not None,
        qty=_dec(_t(qty)),
        unit=qty.get("unitCode") if qty is not None else None,
        net_present=net is not None,
        net=_dec(_t(net)),
        name=_t(line, "cac:Item/cbc:Name"),
        price_present=price_el is not None,
        price=_dec(_t(price_el)),
        gross_present=_has(price_ac, "cbc:BaseAmount"),
        gross=_dec(_t(price_ac, "cbc:BaseAmount")),
        price_discount=_dec(_t(price_ac, "cbc:Amount")),
        price_discount_present=_has(price_ac, "cbc:Amount"),
        price_charge_flags=[
            _t(ac, "cbc:ChargeIndicator") or ""
            for ac in (price.iterfind("cac:AllowanceCharge", NS) if price is not None else ())
        ],
        base_qty=_dec(_t(base)),
        base_qty_present=base is not None,
        base_qty_units=[base.get("unitCode") or ""]
        if base is not None and base.get("unitCode") is not None
        else [],
        tax_type="VAT" if cat is not None and _is_vat_scheme(cat) else None,
        category=_t(cat, "cbc:ID"),
        category_present=cat is not None and _is_vat_scheme(cat) and _has(cat, "cbc:ID"),
        rate=_dec(_t(cat, "cbc:Percent")),
        rate_present=_has(cat, "cbc:Percent"),
        acs=[_ubl_ac(ac) for ac in line.iterfind("cac:AllowanceCharge", NS)],
        period_start=_t(period, "cbc:StartDate"),
        period_end=_t(period, "cbc:EndDate"),
        period_present=period is not None,
    )


# ------------------------------------------------------------------------------------------ rules


class _Out:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._seen: set[tuple[str, str]] = set()

    def error(self, rule_id: str, text: str, location: str = "/") -> None:
        self.add(rule_id, "fatal", text, location)

    def warning(self, rule_id: str, text: str, location: str = "/") -> None:
        self.add(rule_id, "warning", text, location)

    def add(self, rule_id: str, level: str, text: str, location: str) -> None:
        key = (rule_id, location)
        if key in self._seen:
            return
        self._seen.add(key)
        self.messages.append(
            Message(rule_id=rule_id, level=level, text=f"[{rule_id}] {text}", location=location)
        )


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), _ZERO)


def _shadowed(d: _Doc, tax: _Tax) -> bool:
    """In the official CII rules a VAT breakdown with category L, M or O is matched by its category rule
    (BR-AF/BR-AG/BR-O) first, so the generic breakdown rules (BR-45 .. BR-48, BR-CO-17) never run on it."""
    return d.syntax == "cii" and tax.category in ("L", "M", "O") and (tax.type_code or "").upper() == "VAT"


def _mandatory(d: _Doc, out: _Out) -> None:
    E = out.error
    if not d.spec_id:
        E("BR-01", "An Invoice shall have a Specification identifier (BT-24).")
    if not d.number:
        E("BR-02", "An Invoice shall have an Invoice number (BT-1).")
    if not d.issue_date:
        E("BR-03", "An Invoice shall have an Invoice issue date (BT-2).")
    if not d.type_code:
        E("BR-04", "An Invoice shall have an Invoice type code (BT-3).")
    if not d.currency:
        E("BR-05", "An Invoice shall have an Invoice currency code (BT-5).")
    if not d.seller.name:
        E("BR-06", "An Invoice shall contain the Seller name (BT-27).")
    if not d.buyer.name:
        E("BR-07", "An Invoice shall contain the Buyer name (BT-44).")
    if not d.seller.address_present:
        E("BR-08", "An Invoice shall contain the Seller postal address (BG-5).")
    if not d.seller.country and (d.syntax == "cii" or d.seller.address_present):
        E("BR-09", "The Seller postal address (BG-5) shall contain a Seller country code (BT-40).")
    if not d.buyer.address_present:
        E("BR-10", "An Invoice shall contain the Buyer postal address (BG-8).")
    if not d.buyer.country and (d.syntax == "cii" or d.buyer.address_present):
        E("BR-11", "The Buyer postal address shall contain a Buyer country code (BT-55).")
    if d.sums_present:
        for rule, key, term in (
            ("BR-12", "line", "Sum of Invoice line net amount (BT-106)"),
            ("BR-13", "basis", "Invoice total amount without VAT (BT-109)"),
            ("BR-14", "grand", "Invoice total amount with VAT (BT-112)"),
            ("BR-15", "due", "Amount due for payment (BT-115)"),
        ):
            if key not in d.sums:
                E(rule, f"An Invoice shall have the {term}.", "/totals")
    if not d.lines:
        E("BR-16", "An Invoice shall have at least one Invoice line (BG-25).")
    for i, line in enumerate(d.lines, start=1):
        loc = f"/line[{i}]"
        if not line.line_id:
            E("BR-21", "Each Invoice line (BG-25) shall have an Invoice line identifier (BT-126).", loc)
        if not line.qty_present:
            E("BR-22", "Each Invoice line (BG-25) shall have an Invoiced quantity (BT-129).", loc)
        if not line.unit:
            E(
                "BR-23",
                "An Invoice line (BG-25) shall have an Invoiced quantity unit of measure code (BT-130).",
                loc,
            )
        if not line.net_present:
            E("BR-24", "Each Invoice line (BG-25) shall have an Invoice line net amount (BT-131).", loc)
        if not line.name:
            E("BR-25", "Each Invoice line (BG-25) shall contain the Item name (BT-153).", loc)
        if not line.price_present:
            E("BR-26", "Each Invoice line (BG-25) shall contain the Item net price (BT-146).", loc)
        elif line.price is not None and line.price < 0:
            E("BR-27", "The Item net price (BT-146) shall NOT be negative.", loc)
        if line.gross is not None and line.gross < 0:
            E("BR-28", "The Item gross price (BT-148) shall NOT be negative.", loc)
        if not line.category_present or (line.tax_type or "").upper() != "VAT":
            E(
                "BR-CO-04",
                "Each Invoice line (BG-25) shall be categorized with an Invoiced item VAT category code (BT-151).",
                loc,
            )
        if line.period_broken or (
            line.period_start and line.period_end and line.period_end < line.period_start
        ):
            E(
                "BR-30",
                "The Invoice line period end date (BT-135) shall be later or equal to the start date (BT-134).",
                loc,
            )
        for ac in line.acs:
            if ac.charge is False:
                if not ac.amount_present:
                    E("BR-41", "Each Invoice line allowance (BG-27) shall have an amount (BT-136).", loc)
                if not ac.reason:
                    E(
                        "BR-42",
                        "Each Invoice line allowance (BG-27) shall have a reason (BT-139) or reason code (BT-140).",
                        loc,
                    )
                    E(
                        "BR-CO-23",
                        "Each Invoice line allowance (BG-27) shall contain a reason or a reason code, or both.",
                        loc,
                    )
            elif ac.charge is True:
                if not ac.amount_present:
                    E("BR-43", "Each Invoice line charge (BG-28) shall have an amount (BT-141).", loc)
                if not ac.reason:
                    E(
                        "BR-44",
                        "Each Invoice line charge (BG-28) shall have a reason (BT-144) or reason code (BT-145).",
                        loc,
                    )
                    E(
                        "BR-CO-24",
                        "Each Invoice line charge (BG-28) shall contain a reason or a reason code, or both.",
                        loc,
                    )
    if d.period_broken or (d.period_start and d.period_end and d.period_end < d.period_start):
        E("BR-29", "The Invoicing period end date (BT-74) shall be later or equal to the start date (BT-73).")
    for i, ac in enumerate(d.acs, start=1):
        loc = f"/allowanceCharge[{i}]"
        if ac.charge is False:
            if not ac.amount_present:
                E("BR-31", "Each Document level allowance (BG-20) shall have an amount (BT-92).", loc)
            if not ac.category_present:
                E(
                    "BR-32",
                    "Each Document level allowance (BG-20) shall have a VAT category code (BT-95).",
                    loc,
                )
            if not ac.reason:
                E(
                    "BR-33",
                    "Each Document level allowance (BG-20) shall have a reason (BT-97) or reason code (BT-98).",
                    loc,
                )
                E(
                    "BR-CO-21",
                    "Each Document level allowance (BG-20) shall contain a reason or a reason code, or both.",
                    loc,
                )
        elif ac.charge is True:
            if not ac.amount_present:
                E("BR-36", "Each Document level charge (BG-21) shall have an amount (BT-99).", loc)
            if not ac.category_present:
                E("BR-37", "Each Document level charge (BG-21) shall have a VAT category code (BT-102).", loc)
            if not ac.reason:
                E(
                    "BR-38",
                    "Each Document level charge (BG-21) shall have a reason (BT-104) or reason code (BT-105).",
                    loc,
                )
                E(
                    "BR-CO-22",
                    "Each Document level charge (BG-21) shall contain a reason or a reason code, or both.",
                    loc,
                )
    for i, tax in enumerate(d.taxes, start=1):
        loc = f"/taxBreakdown[{i}]"
        if _shadowed(d, tax):
            continue
        if not tax.basis_present:
            E("BR-45", "Each VAT breakdown (BG-23) shall have a VAT category taxable amount (BT-116).", loc)
        if not tax.amount_present:
            E("BR-46", "Each VAT breakdown (BG-23) shall have a VAT category tax amount (BT-117).", loc)
        if not tax.category_present or (tax.type_code or "").upper() != "VAT":
            E(
                "BR-47",
                "Each VAT breakdown (BG-23) shall be defined through a VAT category code (BT-118).",
                loc,
            )
        elif not tax.rate_present and tax.category != "O":
            E(
                "BR-48",
                "Each VAT breakdown (BG-23) shall have a VAT category rate (BT-119), except if the Invoice is not subject to VAT.",
                loc,
            )
    for i, pm in enumerate(d.payment_means, start=1):
        loc = f"/paymentMeans[{i}]"
        if not pm.code_present:
            E(
                "BR-49",
                "A Payment instruction (BG-16) shall specify the Payment means type code (BT-81).",
                loc,
            )
        if pm.code in ("30", "58"):
            if pm.account_present and not pm.account_id:
                E(
                    "BR-50",
                    "A Payment account identifier (BT-84) shall be present if Credit transfer (BG-17) information is provided.",
                    loc,
                )
            if d.syntax == "ubl" and not pm.account_present:
                E(
                    "BR-61",
                    "If the Payment means type code (BT-81) means SEPA credit transfer, Local credit transfer or Non-SEPA international credit transfer, the Payment account identifier (BT-84) shall be present.",
                    loc,
                )
    codes = {(pm.code or "") for pm in d.payment_means if pm.code_present}
    if d.syntax == "ubl" and len(codes) > 1:
        E("UBL-SR-47", "When there are more than one payment means code, they shall be equal.")
    if d.syntax == "cii" and len(codes) > 1:
        E("CII-SR-467", "All Payment means type codes (BT-81) shall have the same value.")
    if d.syntax == "cii" and any(
        pm.code in ("30", "58") and not pm.account_id_element for pm in d.payment_means
    ):
        E("CII-SR-470", "Either the IBAN or a Proprietary ID (BT-84) shall be used.")
    if d.tax_rep_present:
        if not d.tax_rep_name:
            E(
                "BR-18",
                "The Seller tax representative name (BT-62) shall be provided in the Invoice, if the Seller (BG-4) has a Seller tax representative party (BG-11).",
            )
        if not d.tax_rep_address:
            E(
                "BR-19",
                "The Seller tax representative postal address (BG-12) shall be provided in the Invoice, if the Seller (BG-4) has a Seller tax representative party (BG-11).",
            )
        if not d.tax_rep_country and (d.syntax == "cii" or d.tax_rep_address):
            E(
                "BR-20",
                "The Seller tax representative postal address (BG-12) shall contain a Tax representative country code (BT-69), if the Seller (BG-4) has a Seller tax representative party (BG-11).",
            )
        if not d.tax_rep_vat:
            E(
                "BR-56",
                "Each Seller tax representative party (BG-11) shall have a Seller tax representative VAT identifier (BT-63).",
            )
    if d.syntax == "ubl" and d.incomplete_tax_schemes:
        E(
            "UBL-SR-53",
            "CompanyID (VAT Identifier) must be stated when providing the PartyTaxScheme/TaxScheme/ID.",
        )
    if d.doc_refs_without_id:
        E(
            "BR-52",
            "Each Additional supporting document (BG-24) shall contain a Supporting document reference (BT-122).",
        )
    if d.preceding_without_id:
        E(
            "BR-55",
            "Each Preceding Invoice reference (BG-3) shall contain a Preceding Invoice reference (BT-25).",
        )
    if d.ship_to_address and not d.ship_to_country:
        E("BR-57", "Each Deliver to address (BG-15) shall contain a Deliver to country code (BT-80).")
    if d.seller.scheme_missing:
        E("BR-62", "The Seller electronic address (BT-34) shall have a Scheme identifier.")
    if d.buyer.scheme_missing:
        E("BR-63", "The Buyer electronic address (BT-49) shall have a Scheme identifier.")
    if d.seller.present and not (d.seller.other_id or d.seller.legal_id or d.seller.vat_ids):
        E(
            "BR-CO-26",
            "In order for the buyer to automatically identify a supplier, the Seller identifier (BT-29), the Seller legal registration identifier (BT-30) and/or the Seller VAT identifier (BT-31) shall be present.",
        )
    # CII compares the two-letter prefix as a token; UBL only checks that it occurs in the list string
    prefixes = f" {' '.join(sorted(_VAT_PREFIXES))} "
    for vat_id in d.all_vat_ids:
        if (vat_id[:2] not in _VAT_PREFIXES) if d.syntax == "cii" else (vat_id[:2] not in prefixes):
            E(
                "BR-CO-09",
                "The Seller VAT identifier (BT-31), the Seller tax representative VAT identifier (BT-63) and the Buyer VAT identifier (BT-48) shall have a prefix in accordance with ISO code ISO 3166-1 alpha-2.",
            )
    if d.lines and not d.taxes and (d.syntax == "cii"):
        E("BR-CO-18", "An Invoice shall at least have one VAT breakdown group (BG-23).")
    if d.syntax == "ubl" and not d.taxes:
        E("BR-CO-18", "An Invoice shall at least have one VAT breakdown group (BG-23).")


def _totals(d: _Doc, out: _Out) -> None:
    E = out.error
    s = d.sums
    if d.sums_present:
        line = s.get("line")
        if (
            not any(ln.net is None and ln.net_present for ln in d.lines)
            and not ("line" in s and line is None)
            and (line is None or line != _round2(_sum(ln.net for ln in d.lines)))
        ):
            E(
                "BR-CO-10",
                "Sum of Invoice line net amount (BT-106) = Σ Invoice line net amount (BT-131).",
                "/totals",
            )
        for rule, key, want_charge, term in (
            (
                "BR-CO-11",
                "allowance",
                False,
                "Sum of allowances on document level (BT-107) = Σ Document level allowance amount (BT-92).",
            ),
            (
                "BR-CO-12",
                "charge",
                True,
                "Sum of charges on document level (BT-108) = Σ Document level charge amount (BT-99).",
            ),
        ):
            items = [ac for ac in d.acs if ac.charge is want_charge]
            if key not in s and not items:
                continue
            if any(ac.amount is None and ac.amount_present for ac in items):
                continue
            if s.get(key) is None or s[key] != _round2(_sum(ac.amount for ac in items)):
                if key in s and s[key] is None:
                    continue
                E(rule, term, "/totals")
        basis = s.get("basis")
        if line is None or basis is None:
            E(
                "BR-CO-13",
                "Invoice total amount without VAT (BT-109) = Σ Invoice line net amount (BT-131) - Sum of allowances on document level (BT-107) + Sum of charges on document level (BT-108).",
                "/totals",
            )
        elif not (("allowance" in s and s["allowance"] is None) or ("charge" in s and s["charge"] is None)):
            expected = line - (s.get("allowance") or _ZERO) + (s.get("charge") or _ZERO)
            if basis != _round2(expected):
                E(
                    "BR-CO-13",
                    "Invoice total amount without VAT (BT-109) = Σ Invoice line net amount (BT-131) - Sum of allowances on document level (BT-107) + Sum of charges on document level (BT-108).",
                    "/totals",
                )
        grand = s.get("grand")
        due = s.get("due")
        if grand is None or due is None:
            E(
                "BR-CO-16",
                "Amount due for payment (BT-115) = Invoice total amount with VAT (BT-112) - Paid amount (BT-113) + Rounding amount (BT-114).",
                "/totals",
            )
        elif not (("prepaid" in s and s["prepaid"] is None) or ("rounding" in s and s["rounding"] is None)):
            prepaid = s.get("prepaid") or _ZERO
            rounding = s.get("rounding") or _ZERO
            if d.syntax == "cii":
                ok = due == grand - prepaid + rounding
            else:
                ok = _round2(due - rounding) == _round2(grand - prepaid)
            if not ok:
                E(
                    "BR-CO-16",
                    "Amount due for payment (BT-115) = Invoice total amount with VAT (BT-112) - Paid amount (BT-113) + Rounding amount (BT-114).",
                    "/totals",
                )
    if d.tax_currency and (d.sums_present or d.syntax == "ubl"):
        missing = not any(t[0] == d.tax_currency for t in d.tax_totals)
        if missing or (d.syntax == "cii" and d.tax_currency == d.currency):
            E(
                "BR-53",
                "If the VAT accounting currency code (BT-6) is present, then the Invoice total VAT amount in accounting currency (BT-111) shall be provided.",
                "/totals",
            )
    # BR-CO-14 / BR-CO-15
    in_currency = [t for t in d.tax_totals if t[0] == d.currency]
    if d.syntax == "cii":
        for _cur, value, _subs, calc in in_currency:
            unreadable = any(t.amount is None and t.amount_present for t in d.taxes)
            if value is not None and not unreadable and value != _round2(calc):
                E(
                    "BR-CO-14",
                    "Invoice total VAT amount (BT-110) = Σ VAT category tax amount (BT-117).",
                    "/totals",
                )
    else:
        for _cur, value, subs, calc in d.tax_totals:
            if subs and value is not None and value != _round2(calc):
                E(
                    "BR-CO-14",
                    "Invoice total VAT amount (BT-110) = Σ VAT category tax amount (BT-117).",
                    "/totals",
                )
    if d.currency:
        grand = s.get("grand")
        basis = s.get("basis")
        total_tax = in_currency[0][1] if len(in_currency) == 1 else None
        ok = (
            grand is not None
            and basis is not None
            and (
                (len(in_currency) == 1 and total_tax is not None and grand == _round2(basis + total_tax))
                or (d.syntax == "cii" and grand == basis)
            )
        )
        unreadable = ("grand" in s and grand is None) or ("basis" in s and basis is None)
        if len(in_currency) == 1 and in_currency[0][1] is None:
            unreadable = True
        if not ok and not unreadable and d.currency:
            E(
                "BR-CO-15",
                "Invoice total amount with VAT (BT-112) = Invoice total amount without VAT (BT-109) + Invoice total VAT amount (BT-110).",
                "/totals",
            )
    for i, tax in enumerate(d.taxes, start=1):
        if (tax.type_code or "").upper() != "VAT" or tax.amount is None or _shadowed(d, tax):
            continue
        loc = f"/taxBreakdown[{i}]"
        if tax.rate is None:
            if not tax.rate_present and _round0(tax.amount) != 0:
                E(
                    "BR-CO-17",
                    "VAT category tax amount (BT-117) = VAT category taxable amount (BT-116) x (VAT category rate (BT-119) / 100), rounded to two decimals.",
                    loc,
                )
            continue
        if _round0(tax.rate) == 0:
            ok = _round0(tax.amount) == 0
        elif tax.basis is None:
            continue
        else:
            expected = _round2(abs(tax.basis) * tax.rate / _HUNDRED)
            low, high = abs(tax.amount) - _ONE, abs(tax.amount) + _ONE
            ok = (low <= expected <= high) if d.syntax == "cii" else (low < expected < high)
        if not ok:
            E(
                "BR-CO-17",
                "VAT category tax amount (BT-117) = VAT category taxable amount (BT-116) x (VAT category rate (BT-119) / 100), rounded to two decimals.",
                loc,
            )


_CATEGORY_PREFIX: Final = {
    "S": "BR-S",
    "Z": "BR-Z",
    "E": "BR-E",
    "AE": "BR-AE",
    "K": "BR-IC",
    "G": "BR-G",
    "O": "BR-O",
    "L": "BR-AF",
    "M": "BR-AG",
}
_CATEGORY_NAME: Final = {
    "S": "Standard rated",
    "Z": "Zero rated",
    "E": "Exempt from VAT",
    "AE": "Reverse charge",
    "K": "Intra-community supply",
    "G": "Export outside the EU",
    "O": "Not subject to VAT",
    "L": "IGIC (Canary Islands)",
    "M": "IPSI (Ceuta and Melilla)",
}


def _party_ok(d: _Doc, cat: str) -> bool:
    seller_va = bool(d.seller.vat_ids)
    seller_any = (
        bool(d.seller.vat_ids or d.seller.fc_ids) if d.syntax == "cii" else bool(d.seller.any_tax_ids)
    )
    rep = d.tax_rep_vat
    buyer_va = bool(d.buyer.vat_ids)
    if cat in ("S", "Z", "E", "L", "M"):
        return seller_any or rep
    if cat == "AE":
        return (seller_any or rep) and (buyer_va or d.buyer.legal_id)
    if cat == "K":
        return (seller_va or rep) and buyer_va
    if cat == "G":
        return seller_va or rep
    if cat == "O":
        return not seller_va and not rep and not buyer_va
    return True


def _rate_ok(cat: str, rate: Decimal | None, rate_present: bool) -> bool:
    if cat == "O":
        return not rate_present
    if rate is None:
        return False
    if cat in ("L", "M"):  # CII wants > 0, UBL >= 0: only the rate both reject is reported
        return rate >= 0
    return rate > 0 if cat == "S" else rate == 0


def _vat_categories(d: _Doc, out: _Out) -> None:
    E = out.error
    vat_lines = [ln for ln in d.lines if (ln.tax_type or "").upper() == "VAT"]
    for cat, prefix in _CATEGORY_PREFIX.items():
        name = _CATEGORY_NAME[cat]
        lines = [ln for ln in d.lines if ln.category == cat]
        allowances = [a for a in d.acs if a.category == cat and a.charge is False]
        charges = [a for a in d.acs if a.category == cat and a.charge is True]
        acs = [a for a in d.acs if a.category == cat]
        line_acs = [a for ln in d.lines for a in ln.acs if a.category == cat]
        breakdown = [t for t in d.taxes if t.category == cat]
        # -01
        if cat in ("S", "L", "M"):
            if d.syntax == "cii":
                bad = (lines and len(lines) + len(breakdown) < 2) or (
                    (acs or line_acs) and len(acs) + len(line_acs) + len(breakdown) < 2
                )
            else:
                bad = bool(lines or acs or line_acs) != bool(breakdown)
            if bad:
                E(
                    f"{prefix}-01",
                    f"An Invoice that contains an item, allowance or charge with VAT category '{name}' shall contain a VAT breakdown (BG-23) with that category.",
                )
        elif cat == "O" and d.syntax == "cii":
            if breakdown and (len(breakdown) != 1 or not (lines or acs or line_acs)):
                E(
                    f"{prefix}-01",
                    f"An Invoice with a VAT breakdown for '{name}' shall contain exactly one such breakdown and at least one item, allowance or charge with that category.",
                )
        else:
            used = bool(lines or acs or line_acs)
            if d.syntax == "cii":
                bad = (used or bool(breakdown)) and not (len(breakdown) == 1 and used)
            else:
                bad = (used or bool(breakdown)) and len(breakdown) != 1
            if bad:
                E(
                    f"{prefix}-01",
                    f"An Invoice that contains an item, allowance or charge with VAT category '{name}' shall contain exactly one VAT breakdown (BG-23) with that category.",
                )
        # -02 / -03 / -04
        if not _party_ok(d, cat):
            if any(ln in vat_lines for ln in lines):
                E(
                    f"{prefix}-02",
                    f"An Invoice line with VAT category '{name}' requires the matching Seller/Buyer VAT identifiers.",
                )
            if allowances and d.syntax == "cii":
                E(
                    f"{prefix}-03",
                    f"A Document level allowance with VAT category '{name}' requires the matching Seller/Buyer VAT identifiers.",
                )
            if charges and d.syntax == "cii":
                E(
                    f"{prefix}-04",
                    f"A Document level charge with VAT category '{name}' requires the matching Seller/Buyer VAT identifiers.",
                )
        # -05 / -06 / -07
        for i, ln in enumerate(lines, start=1):
            if (ln.tax_type or "").upper() == "VAT" and not _rate_ok(cat, ln.rate, ln.rate_present):
                E(
                    f"{prefix}-05",
                    f"In an Invoice line with VAT category '{name}' the Invoiced item VAT rate (BT-152) is not allowed.",
                    f"/line[{i}]",
                )
        for ac in allowances:
            if not _rate_ok(cat, ac.rate, ac.rate is not None):
                E(
                    f"{prefix}-06",
                    f"In a Document level allowance with VAT category '{name}' the VAT rate (BT-96) is not allowed.",
                )
        for ac in charges:
            if not _rate_ok(cat, ac.rate, ac.rate is not None):
                E(
                    f"{prefix}-07",
                    f"In a Document level charge with VAT category '{name}' the VAT rate (BT-103) is not allowed.",
                )
        # -08 / -09 / -10
        for i, tax in enumerate(breakdown, start=1):
            if (tax.type_code or "").upper() != "VAT":
                continue
            loc = f"/taxBreakdown[{cat}][{i}]"
            canary = cat in ("L", "M")
            if canary and d.syntax == "cii":
                pass  # BR-AF-08/09, BR-AG-08/09 cannot fail in the official CII rules (their paths select nothing)
            elif tax.basis is not None and not any(ln.net is None and ln.net_present for ln in lines):
                if cat == "S" or canary:
                    if tax.rate is not None:
                        rate_lines = [ln.net for ln in lines if ln.rate == tax.rate]
                        rate_ch = [a.amount for a in charges if a.rate == tax.rate]
                        rate_al = [a.amount for a in allowances if a.rate == tax.rate]
                        if d.syntax == "cii":
                            expected = (
                                _round2(_sum(rate_lines)) + _round2(_sum(rate_ch)) - _round2(_sum(rate_al))
                            )
                            bad = tax.basis != expected
                        else:
                            expected = _sum(rate_lines) + _sum(rate_ch) - _sum(rate_al)
                            bad = not (tax.basis - _ONE < expected < tax.basis + _ONE)
                        if bad:
                            E(
                                f"{prefix}-08",
                                "For each different value of VAT category rate (BT-119) where the VAT category code (BT-118) is 'Standard rated', the VAT category taxable amount (BT-116) shall equal the sum of line net amounts plus charges minus allowances with that category and rate.",
                                loc,
                            )
                else:
                    expected = (
                        _sum(ln.net for ln in lines)
                        + _sum(a.amount for a in charges)
                        - _sum(a.amount for a in allowances)
                    )
                    if not (tax.basis - _ONE < expected < tax.basis + _ONE):
                        E(
                            f"{prefix}-08",
                            f"In a VAT breakdown (BG-23) where the VAT category code (BT-118) is '{name}' the VAT category taxable amount (BT-116) shall equal the sum of line net amounts plus charges minus allowances with that category.",
                            loc,
                        )
            if tax.amount is not None and not (canary and d.syntax == "cii"):
                if cat == "S" or canary:
                    if tax.basis is not None and tax.rate is not None:
                        if d.syntax == "cii":
                            expected = _round0(abs(tax.basis) * tax.rate) / _HUNDRED
                        else:
                            expected = _round2(abs(tax.basis) * tax.rate / _HUNDRED)
                        if not (abs(tax.amount) - _ONE < expected < abs(tax.amount) + _ONE):
                            E(
                                f"{prefix}-09",
                                "The VAT category tax amount (BT-117) in a VAT breakdown (BG-23) where VAT category code (BT-118) is 'Standard rated' shall equal the VAT category taxable amount (BT-116) multiplied by the VAT category rate (BT-119).",
                                loc,
                            )
                elif tax.amount != 0:
                    E(
                        f"{prefix}-09",
                        f"The VAT category tax amount (BT-117) in a VAT breakdown (BG-23) where the VAT category code (BT-118) is '{name}' shall equal 0 (zero).",
                        loc,
                    )
            if cat in ("S", "Z", "L", "M"):
                if tax.exemption:
                    E(
                        f"{prefix}-10",
                        f"A VAT breakdown (BG-23) with VAT Category code (BT-118) '{name}' shall not have a VAT exemption reason code (BT-121) or VAT exemption reason text (BT-120).",
                        loc,
                    )
            elif not tax.exemption:
                E(
                    f"{prefix}-10",
                    f"A VAT breakdown (BG-23) with VAT Category code (BT-118) '{name}' shall have a VAT exemption reason code (BT-121) or a VAT exemption reason text (BT-120).",
                    loc,
                )
        if cat == "O" and breakdown:
            _not_subject_to_vat(d, out)
        if cat == "K" and breakdown:
            if not (d.delivery_date or d.period_start or d.period_end):
                E(
                    "BR-IC-11",
                    "In an Invoice with a VAT breakdown (BG-23) where the VAT category code (BT-118) is 'Intra-community supply' the Actual delivery date (BT-72) or the Invoicing period (BG-14) shall not be blank.",
                )
            if not d.ship_to_country:
                E(
                    "BR-IC-12",
                    "In an Invoice with a VAT breakdown (BG-23) where the VAT category code (BT-118) is 'Intra-community supply' the Deliver to country code (BT-80) shall not be blank.",
                )


def _not_subject_to_vat(d: _Doc, out: _Out) -> None:
    """BR-O-11 .. BR-O-14: an invoice with an 'O' breakdown has no other VAT category anywhere."""
    E = out.error
    if any(t.category != "O" for t in d.taxes if t.category):
        E(
            "BR-O-11",
            "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) 'Not subject to VAT' shall not contain other VAT breakdown groups (BG-23).",
        )
    if any(ln.category != "O" for ln in d.lines if ln.category and (ln.tax_type or "").upper() == "VAT"):
        E(
            "BR-O-12",
            "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) 'Not subject to VAT' shall not contain an Invoice line (BG-25) where the Invoiced item VAT category code (BT-151) is not 'Not subject to VAT'.",
        )
    other = [a for a in d.acs if a.category and a.category != "O"]
    if d.syntax == "cii":
        other += [a for ln in d.lines for a in ln.acs if a.category and a.category != "O"]
    allowance = any(a.charge is False for a in other) or (d.syntax == "cii" and bool(other))
    charge = any(a.charge is True for a in other) or (d.syntax == "cii" and bool(other))
    if allowance:
        E(
            "BR-O-13",
            "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) 'Not subject to VAT' shall not contain Document level allowances (BG-20) where Document level allowance VAT category code (BT-95) is not 'Not subject to VAT'.",
        )
    if charge:
        E(
            "BR-O-14",
            "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) 'Not subject to VAT' shall not contain Document level charges (BG-21) where Document level charge VAT category code (BT-102) is not 'Not subject to VAT'.",
        )


def _italian_split_payment(d: _Doc, out: _Out) -> None:
    """BR-B-01/BR-B-02 (category B, Italian split payment), reported only where both syntaxes agree."""
    categories = {ln.category for ln in d.lines} | {t.category for t in d.taxes} | {a.category for a in d.acs}
    if "B" not in categories:
        return
    countries = {d.seller.country, d.buyer.country, d.ship_to_country, d.tax_rep_country} - {None}
    if any(c != "IT" for c in countries):
        out.error(
            "BR-B-01",
            "An Invoice where the VAT category code (BT-151, BT-95 or BT-102) is 'Split payment' shall be a domestic Italian invoice.",
        )
    if "S" in categories:
        out.error(
            "BR-B-02",
            "An Invoice that contains an Invoice line (BG-25), a Document level allowance (BG-20) or a Document level charge (BG-21) where the VAT category code (BT-151, BT-95 or BT-102) is 'Split payment' shall not contain an invoice line (BG-25), a Document level allowance (BG-20) or a Document level charge (BG-21) where the VAT category code (BT-151, BT-95 or BT-102) is 'Standard rated'.",
        )


_STRUCTURE_TEXT: Final = {
    "UBL-SR-12": "Seller VAT identifier shall occur maximum once.",
    "UBL-SR-13": "Seller tax registration shall occur maximum once.",
    "UBL-SR-18": "Buyer VAT identifier shall occur maximum once.",
}


def _code_lists(d: _Doc, out: _Out) -> None:
    E = out.error
    if d.type_code and d.type_code not in _DOCUMENT_TYPES:
        E(
            "BR-CL-01",
            "The document type code MUST be coded by the invoice and credit note related code lists of UNTDID 1001.",
        )
    for cur, _v, _s, _c in d.tax_totals:
        if cur is not None and cur not in _CURRENCIES:
            E("BR-CL-03", "currencyID MUST be coded using ISO code list 4217 alpha-3.")
    if d.currency and d.currency not in _CURRENCIES:
        E("BR-CL-04", "Invoice currency code MUST be coded using ISO code list 4217 alpha-3.")
    if d.tax_currency and d.tax_currency not in _CURRENCIES:
        E("BR-CL-05", "Tax currency code MUST be coded using ISO code list 4217 alpha-3.")
    for country in (d.seller.country, d.buyer.country, d.ship_to_country, d.tax_rep_country):
        if country and country not in _COUNTRIES:
            E("BR-CL-14", "Country codes in an invoice MUST be coded using ISO code list 3166-1.")
    for pm in d.payment_means:
        if pm.code_present and (pm.code or "") not in _PAYMENT_MEANS:
            E("BR-CL-16", "Payment means in an invoice MUST be coded using UNCL4461 code list.")
    # CII: allowances/charges -> BR-CL-17, lines and breakdown -> BR-CL-18;
    # UBL: every cac:TaxCategory (allowances/charges and breakdown) -> BR-CL-17, line categories -> BR-CL-18.
    ac_categories = [a.category for a in d.acs + [a for ln in d.lines for a in ln.acs]]
    breakdown = [t.category for t in d.taxes]
    cl17 = ac_categories + (breakdown if d.syntax == "ubl" else [])
    cl18 = [ln.category for ln in d.lines] + (breakdown if d.syntax == "cii" else [])
    if any(c and c not in _VAT_CATEGORIES for c in cl17):
        E("BR-CL-17", "Invoice tax categories MUST be coded using UNCL5305 code list.")
    if any(c and c not in _VAT_CATEGORIES for c in cl18):
        E("BR-CL-18", "Invoice tax categories MUST be coded using UNCL5305 code list.")
    if any(c not in _SUBJECT_CODES for c in d.subject_codes):
        E("BR-CL-08", "Subject Code MUST be coded using a restriction of UNTDID 4451.")
    if d.bad_dates:
        E("CII-DT-097", "Date time string with format attribute 102 shall be YYYYMMDD.")
    for rule in sorted(set(d.structure)):
        E(
            rule,
            _STRUCTURE_TEXT.get(rule, "This element shall not be used here (EN 16931 CII syntax binding)."),
        )
    for tax in d.taxes:
        if tax.exemption_code and tax.exemption_code.upper() not in _VATEX:
            E(
                "BR-CL-22",
                "Tax exemption reason code identifier scheme identifier MUST belong to the CEF VATEX code list.",
            )
    for line in d.lines:
        for unit in [line.unit, *line.base_qty_units]:
            if unit is not None and unit.strip() and unit.strip() not in _UNIT_CODES:
                E(
                    "BR-CL-23",
                    "Unit code MUST be coded according to the UN/ECE Recommendation 20 with Rec 21 extension.",
                )
    for _name, mime in d.attachments:
        if mime is not None and mime not in _MIME_TYPES:
            E("BR-CL-24", "For Mime code in attribute use MIMEMediaType.")
    for rule, scheme in d.scheme_ids:
        if " ".join(scheme.split()) not in _ICD_CODES:
            E(rule, "Any identifier scheme identifier MUST be coded using one of the ISO 6523 ICD list.")
    for scheme in d.endpoint_schemes:
        if scheme.strip() and scheme.strip() not in _EAS_CODES:
            E("BR-CL-25", "Endpoint identifier scheme identifier MUST belong to the CEF EAS code list.")


def _skonto_ok(text: str) -> bool:
    lines = [ln for ln in re.split(r"\r?\n", text) if ln.strip().startswith("#")]
    if not lines:
        return True
    tail = re.split(r"#[^\r\n]+#", text)[-1]
    if not re.match(r"^\s*\n", tail):
        return False
    return all(_XR_SKONTO.search(" ".join(ln.split())) for ln in lines)


def _xrechnung(d: _Doc, out: _Out, process_present: bool) -> None:
    E = out.error
    if not d.payment_means:
        E("BR-DE-1", 'Eine Rechnung (INVOICE) muss Angaben zu "PAYMENT INSTRUCTIONS" (BG-16) enthalten.')
    if d.seller.present and not d.seller.contact_present:
        E("BR-DE-2", 'Die Gruppe "SELLER CONTACT" (BG-6) muss übermittelt werden.')
    if d.seller.address_present:
        if not d.seller.city:
            E("BR-DE-3", 'Das Element "Seller city" (BT-37) muss übermittelt werden.')
        if not d.seller.postcode:
            E("BR-DE-4", 'Das Element "Seller post code" (BT-38) muss übermittelt werden.')
    if d.seller.contact_present:
        if not d.seller.contact_name:
            E("BR-DE-5", 'Das Element "Seller contact point" (BT-41) muss übermittelt werden.')
        if not d.seller.phone:
            E("BR-DE-6", 'Das Element "Seller contact telephone number" (BT-42) muss übermittelt werden.')
        if not d.seller.email:
            E("BR-DE-7", 'Das Element "Seller contact email address" (BT-43) muss übermittelt werden.')
    if d.buyer.address_present:
        if not d.buyer.city:
            E("BR-DE-8", 'Das Element "Buyer city" (BT-52) muss übermittelt werden.')
        if not d.buyer.postcode:
            E("BR-DE-9", 'Das Element "Buyer post code" (BT-53) muss übermittelt werden.')
    if d.ship_to_address:
        if not d.ship_to_city:
            E(
                "BR-DE-10",
                'Das Element "Deliver to city" (BT-77) muss übermittelt werden, wenn die Gruppe "DELIVER TO ADDRESS" (BG-15) übermittelt wird.',
            )
        if not d.ship_to_postcode:
            E(
                "BR-DE-11",
                'Das Element "Deliver to post code" (BT-78) muss übermittelt werden, wenn die Gruppe "DELIVER TO ADDRESS" (BG-15) übermittelt wird.',
            )
    for i, tax in enumerate(d.taxes, start=1):
        if not tax.rate_present:
            E(
                "BR-DE-14",
                'Das Element "VAT category rate" (BT-119) muss übermittelt werden.',
                f"/taxBreakdown[{i}]",
            )
    if not d.buyer_reference:
        E("BR-DE-15", 'Das Element "Buyer reference" (BT-10) muss übermittelt werden.')
    used = {ln.category for ln in d.lines if (ln.tax_type or "").upper() == "VAT"} | {
        a.category for a in d.acs
    }
    if used & _DE16_CATEGORIES:
        seller_ids = (
            bool(d.seller.vat_ids or d.seller.fc_ids) if d.syntax == "cii" else bool(d.seller.any_tax_ids)
        )
        if not (seller_ids or d.tax_rep_present):
            E(
                "BR-DE-16",
                'Wenn in einer Rechnung die Steuercodes S, Z, E, AE, K, G, L oder M verwendet werden, muss mindestens eines der Elemente "Seller VAT identifier" (BT-31), "Seller tax registration identifier" (BT-32) oder "SELLER TAX REPRESENTATIVE PARTY" (BG-11) übermittelt werden.',
            )
    if d.terms_first is not None and not _skonto_ok(d.terms_first):
        E(
            "BR-DE-18",
            "Skonto Zeilen müssen dem regulären Ausdruck #SKONTO#TAGE=n#PROZENT=n.nn#(BASISBETRAG=n.nn#) entsprechen und mit einem Zeilenumbruch enden.",
        )
    names = [n for n, _m in d.attachments if n is not None]
    if len(names) != len(set(names)):
        E("BR-DE-22", "Not all filename attributes of the embeddedDocumentBinaryObject elements are unique.")
    for i, pm in enumerate(d.payment_means, start=1):
        loc = f"/paymentMeans[{i}]"
        code = pm.code or ""
        debit = pm.mandate or (d.direct_debit if d.syntax == "cii" else False)
        if code in ("30", "58"):
            if not pm.account_present:
                E(
                    "BR-DE-23-a",
                    'Wenn BT-81 "Payment means type code" einen Schlüssel für Überweisungen enthält (30, 58), muss BG-17 "CREDIT TRANSFER" übermittelt werden.',
                    loc,
                )
            if pm.card or debit:
                E(
                    "BR-DE-23-b",
                    'Wenn BT-81 "Payment means type code" einen Schlüssel für Überweisungen enthält (30, 58), dürfen BG-18 und BG-19 nicht übermittelt werden.',
                    loc,
                )
        elif code in ("48", "54", "55"):
            if not pm.card:
                E(
                    "BR-DE-24-a",
                    'Wenn BT-81 "Payment means type code" einen Schlüssel für Kartenzahlungen enthält (48, 54, 55), muss genau BG-18 "PAYMENT CARD INFORMATION" übermittelt werden.',
                    loc,
                )
            if pm.account_present or debit:
                E(
                    "BR-DE-24-b",
                    'Wenn BT-81 "Payment means type code" einen Schlüssel für Kartenzahlungen enthält (48, 54, 55), dürfen BG-17 und BG-19 nicht übermittelt werden.',
                    loc,
                )
        elif code == "59":
            if not debit:
                E(
                    "BR-DE-25-a",
                    'Wenn BT-81 "Payment means type code" einen Schlüssel für Lastschriften enthält (59), muss genau BG-19 "DIRECT DEBIT" übermittelt werden.',
                    loc,
                )
            if pm.account_present or pm.card:
                E(
                    "BR-DE-25-b",
                    'Wenn BT-81 "Payment means type code" einen Schlüssel für Lastschriften enthält (59), dürfen BG-17 und BG-18 nicht übermittelt werden.',
                    loc,
                )
    # PEPPOL rules adopted by XRechnung
    if not process_present:
        E("PEPPOL-EN16931-R001", "Business process MUST be provided.")
    if d.tax_currency and d.tax_currency == d.currency:
        E(
            "PEPPOL-EN16931-R005",
            "VAT accounting currency code MUST be different from invoice currency code when provided.",
        )
    if d.empty_elements:
        E(
            "PEPPOL-EN16931-R008",
            f"Document MUST not contain empty elements ({', '.join(sorted(set(d.empty_elements))[:5])}).",
        )
    if d.buyer.present and not d.buyer.endpoint_present:
        E("PEPPOL-EN16931-R010", "Buyer electronic address MUST be provided")
    if d.seller.present and not d.seller.endpoint_present:
        E("PEPPOL-EN16931-R020", "Seller electronic address MUST be provided")
    ac_scope = (
        d.acs + [a for ln in d.lines for a in ln.acs]
        if d.syntax == "cii"
        else (d.acs if not d.credit else [])
    )
    for ac in ac_scope:
        if ac.percent_present and not ac.base_present:
            E(
                "PEPPOL-EN16931-R041",
                "Allowance/charge base amount MUST be provided when allowance/charge percentage is provided.",
            )
        if ac.base_present and not ac.percent_present:
            E(
                "PEPPOL-EN16931-R042",
                "Allowance/charge percentage MUST be provided when allowance/charge base amount is provided.",
            )
    for i, line in enumerate(d.lines, start=1):
        loc = f"/line[{i}]"
        if d.syntax == "cii":
            if any(flag != "false" for flag in line.price_charge_flags):
                E(
                    "PEPPOL-EN16931-R044",
                    "Charge on price level is NOT allowed. Only value 'false' allowed.",
                    loc,
                )
        elif any(flag.strip() != "false" for flag in line.price_charge_flags):
            E("PEPPOL-EN16931-R044", "Charge on price level is NOT allowed. Only value 'false' allowed.", loc)
        if line.gross_present and line.gross is not None and line.price is not None:
            readable = not (line.price_discount_present and line.price_discount is None)
            applies = d.syntax == "cii" or line.price_discount_present
            if readable and applies and line.price != line.gross - (line.price_discount or _ZERO):
                E(
                    "PEPPOL-EN16931-R046",
                    "Item net price MUST equal (Gross price - Allowance amount) when gross price is provided.",
                    loc,
                )
        if line.base_qty_present and line.base_qty is not None and line.base_qty <= 0:
            E("PEPPOL-EN16931-R121", "Base quantity MUST be a positive number above zero.", loc)
        if line.unit is not None and any(u != line.unit for u in line.base_qty_units):
            E(
                "PEPPOL-EN16931-R130",
                "Unit code of price base quantity MUST be same as invoiced quantity.",
                loc,
            )
        if True:
            if (
                d.period_start
                and line.period_start
                and line.period_start < d.period_start
                and not (d.syntax == "ubl" and d.credit)
            ):
                E("PEPPOL-EN16931-R110", "Start date of line period MUST be within invoice period.", loc)
            if (
                d.period_end
                and line.period_end
                and line.period_end > d.period_end
                and not (d.syntax == "ubl" and d.credit)
            ):
                E("PEPPOL-EN16931-R111", "End date of line period MUST be within invoice period.", loc)
        if d.syntax == "ubl" and None not in (line.net, line.qty, line.price):
            assert line.net is not None and line.qty is not None and line.price is not None
            base = line.base_qty if line.base_qty_present and line.base_qty else _ONE
            if line.base_qty_present and line.base_qty is None:
                continue
            if any(a.amount is None for a in line.acs if a.charge is not None):
                continue
            expected = (
                line.qty * (line.price / base)
                + _sum(a.amount for a in line.acs if a.charge is True)
                - _sum(a.amount for a in line.acs if a.charge is False)
            )
            slack = Decimal("0.5") if d.currency == "HUF" else Decimal("0.02")
            if abs(line.net - expected) > slack:
                E(
                    "PEPPOL-EN16931-R120",
                    "Invoice line net amount MUST equal (Invoiced quantity * (Item net price/item price base quantity) + Sum of invoice line charge amount - sum of invoice line allowance amount",
                    loc,
                )
    in_currency = [t for t in d.tax_totals if t[0] == d.currency]
    if d.syntax == "cii":
        if len(in_currency) > 1:
            E(
                "PEPPOL-EN16931-R053",
                "No more than one tax total amount must be provided where currency id equals document currency code.",
            )
        others = [t for t in d.tax_totals if t[0] != d.currency]
        if d.currency is not None and len(others) != (1 if d.tax_currency else 0):
            E(
                "PEPPOL-EN16931-R054",
                "Only one tax total amount must be provided where currency id equals tax currency code, if tax currency code (BT-6) is provided.",
            )
    else:
        if sum(1 for t in d.tax_totals if t[2]) != 1:
            E("PEPPOL-EN16931-R053", "Only one tax total with tax subtotals MUST be provided.")
        if sum(1 for t in d.tax_totals if not t[2]) != (1 if d.tax_currency else 0):
            E(
                "PEPPOL-EN16931-R054",
                "Only one tax total without tax subtotals MUST be provided when tax currency code is provided.",
            )
    for i, pm in enumerate(d.payment_means, start=1):
        if (pm.code or "") in ("49", "59") and not d.mandate_id:
            E(
                "PEPPOL-EN16931-R061",
                "Mandate reference MUST be provided for direct debit.",
                f"/paymentMeans[{i}]",
            )
    if d.spec_id not in _XR_SPEC_IDS:
        out.warning(
            "BR-DE-21",
            'Das Element "Specification identifier" (BT-24) soll syntaktisch der Kennung des Standards XRechnung entsprechen.',
        )


# ------------------------------------------------------------------------------------------ public


def validate_xml(root: etree._Element, syntax: str, *, xrechnung: bool = True) -> Verdict:
    """Validate an already parsed invoice element tree (``syntax`` is ``"cii"`` or ``"ubl"``)."""
    doc = _cii_doc(root, xrechnung) if syntax == "cii" else _ubl_doc(root, xrechnung)
    if syntax == "cii":
        context = root.find("rsm:ExchangedDocumentContext", NS)
        process_present = context is None or _has(
            context, "ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID"
        )
    else:
        process_present = root.find("cbc:ProfileID", NS) is not None
    out = _Out()
    checks: list[Callable[[_Doc, _Out], None]] = [
        _mandatory,
        _totals,
        _vat_categories,
        _italian_split_payment,
        _code_lists,
    ]
    for check in checks:
        check(doc, out)
    if xrechnung:
        _xrechnung(doc, out, process_present)
    accepted = not any(m.is_error for m in out.messages)
    return Verdict(accepted=accepted, messages=out.messages, syntax=syntax)


def validate_document(data: bytes | ParsedInvoice, *, xrechnung: bool = True) -> Verdict:
    """Validate invoice bytes (CII, UBL or a PDF embedding one) or a parsed invoice.

    Raises :class:`~faktoora_async.einvoice.errors.DocumentError` when ``data`` is not a readable invoice.
    """
    if not isinstance(data, ParsedInvoice) and b"%PDF-" in bytes(data[:1024]):
        data = parse_document(data)
    if isinstance(data, ParsedInvoice):
        root = parse_xml(data.xml, what="the invoice XML")
        syntax = data.syntax
    else:  # XML bytes: no need to build the content model
        root = parse_xml(bytes(data))
        syntax = detect_syntax(root)
    verdict = validate_xml(root, syntax, xrechnung=xrechnung)
    logger.debug(
        "validated %s invoice: %s, %d messages",
        syntax,
        "accepted" if verdict.accepted else "rejected",
        len(verdict.messages),
    )
    return verdict
