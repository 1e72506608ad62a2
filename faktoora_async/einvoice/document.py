"""The neutral invoice model both :mod:`.parse` (content) and :mod:`.validate` (rules) work from.

One reader per syntax (:mod:`.read_cii`, :mod:`.read_ubl`) fills a :class:`Document` from the XML tree in
one pass; nothing else in the package knows an XML path.  The model keeps, for each business term:

* its text as found (``*_text`` fields, ``None`` when absent or blank), which the content model formats;
* its decimal value where a rule computes with it (``None`` when absent or unreadable);
* ``*_present`` flags where the official rules distinguish "element absent" from "element empty".

Dates are kept as written (``YYYYMMDD`` in CII, ``YYYY-MM-DD`` in UBL); :func:`ymd` turns either into
the content model's ``YYYYMMDD``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["AllowanceCharge", "Document", "EmbeddedFile", "Line", "Party", "PaymentMeans", "Tax", "ymd"]


def ymd(value: str | None, syntax: str) -> str | None:
    """A date as the content model writes it: UBL's ``YYYY-MM-DD`` as ``YYYYMMDD``, CII's as written."""
    return value.replace("-", "") if value and syntax == "ubl" else value


@dataclass
class Party:
    """Seller (BG-4), buyer (BG-7) or another party, as far as the rules and the content model use it."""

    present: bool = False
    name: str | None = None  # BT-27/BT-44 (CII Name, UBL RegistrationName)
    trading_name: str | None = None  # BT-28/BT-45 (UBL PartyName)
    address_present: bool = False
    street: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = None
    contact_present: bool = False
    contact_name: str | None = None
    phone: str | None = None
    email: str | None = None
    endpoint_present: bool = False
    endpoint_scheme: str | None = None  # scheme of the first electronic address element (rules)
    scheme_missing: bool = False
    electronic_address: str | None = None  # BT-34/BT-49 (content)
    electronic_address_scheme: str | None = None
    vat_ids: list[str] = field(default_factory=list)  # CII schemeID VA / UBL PartyTaxScheme VAT
    fc_ids: list[str] = field(default_factory=list)  # CII schemeID FC
    any_tax_ids: list[str] = field(default_factory=list)  # UBL: every PartyTaxScheme/CompanyID
    vat_id: str | None = None  # BT-31/BT-48 (content)
    tax_id: str | None = None  # BT-32 (content)
    legal_id: bool = False
    legal_registration_id: str | None = None  # BT-30/BT-47
    other_id: bool = False


@dataclass
class AllowanceCharge:
    """A document (BG-20/BG-21) or line (BG-27/BG-28) allowance or charge."""

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
    amount_text: str | None = None
    base_text: str | None = None
    percent_text: str | None = None
    rate_text: str | None = None
    reason_text: str | None = None
    reason_code: str | None = None


@dataclass
class Line:
    """An invoice line (BG-25)."""

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
    acs: list[AllowanceCharge]
    period_start: str | None
    period_end: str | None
    period_present: bool
    period_broken: bool = False
    category_present: bool = True
    description: str | None = None
    qty_text: str | None = None
    net_text: str | None = None
    price_text: str | None = None
    gross_text: str | None = None
    price_discount_text: str | None = None
    base_qty_text: str | None = None
    rate_text: str | None = None
    seller_item_id: str | None = None  # BT-155
    base_qty_unit: str | None = None  # BT-150 (of the net price)


@dataclass
class Tax:
    """A VAT breakdown (BG-23)."""

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
    rate_text: str | None = None
    basis_text: str | None = None
    amount_text: str | None = None
    exemption_reason: str | None = None


@dataclass
class PaymentMeans:
    """A payment instruction (BG-16)."""

    code: str | None
    account_present: bool
    account_id: bool
    card: bool
    mandate: bool
    account_id_element: bool = False
    code_present: bool = True
    information: str | None = None  # BT-82
    iban: str | None = None  # BT-84
    bic: str | None = None  # BT-86
    account_name: str | None = None  # BT-85
    debited_account: str | None = None  # BT-91


@dataclass
class EmbeddedFile:
    """An attached document's embedded binary object (BG-24, BT-125), still base64-encoded."""

    filename: str | None
    mime_code: str | None
    reference: str | None  # BT-122
    description: str | None  # BT-123
    base64_text: str | None
    uri: str | None = None  # BT-124


