"""The invoice *content model*: what a parsed EN 16931 invoice looks like as JSON.

This is the wire contract of the sandbox's ``/import/outgoing/{id}/content*`` routes
(``../shared/API.md``, "Outgoing imports and content").  Every dict is JSON-ready:

* keys are camelCase EN 16931 names;
* amounts, quantities and rates are **decimal strings** (``"288.79"``, ``"1"``, ``"19"``), never floats;
  amounts keep at least two decimals, quantities and rates are written without trailing zeros;
* dates are ``YYYYMMDD`` strings;
* every key is always present; a key with no value in the document is ``null`` (``None``), and lists with
  nothing in them are ``[]``.

Shape::

    {
      "invoiceNumber", "issueDate", "dueDate", "invoiceTypeCode", "currency",
      "buyerReference", "note", "precedingInvoiceNumber",
      "specificationId", "projectReference", "contractReference", "purchaseOrderReference",
      "buyerAccountingReference", "precedingInvoiceDate", "remittanceInformation", "taxCurrency",
      "seller": Party, "buyer": Party,
      "delivery": {"name", "street", "postcode", "city", "country", "date"},
      "invoicingPeriod": Period,
      "lineItems": [{"lineId", "name", "description", "quantity", "unitCode",
                     "netPrice", "netAmount", "vatCategory", "vatRate",
                     "productId", "grossPrice", "priceDiscount", "priceBaseQuantity",
                     "priceBaseQuantityUnitCode", "invoicingPeriod": Period,
                     "allowances": [AllowanceCharge], "charges": [AllowanceCharge]}],
      "allowances": [AllowanceCharge], "charges": [AllowanceCharge],
      "taxes": [{"category", "rate", "basisAmount", "taxAmount",
                 "exemptionReason", "exemptionReasonCode"}],
      "totals": {"lineTotal", "allowanceTotal", "chargeTotal", "taxBasisTotal", "taxTotal",
                 "taxTotalInTaxCurrency", "grandTotal", "paidAmount", "roundingAmount", "duePayable"},
      "paymentTerms": {"description", "dueDate"},
      "paymentMeans": [{"typeCode", "information", "iban", "bic", "accountName"}],
      "directDebit": {"mandateReference", "creditorId", "debitedAccount"},
      "attachments": [{"id", "description", "fileName", "mimeCode", "uri"}]
    }

    Party = {"name", "vatId", "taxId", "legalRegistrationId", "street", "postcode", "city", "country",
             "contactName", "phone", "email", "electronicAddress", "electronicAddressScheme"}
    Period = {"startDate", "endDate"}
    AllowanceCharge = {"amount", "baseAmount", "percentage", "reason", "reasonCode", "categoryCode", "rate"}

Field meanings (EN 16931 business terms): invoiceNumber BT-1, issueDate BT-2, invoiceTypeCode BT-3,
currency BT-5, dueDate BT-9, buyerReference BT-10, note BT-22 (several notes joined by a newline),
precedingInvoiceNumber BT-25, seller BG-4 (name BT-27, vatId BT-31, taxId BT-32, street BT-35,
postcode BT-38, city BT-37, country BT-40, contactName BT-41, phone BT-42, email BT-43,
electronicAddress BT-34 with its scheme), buyer BG-7 (the same terms for the buyer), delivery BG-13
(name BT-70, address BG-15, date BT-72), lineItems BG-25 (lineId BT-126, name BT-153, description BT-154,
quantity BT-129, unitCode BT-130, netPrice BT-146, netAmount BT-131, vatCategory BT-151, vatRate BT-152),
taxes BG-23, totals BG-22 (BT-106 .. BT-115), paymentTerms BT-20 (several joined by a newline),
paymentMeans BG-16 (typeCode BT-81, information BT-82, iban BT-84, bic BT-86, accountName BT-85);
specificationId BT-24, projectReference BT-11, contractReference BT-12, purchaseOrderReference BT-13,
buyerAccountingReference BT-19, precedingInvoiceDate BT-26, remittanceInformation BT-83, taxCurrency BT-6,
legalRegistrationId BT-30/BT-47, invoicingPeriod BG-14 (BT-73, BT-74) and per line BG-26 (BT-134, BT-135),
allowances BG-20 (BT-92 .. BT-98) and charges BG-21 (BT-99 .. BT-105), per line BG-27 (BT-136 .. BT-140)
and BG-28 (BT-141 .. BT-145), productId BT-155, grossPrice BT-148, priceDiscount BT-147,
priceBaseQuantity BT-149 with its unit BT-150 (netPrice is per that quantity), taxTotalInTaxCurrency
BT-111, directDebit BG-19 (BT-89, BT-90, BT-91), attachments BG-24 (BT-122 .. BT-125; the files themselves
are served by the attachment routes).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from .document import AllowanceCharge, Document, Party, ymd

__all__ = [
    "DELIVERY_KEYS",
    "LINE_KEYS",
    "PARTY_KEYS",
    "PAYMENT_MEANS_KEYS",
    "TAX_KEYS",
    "TOP_LEVEL_KEYS",
    "TOTALS_KEYS",
    "empty_content",
    "fmt_amount",
    "fmt_number",
    "from_document",
    "summarize",
]

PARTY_KEYS: Final = (
    "name",
    "vatId",
    "taxId",
    "legalRegistrationId",
    "street",
    "postcode",
    "city",
    "country",
    "contactName",
    "phone",
    "email",
    "electronicAddress",
    "electronicAddressScheme",
)
DELIVERY_KEYS: Final = ("name", "street", "postcode", "city", "country", "date")
LINE_KEYS: Final = (
    "lineId",
    "name",
    "description",
    "quantity",
    "unitCode",
    "netPrice",
    "netAmount",
    "vatCategory",
    "vatRate",
    "productId",
    "grossPrice",
    "priceDiscount",
    "priceBaseQuantity",
    "priceBaseQuantityUnitCode",
    "invoicingPeriod",
    "allowances",
    "charges",
)
PERIOD_KEYS: Final = ("startDate", "endDate")
ALLOWANCE_CHARGE_KEYS: Final = (
    "amount",
    "baseAmount",
    "percentage",
    "reason",
    "reasonCode",
    "categoryCode",
    "rate",
)
DIRECT_DEBIT_KEYS: Final = ("mandateReference", "creditorId", "debitedAccount")
ATTACHMENT_KEYS: Final = ("id", "description", "fileName", "mimeCode", "uri")
TAX_KEYS: Final = ("category", "rate", "basisAmount", "taxAmount", "exemptionReason", "exemptionReasonCode")
TOTALS_KEYS: Final = (
    "lineTotal",
    "allowanceTotal",
    "chargeTotal",
    "taxBasisTotal",
    "taxTotal",
    "taxTotalInTaxCurrency",
    "grandTotal",
    "paidAmount",
    "roundingAmount",
    "duePayable",
)
PAYMENT_TERMS_KEYS: Final = ("description", "dueDate")
PAYMENT_MEANS_KEYS: Final = ("typeCode", "information", "iban", "bic", "accountName")
TOP_LEVEL_KEYS: Final = (
    "invoiceNumber",
    "issueDate",
    "dueDate",
    "invoiceTypeCode",
    "currency",
    "buyerReference",
    "note",
    "precedingInvoiceNumber",
    "specificationId",
    "projectReference",
    "contractReference",
    "purchaseOrderReference",
    "buyerAccountingReference",
    "precedingInvoiceDate",
    "remittanceInformation",
    "taxCurrency",
    "seller",
    "buyer",
    "delivery",
    "invoicingPeriod",
    "lineItems",
    "allowances",
    "charges",
    "taxes",
    "totals",
    "paymentTerms",
    "paymentMeans",
    "directDebit",
    "attachments",
)
_LIST_KEYS: Final = frozenset({"lineItems", "allowances", "charges", "taxes", "paymentMeans", "attachments"})


def keyed(keys: tuple[str, ...], values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A dict with exactly ``keys``, taking values from ``values`` and ``None`` for the rest."""
    source = values or {}
    return {key: source.get(key) for key in keys}


def empty_content() -> dict[str, Any]:
    """A content dict with every key present and no values."""
    nested = {
        "seller": PARTY_KEYS,
        "buyer": PARTY_KEYS,
        "delivery": DELIVERY_KEYS,
        "invoicingPeriod": PERIOD_KEYS,
        "totals": TOTALS_KEYS,
        "paymentTerms": PAYMENT_TERMS_KEYS,
        "directDebit": DIRECT_DEBIT_KEYS,
    }
    return {
        key: [] if key in _LIST_KEYS else keyed(nested[key]) if key in nested else None
        for key in TOP_LEVEL_KEYS
    }


def summarize(content: Mapping[str, Any], syntax: str) -> dict[str, Any]:
    """The key attributes (``/content/summary``) of a content dict."""
    seller = content.get("seller") or {}
    buyer = content.get("buyer") or {}
    totals = content.get("totals") or {}
    return {
        "invoiceNumber": content.get("invoiceNumber"),
        "issueDate": content.get("issueDate"),
        "dueDate": content.get("dueDate"),
        "invoiceTypeCode": content.get("invoiceTypeCode"),
        "currency": content.get("currency"),
        "sellerName": seller.get("name"),
        "buyerName": buyer.get("name"),
        "netTotal": totals.get("taxBasisTotal"),
        "taxTotal": totals.get("taxTotal"),
        "grandTotal": totals.get("grandTotal"),
        "duePayable": totals.get("duePayable"),
        "lineCount": len(content.get("lineItems") or []),
        "syntax": syntax,
    }