@dataclass
class Document:
    """Everything the rules and the content model read from one invoice."""

    syntax: str
    credit: bool = False
    spec_id: str | None = None
    process_id: str | None = None
    process_present: bool = True
    number: str | None = None
    issue_date: str | None = None  # as written (content)
    issue_date_ok: bool = False  # present in the form the rules accept (CII: format 102)
    type_code: str | None = None
    currency: str | None = None
    tax_currency: str | None = None
    buyer_reference: str | None = None
    note: str | None = None  # BT-22, several joined by a newline
    preceding_number: str | None = None  # BT-25 (content: the first)
    due_date: str | None = None  # BT-9
    seller: Party = field(default_factory=Party)
    buyer: Party = field(default_factory=Party)
    tax_rep_present: bool = False
    tax_rep_vat: bool = False
    tax_rep_name: str | None = None
    tax_rep_address: bool = False
    tax_rep_country: str | None = None
    ship_to_address: bool = False
    ship_to_name: str | None = None
    ship_to_street: str | None = None
    ship_to_country: str | None = None
    ship_to_city: str | None = None
    ship_to_postcode: str | None = None
    delivery_date: str | None = None
    period_present: bool = False
    period_start: str | None = None
    period_end: str | None = None
    period_broken: bool = False
    payment_means: list[PaymentMeans] = field(default_factory=list)
    direct_debit: bool = False
    terms_first: str | None = None  # the first payment terms text, verbatim (BR-DE-18)
    terms_description: str | None = None  # BT-20, all texts joined by a newline (content)
    acs: list[AllowanceCharge] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    taxes: list[Tax] = field(default_factory=list)
    sums_present: bool = False
    sums: dict[str, Decimal | None] = field(default_factory=dict)  # present keys only
    sum_texts: dict[str, str | None] = field(default_factory=dict)  # present keys only
    tax_totals: list[tuple[str | None, Decimal | None, bool, Decimal]] = field(default_factory=list)
    tax_total_texts: list[tuple[str | None, str]] = field(default_factory=list)  # (currencyID, text)
    doc_refs_without_id: int = 0
    preceding_without_id: int = 0
    attachments: list[tuple[str | None, str | None]] = field(default_factory=list)  # filename, mime
    embedded: list[EmbeddedFile] = field(default_factory=list)
    all_vat_ids: list[str] = field(default_factory=list)
    endpoint_schemes: list[str] = field(default_factory=list)
    empty_elements: list[str] = field(default_factory=list)
    mandate_id: bool = False
    incomplete_tax_schemes: int = 0
    subject_codes: list[str] = field(default_factory=list)
    structure: list[str] = field(default_factory=list)  # syntax-binding rule ids (CII-DT-*, UBL-SR-*)
    bad_dates: int = 0
    scheme_ids: list[tuple[str, str]] = field(default_factory=list)  # (rule id, ICD scheme)
    # business terms only the content model reads
    project_reference: str | None = None  # BT-11
    contract_reference: str | None = None  # BT-12
    order_reference: str | None = None  # BT-13
    buyer_accounting_reference: str | None = None  # BT-19
    preceding_date: str | None = None  # BT-26
    remittance: str | None = None  # BT-83
    creditor_id: str | None = None  # BT-90
    mandate_reference: str | None = None  # BT-89
    documents: list[EmbeddedFile] = field(default_factory=list)  # BG-24, with or without a binary object