# ------------------------------------------------------------------------------- from a Document


def _decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def fmt_number(value: str | None) -> str | None:
    """A quantity or rate as a plain decimal string without trailing zeros; unreadable text as is."""
    number = _decimal(value)
    if number is None:
        return value
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def fmt_amount(value: str | None) -> str | None:
    """An amount as a plain decimal string with at least two decimals; unreadable text as is."""
    number = _decimal(value)
    if number is None:
        return value
    text = format(number.normalize(), "f")
    if "." not in text:
        return f"{text}.00"
    whole, frac = text.split(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _party(party: Party) -> dict[str, Any]:
    if not party.present:
        return keyed(PARTY_KEYS)
    return {
        "name": party.name or party.trading_name,
        "vatId": party.vat_id,
        "taxId": party.tax_id,
        "legalRegistrationId": party.legal_registration_id,
        "street": party.street,
        "postcode": party.postcode,
        "city": party.city,
        "country": party.country,
        "contactName": party.contact_name,
        "phone": party.phone,
        "email": party.email,
        "electronicAddress": party.electronic_address,
        "electronicAddressScheme": party.electronic_address_scheme,
    }


def _tax_total(doc: Document) -> str | None:
    """BT-110: the VAT total in the invoice currency (else the one without currency, else the first)."""
    nodes = doc.tax_total_texts
    for currency, value in nodes:
        if doc.currency is not None and currency == doc.currency:
            return fmt_amount(value)
    without = [value for currency, value in nodes if currency is None]
    if without or nodes:
        return fmt_amount((without or [nodes[0][1]])[0])
    return None


def _period(start: str | None, end: str | None, syntax: str) -> dict[str, Any]:
    return {"startDate": ymd(start, syntax), "endDate": ymd(end, syntax)}


def _allowance_charge(ac: AllowanceCharge, document_level: bool) -> dict[str, Any]:
    return {
        "amount": fmt_amount(ac.amount_text),
        "baseAmount": fmt_amount(ac.base_text),
        "percentage": fmt_number(ac.percent_text),
        "reason": ac.reason_text,
        "reasonCode": ac.reason_code,
        "categoryCode": ac.category if document_level else None,
        "rate": fmt_number(ac.rate_text) if document_level else None,
    }


def _split(acs: list[AllowanceCharge], document_level: bool) -> tuple[list[Any], list[Any]]:
    allowances = [_allowance_charge(ac, document_level) for ac in acs if ac.charge is False]
    charges = [_allowance_charge(ac, document_level) for ac in acs if ac.charge is True]
    return allowances, charges


def _lines(doc: Document) -> list[dict[str, Any]]:
    out = []
    for line in doc.lines:
        allowances, charges = _split(line.acs, False)
        out.append(
            {
                "lineId": line.line_id,
                "name": line.name,
                "description": line.description,
                "quantity": fmt_number(line.qty_text),
                "unitCode": line.unit,
                "netPrice": fmt_amount(line.price_text),
                "netAmount": fmt_amount(line.net_text),
                "vatCategory": line.category,
                "vatRate": fmt_number(line.rate_text),
                "productId": line.seller_item_id,
                "grossPrice": fmt_amount(line.gross_text),
                "priceDiscount": fmt_amount(line.price_discount_text),
                "priceBaseQuantity": fmt_number(line.base_qty_text),
                "priceBaseQuantityUnitCode": line.base_qty_unit,
                "invoicingPeriod": _period(line.period_start, line.period_end, doc.syntax),
                "allowances": allowances,
                "charges": charges,
            }
        )
    return out


def _tax_currency_total(doc: Document) -> str | None:
    """BT-111: the VAT total in the accounting currency (BT-6), when one is given."""
    if doc.tax_currency is None or doc.tax_currency == doc.currency:
        return None
    for currency, value in doc.tax_total_texts:
        if currency == doc.tax_currency:
            return fmt_amount(value)
    return None


def _references(doc: Document) -> dict[str, Any]:
    return {
        "specificationId": doc.spec_id,
        "projectReference": doc.project_reference,
        "contractReference": doc.contract_reference,
        "purchaseOrderReference": doc.order_reference,
        "buyerAccountingReference": doc.buyer_accounting_reference,
        "precedingInvoiceDate": ymd(doc.preceding_date, doc.syntax),
        "remittanceInformation": doc.remittance,
        "taxCurrency": doc.tax_currency,
    }


def _direct_debit(doc: Document) -> dict[str, Any]:
    debited = next((pm.debited_account for pm in doc.payment_means if pm.debited_account), None)
    return {
        "mandateReference": doc.mandate_reference,
        "creditorId": doc.creditor_id,
        "debitedAccount": debited,
    }


def _attachments(doc: Document) -> list[dict[str, Any]]:
    return [
        {
            "id": item.reference,
            "description": item.description,
            "fileName": item.filename,
            "mimeCode": item.mime_code,
            "uri": item.uri,
        }
        for item in doc.documents
    ]


def from_document(doc: Document) -> dict[str, Any]:
    """The content model of a read invoice (see the module docstring for its shape)."""
    sums = doc.sum_texts
    allowances, charges = _split(doc.acs, True)
    content = {
        "invoiceNumber": doc.number,
        "issueDate": ymd(doc.issue_date, doc.syntax),
        "dueDate": ymd(doc.due_date, doc.syntax),
        "invoiceTypeCode": doc.type_code,
        "currency": doc.currency,
        "buyerReference": doc.buyer_reference,
        "note": doc.note,
        "precedingInvoiceNumber": doc.preceding_number,
        **_references(doc),
        "seller": _party(doc.seller),
        "buyer": _party(doc.buyer),
        "delivery": {
            "name": doc.ship_to_name,
            "street": doc.ship_to_street,
            "postcode": doc.ship_to_postcode,
            "city": doc.ship_to_city,
            "country": doc.ship_to_country,
            "date": ymd(doc.delivery_date, doc.syntax),
        },
        "invoicingPeriod": _period(doc.period_start, doc.period_end, doc.syntax),
        "lineItems": _lines(doc),
        "allowances": allowances,
        "charges": charges,
        "taxes": [
            {
                "category": tax.category,
                "rate": fmt_number(tax.rate_text),
                "basisAmount": fmt_amount(tax.basis_text),
                "taxAmount": fmt_amount(tax.amount_text),
                "exemptionReason": tax.exemption_reason,
                "exemptionReasonCode": tax.exemption_code,
            }
            for tax in doc.taxes
        ],
        "totals": {
            "lineTotal": fmt_amount(sums.get("line")),
            "allowanceTotal": fmt_amount(sums.get("allowance")),
            "chargeTotal": fmt_amount(sums.get("charge")),
            "taxBasisTotal": fmt_amount(sums.get("basis")),
            "taxTotal": _tax_total(doc),
            "taxTotalInTaxCurrency": _tax_currency_total(doc),
            "grandTotal": fmt_amount(sums.get("grand")),
            "paidAmount": fmt_amount(sums.get("prepaid")),
            "roundingAmount": fmt_amount(sums.get("rounding")),
            "duePayable": fmt_amount(sums.get("due")),
        },
        "paymentTerms": {"description": doc.terms_description, "dueDate": ymd(doc.due_date, doc.syntax)},
        "paymentMeans": [
            {
                "typeCode": pm.code,
                "information": pm.information,
                "iban": pm.iban,
                "bic": pm.bic,
                "accountName": pm.account_name,
            }
            for pm in doc.payment_means
        ],
    }
    content["directDebit"] = _direct_debit(doc)
    content["attachments"] = _attachments(doc)
    return content
