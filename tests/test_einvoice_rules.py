"""Pre-flight rules: broken payloads give the official rule id at the JSON path, and agree with Schematron."""

# ruff: noqa: E501  (the CASES table keeps one case per line)

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from faktoora_async.einvoice.cii import render_cii
from faktoora_async.einvoice.generate import generate_invoice, generate_invoices
from faktoora_async.einvoice.rules import Violation, check_invoice, check_invoices
from faktoora_async.einvoice.ubl import render_ubl

Mutator = Callable[[dict[str, Any]], None]

_BASES: dict[str, dict[str, Any]] = {
    "S": generate_invoice(1, seed=42, lines=3, categories=["S"], type_code="380", format="xrechnung"),
    "E": generate_invoice(2, seed=42, lines=2, categories=["E"], type_code="380"),
    "Z": generate_invoice(3, seed=42, lines=2, categories=["Z"], type_code="380"),
    "AE": generate_invoice(4, seed=42, lines=2, categories=["AE"], type_code="380"),
    "K": generate_invoice(5, seed=42, lines=2, categories=["K"], type_code="380"),
    "G": generate_invoice(6, seed=42, lines=2, categories=["G"], type_code="380"),
    "O": generate_invoice(7, seed=42, lines=2, categories=["O"], type_code="380"),
}


def _with_terms(invoice: dict[str, Any]) -> dict[str, Any]:
    """A valid invoice carrying every extended term (issue 13), for the broken-payload cases below."""
    out = copy.deepcopy(invoice)
    rate = str(out["invoiceItems"][0]["product"]["taxes"][0]["rate"])
    year, month = out["issueDate"][:4], out["issueDate"][4:6]
    out.update(
        projectReference="PRJ-1",
        contractReference="V-2025-1",
        purchaseOrderReference="PO-1",
        buyerAccountingReference="4711-100",
        precedingInvoiceNumber="RE-0",
        precedingInvoiceDate=f"{year}{month}01",
        remittanceInformation=out["invoiceNumber"],
        invoicingPeriod={"startDate": f"{year}{month}01", "endDate": f"{year}{month}28"},
        allowances=[
            {"amount": "10.00", "reason": "Rabatt", "reasonCode": "95", "categoryCode": "S", "rate": rate}
        ],
        charges=[
            {
                "baseAmount": "100.00",
                "percentage": "2",
                "reason": "Fracht",
                "reasonCode": "FC",
                "categoryCode": "S",
                "rate": rate,
            }
        ],
        prepaidAmount="5.00",
        roundingAmount="0.01",
        attachments=[
            {
                "id": "A1",
                "description": "Nachweis",
                "fileName": "a.csv",
                "mimeCode": "text/csv",
                "content": "YTtiCjE7Mgo=",
            },
            {"id": "A2", "description": "Lieferschein", "uri": "https://example.com/lieferschein/1"},
        ],
    )
    for key in ("directDebit", "taxCurrency", "taxTotalInTaxCurrency"):
        out.pop(key, None)
    out["paymentMeansCode"] = "58"
    item = out["invoiceItems"][0]
    item["allowances"] = [{"amount": "1.00", "reason": "Mengenrabatt", "reasonCode": "95"}]
    item["charges"] = [{"baseAmount": "10.00", "percentage": "1", "reason": "Verpackung", "reasonCode": "PC"}]
    item["invoicingPeriod"] = {"startDate": f"{year}{month}02", "endDate": f"{year}{month}20"}
    product = item["product"]
    product.update(unitCode="H87", priceBaseQuantity="10", priceBaseQuantityUnitCode="H87")
    product["grossPrice"] = str(Decimal(str(product["price"])) + Decimal("0.50"))
    product["priceDiscount"] = "0.50"
    return out


_BASES["X"] = _with_terms(
    generate_invoice(1, seed=42, lines=3, categories=["S"], type_code="380", terms=False)
)
_DEBIT = {
    "mandateReference": "M-1",
    "creditorId": "DE98ZZZ09999999999",
    "debitedAccount": "DE02120300000000202051",
}


def _set(path: str, value: Any) -> Mutator:
    def mutate(inv: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = inv
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return mutate


_DELETE = object()


def _delete(*paths: str) -> Mutator:
    def mutate(inv: dict[str, Any]) -> None:
        for path in paths:
            _set(path, _DELETE)(inv)

    return mutate


def _all(*mutators: Mutator) -> Mutator:
    def mutate(inv: dict[str, Any]) -> None:
        for m in mutators:
            m(inv)

    return mutate


TAX0 = "invoiceItems.0.product.taxes.0"
P = "invoices[0]"
TP = f"{P}.invoiceItems[0].product.taxes[0]"

# (case id, base category, mutation, expected rule id, expected path)
CASES: list[tuple[str, str, Mutator, str, str]] = [
    ("empty-number", "S", _set("invoiceNumber", ""), "BR-02", f"{P}.invoiceNumber"),
    ("blank-number", "S", _set("invoiceNumber", "  "), "BR-02", f"{P}.invoiceNumber"),
    ("no-issue-date", "S", _delete("issueDate"), "BR-03", f"{P}.issueDate"),
    ("bad-issue-date", "S", _set("issueDate", "20251345"), "FAKTOORA-DATE", f"{P}.issueDate"),
    ("iso-issue-date", "S", _set("issueDate", "2025-01-01"), "FAKTOORA-DATE", f"{P}.issueDate"),
    ("bad-due-date", "S", _set("dueDate", "20250230"), "FAKTOORA-DATE", f"{P}.dueDate"),
    ("bad-type-code", "S", _set("invoiceTypeCode", "999"), "BR-CL-01", f"{P}.invoiceTypeCode"),
    ("bad-currency", "S", _set("currency", "EURO"), "BR-CL-04", f"{P}.currency"),
    ("lower-currency", "S", _set("currency", "eur"), "BR-CL-04", f"{P}.currency"),
    ("no-buyer-reference", "S", _delete("buyerReference"), "BR-DE-15", f"{P}.buyerReference"),
    ("no-seller-name", "S", _delete("seller.name"), "BR-06", f"{P}.seller.name"),
    ("no-buyer-name", "S", _set("buyer.name", ""), "BR-07", f"{P}.buyer.name"),
    ("no-seller-country", "S", _delete("seller.country"), "BR-09", f"{P}.seller.country"),
    ("no-buyer-country", "S", _delete("buyer.country"), "BR-11", f"{P}.buyer.country"),
    ("seller-country-name", "S", _set("seller.country", "Germany"), "BR-CL-14", f"{P}.seller.country"),
    ("buyer-country-xx", "S", _set("buyer.country", "XX"), "BR-CL-14", f"{P}.buyer.country"),
    ("no-lines", "S", _set("invoiceItems", []), "BR-16", f"{P}.invoiceItems"),
    ("no-item-name", "S", _delete("invoiceItems.1.product.name"), "BR-25", f"{P}.invoiceItems[1].product.name"),
    ("no-quantity", "S", _delete("invoiceItems.2.product.quantity"), "BR-22", f"{P}.invoiceItems[2].product.quantity"),
    ("comma-quantity", "S", _set("invoiceItems.0.product.quantity", "1,5"), "FAKTOORA-DECIMAL",
     f"{P}.invoiceItems[0].product.quantity"),
    ("negative-price", "S", _set("invoiceItems.1.product.price", "-5.00"), "BR-27", f"{P}.invoiceItems[1].product.price"),
    ("no-price", "S", _delete("invoiceItems.0.product.price"), "BR-26", f"{P}.invoiceItems[0].product.price"),
    ("bad-unit", "S", _set("invoiceItems.2.product.unitCode", "Stück"), "BR-CL-23",
     f"{P}.invoiceItems[2].product.unitCode"),
    ("no-taxes", "S", _set("invoiceItems.0.product.taxes", []), "BR-CO-04", f"{P}.invoiceItems[0].product.taxes"),
    ("bad-category", "S", _set(f"{TAX0}.categoryCode", "X"), "BR-CL-18", f"{TP}.categoryCode"),
    ("s-rate-zero", "S", _set(f"{TAX0}.rate", "0"), "BR-S-05", f"{TP}.rate"),
    ("s-rate-negative", "S", _set(f"{TAX0}.rate", -19), "BR-S-05", f"{TP}.rate"),
    ("s-with-reason", "S", _set(f"{TAX0}.exemptionReason", "steuerfrei"), "BR-S-10", f"{TP}.exemptionReason"),
    ("z-rate-7", "Z", _set(f"{TAX0}.rate", "7"), "BR-Z-05", f"{TP}.rate"),
    ("z-with-code", "Z", _set(f"{TAX0}.exemptionReasonCode", "VATEX-EU-132"), "BR-Z-10", f"{TP}.exemptionReason"),
    ("e-rate-19", "E", _set(f"{TAX0}.rate", 19), "BR-E-05", f"{TP}.rate"),
    ("e-no-reason", "E", _all(*[_delete(f"invoiceItems.{i}.product.taxes.0.exemptionReason") for i in (0, 1)],
     *[_set(f"invoiceItems.{i}.product.taxes.0.exemptionReasonCode", None) for i in (0, 1)]),
     "BR-E-10", f"{TP}.exemptionReason"),
    ("bad-vatex", "E", _set(f"{TAX0}.exemptionReasonCode", "VATEX-DE-4"), "BR-CL-22", f"{TP}.exemptionReasonCode"),
    ("ae-no-buyer-vat", "AE", _delete("buyer.vatId"), "BR-AE-02", f"{P}.buyer.vatId"),
    ("ae-no-reason", "AE", _all(*[_delete(f"invoiceItems.{i}.product.taxes.0.exemptionReason",
     f"invoiceItems.{i}.product.taxes.0.exemptionReasonCode") for i in (0, 1)]), "BR-AE-10", f"{TP}.exemptionReason"),
    ("ae-rate-19", "AE", _set(f"{TAX0}.rate", "19"), "BR-AE-05", f"{TP}.rate"),
    ("k-no-delivery-date", "K", _delete("deliveryDate"), "BR-IC-11", f"{P}.deliveryDate"),
    ("k-no-ship-to", "K", _delete("shipTo"), "BR-IC-12", f"{P}.shipTo.country"),
    ("k-no-buyer-vat", "K", _delete("buyer.vatId"), "BR-IC-02", f"{P}.buyer.vatId"),
    ("k-rate-19", "K", _set(f"{TAX0}.rate", 19), "BR-IC-05", f"{TP}.rate"),
    ("g-no-seller-vat", "G", _delete("seller.vatId"), "BR-G-02", f"{P}.seller.vatId"),
    ("g-no-reason", "G", _all(*[_delete(f"invoiceItems.{i}.product.taxes.0.exemptionReason",
     f"invoiceItems.{i}.product.taxes.0.exemptionReasonCode") for i in (0, 1)]), "BR-G-10", f"{TP}.exemptionReason"),
    ("o-with-seller-vat", "O", _set("seller.vatId", "DE123456789"), "BR-O-02", f"{P}.seller.vatId"),
    ("o-with-buyer-vat", "O", _set("buyer.vatId", "DE987654321"), "BR-O-02", f"{P}.buyer.vatId"),
    ("o-rate-19", "O", _set(f"{TAX0}.rate", 19), "BR-O-05", f"{TP}.rate"),
    ("o-mixed-with-s", "O", _set("invoiceItems.1.product.taxes.0", {"typeCode": "VAT", "categoryCode": "S", "rate": 19}),
     "BR-O-12", f"{P}.invoiceItems[1].product.taxes[0].categoryCode"),
    ("o-no-reason", "O", _all(*[_delete(f"invoiceItems.{i}.product.taxes.0.exemptionReason",
     f"invoiceItems.{i}.product.taxes.0.exemptionReasonCode") for i in (0, 1)]), "BR-O-10", f"{TP}.exemptionReason"),
    ("l-rate-negative", "S", _set(f"{TAX0}", {"typeCode": "VAT", "categoryCode": "L", "rate": "-3"}), "BR-AF-05", f"{TP}.rate"),
    ("l-with-reason", "S", _set(f"{TAX0}", {"categoryCode": "L", "rate": 7, "exemptionReason": "IGIC"}), "BR-AF-10", f"{TP}.exemptionReason"),
    ("m-negative-rate", "S", _set(f"{TAX0}", {"categoryCode": "M", "rate": "-1"}), "BR-AG-05", f"{TP}.rate"),
    ("m-no-seller-ids", "S", _all(_set(f"{TAX0}", {"categoryCode": "M", "rate": "4"}), _delete("seller.vatId", "seller.taxId")), "BR-AG-02", f"{P}.seller.vatId"),
    ("b-not-italian", "S", _set(f"{TAX0}", {"categoryCode": "B", "rate": "22"}), "BR-B-01", f"{P}.seller.country"),
    ("b-with-s", "S", _set(f"{TAX0}", {"categoryCode": "B", "rate": "22"}), "BR-B-02", f"{P}.invoiceItems[1].product.taxes[0].categoryCode"),
    ("vat-id-no-prefix", "S", _set("seller.vatId", "123456789"), "BR-CO-09", f"{P}.seller.vatId"),
    ("buyer-vat-lower", "S", _set("buyer.vatId", "de123456789"), "BR-CO-09", f"{P}.buyer.vatId"),
    ("s-no-seller-ids", "S", _delete("seller.vatId", "seller.taxId"), "BR-S-02", f"{P}.seller.vatId"),
    ("de16-no-seller-ids", "S", _delete("seller.vatId", "seller.taxId"), "BR-DE-16", f"{P}.seller.vatId"),
    ("co26-no-seller-id", "S", _all(_delete("seller.vatId"), _set("seller.taxId", "12/345/67890"),
     _set("seller.legalRegistrationId", None)), "BR-CO-26", f"{P}.seller.vatId"),
    ("no-seller-city", "S", _delete("seller.city"), "BR-DE-3", f"{P}.seller.city"),
    ("no-seller-postcode", "S", _delete("seller.postcode"), "BR-DE-4", f"{P}.seller.postcode"),
    ("no-seller-contact", "S", _delete("seller.contactName", "seller.phone", "seller.email"), "BR-DE-2",
     f"{P}.seller.contactName"),
    ("no-contact-name", "S", _delete("seller.contactName"), "BR-DE-5", f"{P}.seller.contactName"),
    ("no-seller-phone", "S", _delete("seller.phone"), "BR-DE-6", f"{P}.seller.phone"),
    ("no-seller-email", "S", _set("seller.email", ""), "BR-DE-7", f"{P}.seller.email"),
    ("no-buyer-city", "S", _delete("buyer.city"), "BR-DE-8", f"{P}.buyer.city"),
    ("no-buyer-postcode", "S", _delete("buyer.postcode"), "BR-DE-9", f"{P}.buyer.postcode"),
    ("ship-to-no-city", "K", _delete("shipTo.city"), "BR-DE-10", f"{P}.shipTo.city"),
    ("ship-to-no-postcode", "K", _delete("shipTo.postcode"), "BR-DE-11", f"{P}.shipTo.postcode"),
    ("ship-to-no-country", "S", _set("shipTo", {"name": "Lager", "city": "Köln", "postcode": "50667"}), "BR-57",
     f"{P}.shipTo.country"),
    ("no-seller-endpoint", "S", _delete("seller.electronicAddress"), "PEPPOL-EN16931-R020",
     f"{P}.seller.electronicAddress"),
    ("no-buyer-endpoint", "S", _delete("buyer.electronicAddress"), "PEPPOL-EN16931-R010",
     f"{P}.buyer.electronicAddress"),
    ("seller-endpoint-no-scheme", "S", _all(_set("seller.electronicAddress", "991-12345-67"),
     _delete("seller.electronicAddressScheme")), "BR-62", f"{P}.seller.electronicAddressScheme"),
    ("buyer-endpoint-no-scheme", "S", _all(_set("buyer.electronicAddress", "04011000-12345-03"),
     _delete("buyer.electronicAddressScheme")), "BR-63", f"{P}.buyer.electronicAddressScheme"),
    ("bad-eas", "S", _set("buyer.electronicAddressScheme", "MAIL"), "BR-CL-25", f"{P}.buyer.electronicAddressScheme"),
    ("sepa-no-iban", "S", _all(_set("paymentMeansCode", "58"), _delete("seller.iban")), "CII-SR-470",
     f"{P}.seller.iban"),
    ("sepa-no-iban-ubl", "S", _all(_set("schema", "UBL"), _delete("seller.iban")), "BR-61",
     f"{P}.seller.iban"),
    ("sepa-no-iban-de", "S", _all(_set("paymentMeansCode", "30"), _delete("seller.iban")), "BR-DE-23-a",
     f"{P}.seller.iban"),
    ("bad-payment-means", "S", _set("paymentMeansCode", "999"), "BR-CL-16", f"{P}.paymentMeansCode"),
    ("card-payment", "S", _set("paymentMeansCode", "48"), "BR-DE-24-a", f"{P}.paymentMeansCode"),
    ("direct-debit", "S", _set("paymentMeansCode", 59), "BR-DE-25-a", f"{P}.directDebit"),
    ("bad-skonto", "S", _set("paymentTerms", "#SKONTO#TAGE=7#PROZENT=2#\n"), "BR-DE-18", f"{P}.paymentTerms"),
    ("skonto-no-newline", "S", _set("paymentTerms", "#SKONTO#TAGE=7#PROZENT=2.00#"), "BR-DE-18", f"{P}.paymentTerms"),
    ("seller-list", "S", _set("seller", ["Müller GmbH"]), "FAKTOORA-TYPE", f"{P}.seller"),
    ("items-string", "S", _set("invoiceItems", "abc"), "FAKTOORA-TYPE", f"{P}.invoiceItems"),
    ("item-null", "S", _set("invoiceItems.1", None), "FAKTOORA-TYPE", f"{P}.invoiceItems[1]"),
    ("bool-quantity", "S", _set("invoiceItems.0.product.quantity", True), "FAKTOORA-DECIMAL",
     f"{P}.invoiceItems[0].product.quantity"),
    ("name-number", "S", _set("buyer.name", {"de": "x"}), "FAKTOORA-TYPE", f"{P}.buyer.name"),
    ("draft-string", "S", _set("draftOnly", "yes"), "FAKTOORA-TYPE", f"{P}.draftOnly"),
    ("bad-format", "S", _set("format", "pdf"), "FAKTOORA-FORMAT", f"{P}.format"),
    # issue 13: every new term, broken as the official rules would reject it
    ("allowance-no-amount", "X", _delete("allowances.0.amount"), "BR-31", f"{P}.allowances[0].amount"),
    ("allowance-no-category", "X", _delete("allowances.0.categoryCode"), "BR-32", f"{P}.allowances[0].categoryCode"),
    ("allowance-no-reason", "X", _delete("allowances.0.reason", "allowances.0.reasonCode"), "BR-33", f"{P}.allowances[0].reason"),
    ("allowance-no-reason-co", "X", _delete("allowances.0.reason", "allowances.0.reasonCode"), "BR-CO-21", f"{P}.allowances[0].reason"),
    ("allowance-bad-reason-code", "X", _set("allowances.0.reasonCode", "ZZ"), "BR-CL-19", f"{P}.allowances[0].reasonCode"),
    ("allowance-percent-no-base", "X", _set("allowances.0.percentage", "2"), "PEPPOL-EN16931-R041", f"{P}.allowances[0].baseAmount"),
    ("allowance-base-no-percent", "X", _set("allowances.0.baseAmount", "500.00"), "PEPPOL-EN16931-R042", f"{P}.allowances[0].percentage"),
    ("allowance-s-zero-rate", "X", _set("allowances.0.rate", "0"), "BR-S-06", f"{P}.allowances[0].rate"),
    ("allowance-bad-category", "X", _set("allowances.0.categoryCode", "X"), "BR-CL-17", f"{P}.allowances[0].categoryCode"),
    ("allowance-seller-ids", "X", _delete("seller.vatId", "seller.taxId"), "BR-S-03", f"{P}.seller.vatId"),
    ("allowance-exempt-no-reason", "X", _all(_set("allowances.0.categoryCode", "E"), _set("allowances.0.rate", "0")),
     "BR-E-10", f"{P}.allowances[0].categoryCode"),
    ("allowance-o-with-s", "X", _all(_set("allowances.0.categoryCode", "O"), _delete("allowances.0.rate")), "BR-O-11",
     f"{P}.allowances[0].categoryCode"),
    ("allowance-s-in-o-invoice", "O", _set("allowances", [{"amount": "5", "reason": "R", "categoryCode": "S", "rate": "19"}]),
     "BR-O-13", f"{P}.allowances[0].categoryCode"),
    ("charge-no-amount", "X", _delete("charges.0.percentage"), "BR-36", f"{P}.charges[0].amount"),
    ("charge-no-category", "X", _delete("charges.0.categoryCode"), "BR-37", f"{P}.charges[0].categoryCode"),
    ("charge-no-reason", "X", _delete("charges.0.reason", "charges.0.reasonCode"), "BR-38", f"{P}.charges[0].reason"),
    ("charge-no-reason-co", "X", _delete("charges.0.reason", "charges.0.reasonCode"), "BR-CO-22", f"{P}.charges[0].reason"),
    ("charge-bad-reason-code", "X", _set("charges.0.reasonCode", "95"), "BR-CL-20", f"{P}.charges[0].reasonCode"),
    ("charge-s-zero-rate", "X", _set("charges.0.rate", "0"), "BR-S-07", f"{P}.charges[0].rate"),
    ("charge-seller-ids", "X", _all(_delete("seller.vatId", "seller.taxId", "allowances")), "BR-S-04", f"{P}.seller.vatId"),
    ("line-allowance-no-amount", "X", _delete("invoiceItems.0.allowances.0.amount"), "BR-41",
     f"{P}.invoiceItems[0].allowances[0].amount"),
    ("line-allowance-no-reason", "X", _delete("invoiceItems.0.allowances.0.reason", "invoiceItems.0.allowances.0.reasonCode"),
     "BR-42", f"{P}.invoiceItems[0].allowances[0].reason"),
    ("line-allowance-no-reason-co", "X", _delete("invoiceItems.0.allowances.0.reason", "invoiceItems.0.allowances.0.reasonCode"),
     "BR-CO-23", f"{P}.invoiceItems[0].allowances[0].reason"),
    ("line-allowance-bad-code", "X", _set("invoiceItems.0.allowances.0.reasonCode", "FC"), "BR-CL-19",
     f"{P}.invoiceItems[0].allowances[0].reasonCode"),
    ("line-charge-no-amount", "X", _delete("invoiceItems.0.charges.0.baseAmount"), "BR-43", f"{P}.invoiceItems[0].charges[0].amount"),
    ("line-charge-no-reason", "X", _delete("invoiceItems.0.charges.0.reason", "invoiceItems.0.charges.0.reasonCode"),
     "BR-44", f"{P}.invoiceItems[0].charges[0].reason"),
    ("line-charge-no-reason-co", "X", _delete("invoiceItems.0.charges.0.reason", "invoiceItems.0.charges.0.reasonCode"),
     "BR-CO-24", f"{P}.invoiceItems[0].charges[0].reason"),
    ("line-charge-percent-no-base", "X", _all(_delete("invoiceItems.0.charges.0.baseAmount"), _set("invoiceItems.0.charges.0.amount", "1.00")),
     "PEPPOL-EN16931-R041", f"{P}.invoiceItems[0].charges[0].baseAmount"),
    ("gross-price-negative", "X", _all(_set("invoiceItems.0.product.grossPrice", "-1"), _delete("invoiceItems.0.product.priceDiscount")),
     "BR-28", f"{P}.invoiceItems[0].product.grossPrice"),
    ("net-not-gross-minus-discount", "X", _set("invoiceItems.0.product.priceDiscount", "0.40"), "PEPPOL-EN16931-R046",
     f"{P}.invoiceItems[0].product.price"),
    ("base-quantity-zero", "X", _set("invoiceItems.0.product.priceBaseQuantity", "0"), "PEPPOL-EN16931-R121",
     f"{P}.invoiceItems[0].product.priceBaseQuantity"),
    ("base-quantity-unit", "X", _set("invoiceItems.0.product.priceBaseQuantityUnitCode", "KGM"), "PEPPOL-EN16931-R130",
     f"{P}.invoiceItems[0].product.priceBaseQuantityUnitCode"),
    ("base-quantity-unit-code", "X", _set("invoiceItems.0.product.priceBaseQuantityUnitCode", "??"), "BR-CL-23",
     f"{P}.invoiceItems[0].product.priceBaseQuantityUnitCode"),
    ("period-reversed", "X", _set("invoicingPeriod.endDate", "20200101"), "BR-29", f"{P}.invoicingPeriod.endDate"),
    ("period-empty", "X", _set("invoicingPeriod", {}), "BR-CO-19", f"{P}.invoicingPeriod"),
    ("period-bad-date", "X", _set("invoicingPeriod.startDate", "2025-01-01"), "FAKTOORA-DATE", f"{P}.invoicingPeriod.startDate"),
    ("line-period-reversed", "X", _set("invoiceItems.0.invoicingPeriod.endDate", "20200101"), "BR-30",
     f"{P}.invoiceItems[0].invoicingPeriod.endDate"),
    ("line-period-empty", "X", _set("invoiceItems.0.invoicingPeriod", {}), "BR-CO-20", f"{P}.invoiceItems[0].invoicingPeriod"),
    ("line-period-early", "X", _set("invoiceItems.0.invoicingPeriod.startDate", "20200101"), "PEPPOL-EN16931-R110",
     f"{P}.invoiceItems[0].invoicingPeriod.startDate"),
    ("line-period-late", "X", _set("invoiceItems.0.invoicingPeriod.endDate", "20991231"), "PEPPOL-EN16931-R111",
     f"{P}.invoiceItems[0].invoicingPeriod.endDate"),
    ("preceding-date-only", "X", _delete("precedingInvoiceNumber"), "BR-55", f"{P}.precedingInvoiceNumber"),
    ("preceding-date-bad", "X", _set("precedingInvoiceDate", "yesterday"), "FAKTOORA-DATE", f"{P}.precedingInvoiceDate"),
    ("debit-no-mandate", "X", _all(_set("paymentMeansCode", "59"), _set("directDebit", {k: v for k, v in _DEBIT.items() if k != "mandateReference"})),
     "PEPPOL-EN16931-R061", f"{P}.directDebit.mandateReference"),
    ("debit-no-creditor", "X", _all(_set("paymentMeansCode", "59"), _set("directDebit", {k: v for k, v in _DEBIT.items() if k != "creditorId"})),
     "BR-DE-30", f"{P}.directDebit.creditorId"),
    ("debit-no-account", "X", _all(_set("paymentMeansCode", "59"), _set("directDebit", {k: v for k, v in _DEBIT.items() if k != "debitedAccount"})),
     "BR-DE-31", f"{P}.directDebit.debitedAccount"),
    ("debit-with-transfer", "X", _set("directDebit", dict(_DEBIT)), "BR-DE-23-b", f"{P}.directDebit"),
    ("debit-not-object", "X", _set("directDebit", "M-1"), "FAKTOORA-TYPE", f"{P}.directDebit"),
    ("tax-currency-no-total", "X", _all(_set("currency", "USD"), _set("taxCurrency", "EUR")), "BR-53", f"{P}.taxTotalInTaxCurrency"),
    ("tax-currency-same", "X", _all(_set("taxCurrency", "EUR"), _set("taxTotalInTaxCurrency", "10.00")), "PEPPOL-EN16931-R005",
     f"{P}.taxCurrency"),
    ("tax-currency-bad", "X", _all(_set("currency", "USD"), _set("taxCurrency", "EURO"), _set("taxTotalInTaxCurrency", "1")),
     "BR-CL-05", f"{P}.taxCurrency"),
    ("tax-total-without-currency", "X", _set("taxTotalInTaxCurrency", "10.00"), "FAKTOORA-DEPENDENCY", f"{P}.taxTotalInTaxCurrency"),
    ("foreign-currency-no-eur-total", "X", _set("currency", "USD"), "FAKTOORA-TAX-CURRENCY", f"{P}.taxCurrency"),
    ("prepaid-not-a-number", "X", _set("prepaidAmount", "abc"), "FAKTOORA-DECIMAL", f"{P}.prepaidAmount"),
    ("rounding-not-a-number", "X", _set("roundingAmount", "0,01"), "FAKTOORA-DECIMAL", f"{P}.roundingAmount"),
    ("project-number", "X", _set("projectReference", 5), "FAKTOORA-TYPE", f"{P}.projectReference"),
    ("order-list", "X", _set("purchaseOrderReference", ["PO-1"]), "FAKTOORA-TYPE", f"{P}.purchaseOrderReference"),
    ("attachment-no-id", "X", _delete("attachments.0.id"), "BR-52", f"{P}.attachments[0].id"),
    ("attachment-bad-mime", "X", _set("attachments.0.mimeCode", "application/zip"), "BR-CL-24", f"{P}.attachments[0].mimeCode"),
    ("attachment-same-name", "X", _set("attachments.1", {"id": "A3", "fileName": "a.csv", "mimeCode": "text/csv", "content": "eA=="}),
     "BR-DE-22", f"{P}.attachments[1].fileName"),
    ("attachment-bad-base64", "X", _set("attachments.0.content", "not base64!"), "FAKTOORA-ATTACHMENT", f"{P}.attachments[0].content"),
    ("attachment-no-filename", "X", _delete("attachments.0.fileName"), "FAKTOORA-ATTACHMENT", f"{P}.attachments[0].fileName"),
    ("type-code-unknown", "X", _set("invoiceTypeCode", "999"), "BR-CL-01", f"{P}.invoiceTypeCode"),
    # BT-83 and the references: the sandbox's lengths (it answers 400 "must be at most 140 characters")
    ("remittance-too-long", "X", _set("remittanceInformation", "R" * 141), "FAKTOORA-LENGTH", f"{P}.remittanceInformation"),
    ("contract-too-long", "X", _set("contractReference", "V" * 201), "FAKTOORA-LENGTH", f"{P}.contractReference"),
    ("accounting-too-long", "X", _set("buyerAccountingReference", "K" * 201), "FAKTOORA-LENGTH", f"{P}.buyerAccountingReference"),
    # amounts with more than 2 decimals, which the renderers would round (BR-DEC; confirmed by XML_EDITS)
    ("prepaid-three-decimals", "X", _set("prepaidAmount", "5.001"), "BR-DEC-16", f"{P}.prepaidAmount"),
    ("rounding-three-decimals", "X", _set("roundingAmount", "0.011"), "BR-DEC-17", f"{P}.roundingAmount"),
    ("tax-total-three-decimals", "X", _all(_set("currency", "USD"), _set("taxCurrency", "EUR"), _set("taxTotalInTaxCurrency", "10.001")),
     "BR-DEC-15", f"{P}.taxTotalInTaxCurrency"),
    ("allowance-three-decimals", "X", _set("allowances.0.amount", "10.001"), "BR-DEC-01", f"{P}.allowances[0].amount"),
    ("charge-base-three-decimals", "X", _set("charges.0.baseAmount", "100.001"), "BR-DEC-06", f"{P}.charges[0].baseAmount"),
    ("line-allowance-three-decimals", "X", _set("invoiceItems.0.allowances.0.amount", "1.001"), "BR-DEC-24",
     f"{P}.invoiceItems[0].allowances[0].amount"),
    ("line-charge-base-three-decimals", "X", _set("invoiceItems.0.charges.0.baseAmount", "10.001"), "BR-DEC-28",
     f"{P}.invoiceItems[0].charges[0].baseAmount"),
    ("legacy-ubl-format", "S", _set("format", "xrechnung:ubl"), "FAKTOORA-FORMAT", f"{P}.format"),
    ("zugferd-1", "S", _set("format", "zf:1"), "FAKTOORA-FORMAT", f"{P}.format"),
    ("bad-schema", "S", _set("schema", "XML"), "FAKTOORA-FORMAT", f"{P}.schema"),
    ("lower-case-schema", "S", _set("schema", "ubl"), "FAKTOORA-FORMAT", f"{P}.schema"),
    ("ubl-in-zugferd", "S", _all(_set("format", "zf:2"), _set("schema", "UBL")), "FAKTOORA-FORMAT", f"{P}.schema"),
    ("schema-number", "S", _set("schema", 1), "FAKTOORA-TYPE", f"{P}.schema"),
]  # fmt: skip


def _broken(base: str, mutate: Mutator) -> dict[str, Any]:
    invoice = copy.deepcopy(_BASES[base])
    mutate(invoice)
    return invoice


def test_bases_are_valid() -> None:
    for name, invoice in _BASES.items():
        assert check_invoice(invoice) == [], name


@pytest.mark.parametrize(("case", "base", "mutate", "rule_id", "path"), CASES, ids=[c[0] for c in CASES])
def test_broken_payload_gives_rule_at_path(
    case: str, base: str, mutate: Mutator, rule_id: str, path: str
) -> None:
    violations = check_invoice(_broken(base, mutate))
    assert Violation(rule_id, path, _message(violations, rule_id, path)) in violations, violations
    assert all(v.path.startswith("invoices[0]") and v.message for v in violations)


def _message(violations: list[Violation], rule_id: str, path: str) -> str:
    for v in violations:
        if v.rule_id == rule_id and v.path == path:
            return v.message
    return "<missing>"


def test_enough_distinct_cases() -> None:
    assert len({(c[3], c[4]) for c in CASES}) >= 40
    assert len({c[3] for c in CASES if not c[3].startswith("FAKTOORA")}) >= 50


def _variants(invoice: dict[str, Any]) -> list[tuple[dict[str, Any], Callable[[Any], bytes]]]:
    """The payload as CII (format xrechnung, no schema) and as UBL (schema UBL), each with its renderer;
    a payload with an unknown format or schema is rendered in both syntaxes as it is."""
    if invoice.get("format") not in ("xrechnung", "zf:2") or invoice.get("schema") not in (
        None,
        "CII",
        "UBL",
    ):
        return [(invoice, render_cii), (invoice, render_ubl)]
    cii, ubl = copy.deepcopy(invoice), copy.deepcopy(invoice)
    cii["format"], ubl["format"] = "xrechnung", "xrechnung"
    cii.pop("schema", None)
    ubl["schema"] = "UBL"
    return [(cii, render_cii), (ubl, render_ubl)]


_CII_NS = {
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
_CA = "//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge[ram:ChargeIndicator/udt:Indicator='{}']"
_CL = "(//ram:IncludedSupplyChainTradeLineItem)[1]/ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeAllowanceCharge[ram:ChargeIndicator/udt:Indicator='{}']"
_UA = "/*/cac:AllowanceCharge[cbc:ChargeIndicator='{}']"
_UL = "(/*/cac:InvoiceLine)[1]/cac:AllowanceCharge[cbc:ChargeIndicator='{}']"
_CSUM = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
_REMOVE = None
# The documents the official rules must see for payloads the renderers cannot write as they are (they refuse
# them, or round the amount): case -> syntax -> (render the "base" or the "broken" payload, [(XPath, new text
# or _REMOVE)]).  The edited XML carries exactly the broken value; the official rules then judge it.
XML_EDITS: dict[str, dict[str, tuple[str, list[tuple[str, str | None]]]]] = {
    "allowance-no-amount": {"cii": ("base", [(_CA.format("false") + "/ram:ActualAmount", _REMOVE)]),
                            "ubl": ("base", [(_UA.format("false") + "/cbc:Amount", _REMOVE)])},
    "allowance-no-category": {"cii": ("base", [(_CA.format("false") + "/ram:CategoryTradeTax/ram:CategoryCode", _REMOVE)]),
                              "ubl": ("base", [(_UA.format("false") + "/cac:TaxCategory/cbc:ID", _REMOVE)])},
    "charge-no-amount": {"cii": ("base", [(_CA.format("true") + "/ram:ActualAmount", _REMOVE),
                                          (_CA.format("true") + "/ram:CalculationPercent", _REMOVE)]),
                         "ubl": ("base", [(_UA.format("true") + "/cbc:Amount", _REMOVE),
                                          (_UA.format("true") + "/cbc:MultiplierFactorNumeric", _REMOVE)])},
    "charge-no-category": {"cii": ("base", [(_CA.format("true") + "/ram:CategoryTradeTax/ram:CategoryCode", _REMOVE)]),
                           "ubl": ("base", [(_UA.format("true") + "/cac:TaxCategory/cbc:ID", _REMOVE)])},
    "line-allowance-no-amount": {"cii": ("base", [(_CL.format("false") + "/ram:ActualAmount", _REMOVE)]),
                                 "ubl": ("base", [(_UL.format("false") + "/cbc:Amount", _REMOVE)])},
    "line-charge-no-amount": {"cii": ("base", [(_CL.format("true") + "/ram:ActualAmount", _REMOVE),
                                               (_CL.format("true") + "/ram:BasisAmount", _REMOVE)]),
                              "ubl": ("base", [(_UL.format("true") + "/cbc:Amount", _REMOVE),
                                               (_UL.format("true") + "/cbc:BaseAmount", _REMOVE)])},
    "base-quantity-zero": {"cii": ("base", [("(//ram:IncludedSupplyChainTradeLineItem)[1]/ram:SpecifiedLineTradeAgreement/*/ram:BasisQuantity", "0")]),
                           "ubl": ("base", [("(/*/cac:InvoiceLine)[1]/cac:Price/cbc:BaseQuantity", "0")])},
    "no-quantity": {"cii": ("base", [("(//ram:IncludedSupplyChainTradeLineItem)[3]/ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", _REMOVE)]),
                    "ubl": ("base", [("(/*/cac:InvoiceLine)[3]/cbc:InvoicedQuantity", _REMOVE)])},
    "no-price": {"cii": ("base", [("(//ram:IncludedSupplyChainTradeLineItem)[1]/ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount", _REMOVE)]),
                 "ubl": ("base", [("(/*/cac:InvoiceLine)[1]/cac:Price/cbc:PriceAmount", _REMOVE)])},
    "no-taxes": {"cii": ("base", [("(//ram:IncludedSupplyChainTradeLineItem)[1]/ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax", _REMOVE)]),
                 "ubl": ("base", [("(/*/cac:InvoiceLine)[1]/cac:Item/cac:ClassifiedTaxCategory", _REMOVE)])},
    "preceding-date-only": {"ubl": ("base", [("/*/cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", _REMOVE)])},
    "prepaid-three-decimals": {"cii": ("broken", [(_CSUM + "/ram:TotalPrepaidAmount", "5.001")]),
                               "ubl": ("broken", [("/*/cac:LegalMonetaryTotal/cbc:PrepaidAmount", "5.001")])},
    "rounding-three-decimals": {"cii": ("broken", [(_CSUM + "/ram:RoundingAmount", "0.011")]),
                                "ubl": ("broken", [("/*/cac:LegalMonetaryTotal/cbc:PayableRoundingAmount", "0.011")])},
    "tax-total-three-decimals": {"cii": ("broken", [(_CSUM + "/ram:TaxTotalAmount[@currencyID='EUR']", "10.001")]),
                                 "ubl": ("broken", [("/*/cac:TaxTotal/cbc:TaxAmount[@currencyID='EUR']", "10.001")])},
    "allowance-three-decimals": {"cii": ("broken", [(_CA.format("false") + "/ram:ActualAmount", "10.001")]),
                                 "ubl": ("broken", [(_UA.format("false") + "/cbc:Amount", "10.001")])},
    "charge-base-three-decimals": {"cii": ("broken", [(_CA.format("true") + "/ram:BasisAmount", "100.001")]),
                                   "ubl": ("broken", [(_UA.format("true") + "/cbc:BaseAmount", "100.001")])},
    "line-allowance-three-decimals": {"cii": ("broken", [(_CL.format("false") + "/ram:ActualAmount", "1.001")]),
                                      "ubl": ("broken", [(_UL.format("false") + "/cbc:Amount", "1.001")])},
    "line-charge-base-three-decimals": {"cii": ("broken", [(_CL.format("true") + "/ram:BasisAmount", "10.001")]),
                                        "ubl": ("broken", [(_UL.format("true") + "/cbc:BaseAmount", "10.001")])},
}  # fmt: skip


def _edited_xml(xml: bytes, edits: list[tuple[str, str | None]]) -> bytes:
    """``xml`` with each XPath's elements removed (``_REMOVE``) or given a new text; each must match."""
    from lxml import etree

    root = etree.fromstring(xml)
    for xpath, value in edits:
        found = root.xpath(xpath, namespaces=_CII_NS)
        assert found, xpath
        for element in found:
            if value is _REMOVE:
                element.getparent().remove(element)
            else:
                element.text = value
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _official_document(
    case: str, base: str, invoice: dict[str, Any], render: Callable[[Any], bytes]
) -> bytes | None:
    """The XML the official rules judge for ``invoice``: the rendered payload, or, for a case in
    :data:`XML_EDITS`, the edited rendering (of the valid base or of the payload); None: not renderable."""
    syntax = "cii" if render is render_cii else "ubl"
    edit = XML_EDITS.get(case, {}).get(syntax)
    if edit is None:
        try:
            return render(invoice)
        except ValueError:
            return None
    source, edits = edit
    if source == "base":
        invoice = next(inv for inv, r in _variants(_BASES[base]) if r is render)
    return _edited_xml(render(invoice), edits)


def test_agrees_with_official_schematron(schematron_validator: Any) -> None:
    """For every broken payload, in both syntaxes: each official id we report is reported by the Schematron
    too, and the expected id of the case is reported by both in at least one syntax.  The Schematron judges
    the rendered payload; where the renderers refuse or round it, the XML edited to carry the broken value
    (:data:`XML_EDITS`). A case neither rendered nor edited is not confirmed (it used to count as confirmed)."""
    rendered = edited = 0
    confirmed_cases: list[str] = []
    problems: list[str] = []
    for case, base, mutate, rule_id, _path in CASES:
        confirmed = rule_id.startswith("FAKTOORA-")
        for invoice, render in _variants(_broken(base, mutate)):
            violations = check_invoice(invoice)
            ours = {v.rule_id for v in violations if not v.rule_id.startswith("FAKTOORA-")}
            xml = _official_document(case, base, invoice, render)
            if xml is None:
                continue  # not renderable and no XML edit: nothing the official rules could judge
            if case in XML_EDITS and ("cii" if render is render_cii else "ubl") in XML_EDITS[case]:
                edited += 1
            else:
                rendered += 1
            report = schematron_validator.validate_bytes(xml)  # type: ignore[attr-defined]
            official = {e["id"] for e in report["errors"]}
            where = f"{case}/{render.__name__}"
            if ours - official:
                problems.append(
                    f"{where}: we report {sorted(ours - official)}, Schematron only {sorted(official)}"
                )
            if not violations and official:
                problems.append(f"{where}: we report nothing, Schematron {sorted(official)}")
            confirmed |= rule_id in ours and rule_id in official
            if rule_id in ours and rule_id in official:
                confirmed_cases.append(f"{case}/{render.__name__[7:]}")
        if not confirmed:
            problems.append(f"{case}: {rule_id} is not reported by us and the Schematron in any syntax")
    by_edit = sorted(c for c in confirmed_cases if c.split("/")[0] in XML_EDITS)
    print(
        f"\nofficial rules: {len(CASES)} cases, {rendered} rendered + {edited} edited documents, "
        f"{len({c.split('/')[0] for c in confirmed_cases})} case ids confirmed by the Schematron "
        f"(FAKTOORA-* cases: {sum(c[3].startswith('FAKTOORA-') for c in CASES)}); confirmed on edited XML: {by_edit}"
    )
    assert not problems, "\n".join(problems)
    assert rendered >= 150
    assert len(by_edit) >= 2 * len(XML_EDITS) - 1, by_edit  # every edit in both syntaxes (BR-55: UBL only)


GARBAGE: list[Any] = [
    None,
    [],
    "invoice",
    1.5,
    float("nan"),
    {"invoiceItems": [None, 1, "x", {"product": []}, {"product": {"taxes": "S"}}]},
    {"seller": "x", "buyer": 5, "shipTo": [], "delivery": 3, "invoiceItems": {}},
    {"invoiceNumber": "x" * 1_000_000, "issueDate": 20250101, "currency": ["EUR"], "note": b"bytes"},
    {
        "invoiceItems": [
            {
                "id": 3.5,
                "product": {
                    "quantity": float("inf"),
                    "price": "9" * 500,
                    "unitCode": 7,
                    "taxes": [
                        {"rate": {}},
                        {"categoryCode": None},
                        None,
                        {"categoryCode": "S", "rate": "1e99999"},
                    ],
                },
            },
        ]
    },
    {"invoiceTypeCode": True, "paymentMeansCode": 1.5, "format": 2, "paymentTerms": ["#"], "dueDate": None},
    {1: 2, (1, 2): "tuple key", "seller": {"vatId": 123, "electronicAddress": "", "iban": None}},
    {
        "invoiceItems": [
            {"product": {"quantity": "1", "price": "1", "taxes": [{"categoryCode": "O", "rate": "x"}]}}
        ]
    },
]


@pytest.mark.parametrize("garbage", GARBAGE, ids=range(len(GARBAGE)))
def test_never_raises_on_garbage(garbage: Any) -> None:
    violations = check_invoice(garbage, path="invoices[7]")
    assert violations, "garbage must give at least one violation"
    for v in violations:
        assert isinstance(v, Violation) and v.path.startswith("invoices[7]")
        assert "could not be checked" not in v.message, v  # handled by the checks, not the safety net


def test_garbage_paths() -> None:
    assert check_invoice(None) == [
        Violation("FAKTOORA-TYPE", "invoices[0]", "expected an invoice object, got null")
    ]
    v = check_invoice(GARBAGE[8])
    got = {(x.rule_id, x.path) for x in v}
    assert ("FAKTOORA-DECIMAL", "invoices[0].invoiceItems[0].product.quantity") in got
    assert ("FAKTOORA-DECIMAL", "invoices[0].invoiceItems[0].product.price") in got
    assert ("FAKTOORA-TYPE", "invoices[0].invoiceItems[0].product.unitCode") in got
    assert ("FAKTOORA-TYPE", "invoices[0].invoiceItems[0].id") in got
    assert ("FAKTOORA-DECIMAL", "invoices[0].invoiceItems[0].product.taxes[0].rate") in got
    assert check_invoices("x") == [
        Violation("FAKTOORA-TYPE", "invoices", "expected a list of invoices, got string")
    ]


def test_check_invoices_paths_and_every_violation() -> None:
    good = list(generate_invoices(3, seed=8))
    bad = copy.deepcopy(good[1])
    bad["currency"] = "XYZ"
    del bad["buyerReference"]
    bad["invoiceItems"][0]["product"]["unitCode"] = "??"
    violations = check_invoices({"invoices": [good[0], bad, good[2]]})
    assert {(v.rule_id, v.path) for v in violations} == {
        ("BR-CL-04", "invoices[1].currency"),
        ("BR-DE-15", "invoices[1].buyerReference"),
        ("BR-CL-23", "invoices[1].invoiceItems[0].product.unitCode"),
    }
    assert check_invoice(bad, xrechnung=False, path="x") == [
        v for v in check_invoice(bad, path="x") if not v.rule_id.startswith("BR-DE")
    ]


def test_valid_generated_invoices_have_no_violations() -> None:
    invoices = list(generate_invoices(400, seed=77))
    invoices += list(generate_invoices(20, seed=78, lines=60, categories=["S", "Z", "E"]))
    assert check_invoices(invoices) == []


_FUZZ_VALUES: list[Any] = ["", "X", "-1", "0", None, 0, "abc", "DE", "1e3", "19", "S", "O", "E", "AE", "K"]
_FUZZ_VALUES += ["G", "Z", "L", "58", "30", "381", "  ", "EM", "20250101", "2.5", -3, "VATEX-EU-G", "de"]


def _leaf_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            paths += _leaf_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            paths += _leaf_paths(value, (*path, index))
    return paths


def test_random_mutations_agree_with_official_schematron(schematron_validator: Any) -> None:
    """Random field changes/deletions on generated invoices: whenever the payload still renders, every
    official id we report is reported by the Schematron, and we report something whenever it does."""
    import random

    rng = random.Random(2026)
    problems: list[str] = []
    rendered = 0
    for index in range(160):
        invoice = generate_invoice(index, seed=31, lines=rng.choice((1, 2, 3)))
        for _ in range(rng.choice((1, 1, 2, 3))):
            path = rng.choice(_leaf_paths(invoice))
            node: Any = invoice
            for key in path[:-1]:
                node = node[key]
            if isinstance(node, dict) and rng.random() < 0.3:
                del node[path[-1]]
            else:
                node[path[-1]] = rng.choice(_FUZZ_VALUES)
        fmt = invoice.get("format")
        if fmt not in ("xrechnung", "zf:2") or invoice.get("seller") is None:
            continue  # no seller: the service renders the account profile as seller (not this payload)
        try:
            xml = render_ubl(invoice) if invoice.get("schema") == "UBL" else render_cii(invoice)
        except ValueError:
            continue
        rendered += 1
        violations = check_invoice(invoice)
        ours = {v.rule_id for v in violations if not v.rule_id.startswith("FAKTOORA-")}
        official = {e["id"] for e in schematron_validator.validate_bytes(xml)["errors"]}  # type: ignore[attr-defined]
        if ours - official or (official and not violations):
            problems.append(f"#{index} {fmt}: ours {sorted(ours)} official {sorted(official)}")
    assert not problems, "\n".join(problems)
    assert rendered >= 80


@pytest.mark.parametrize(
    ("terms", "ok"),
    [
        ("#SKONTO#TAGE=7#PROZENT=2.00#\n", True),
        ("Zahlbar in 30 Tagen.\n#SKONTO#TAGE=14#PROZENT=3.00#BASISBETRAG=100.00#\n", True),
        ("#SKONTO#TAGE=7#PROZENT=2.00#\r\n#SKONTO#TAGE=14#PROZENT=1.50#\nDanach netto.", True),
        ("  #SKONTO#TAGE=7#PROZENT=2.00#  \n", True),
        ("#SKONTO#TAGE=7#PROZENT=2.00#", False),
        ("#SKONTO#TAGE=7#PROZENT=2#\n", False),
        ("#skonto#TAGE=7#PROZENT=2.00#\n", False),
        ("Zahlbar sofort.\n#Hinweis#\n", False),
    ],
)
def test_skonto_lines_agree_with_official_rule(schematron_validator: Any, terms: str, ok: bool) -> None:
    invoice = copy.deepcopy(_BASES["S"])
    invoice["paymentTerms"] = terms
    ours = [v for v in check_invoice(invoice) if v.rule_id == "BR-DE-18"]
    assert (not ours) is ok
    for render in (render_cii, render_ubl):
        official = {e["id"] for e in schematron_validator.validate_bytes(render(invoice))["errors"]}  # type: ignore[attr-defined]
        assert ("BR-DE-18" not in official) is ok, (render.__name__, official)


def test_en_only_mode_agrees_with_en16931_rules(schematron_validator: Any) -> None:
    """``xrechnung=False`` reports only what the EN 16931 rules (without XRechnung) report."""
    import sys

    en_only = sys.modules[type(schematron_validator).__module__].Validator(xrechnung=False)
    problems: list[str] = []
    confirmed = 0
    for case, base, mutate, rule_id, _path in CASES:
        for invoice, render in _variants(_broken(base, mutate)):
            violations = check_invoice(invoice, xrechnung=False)
            ours = {v.rule_id for v in violations if not v.rule_id.startswith("FAKTOORA-")}
            assert not {r for r in ours if r.startswith(("BR-DE-", "PEPPOL"))}, case  # BR-DEC-* is EN 16931
            xml = _official_document(case, base, invoice, render)  # rendered, or edited (XML_EDITS)
            if xml is None:
                continue
            official = {e["id"] for e in en_only.validate_bytes(xml)["errors"]}
            if ours - official:
                problems.append(
                    f"{case}/{render.__name__}: {sorted(ours - official)} not in {sorted(official)}"
                )
            confirmed += rule_id in ours and rule_id in official
    assert not problems, "\n".join(problems)
    assert confirmed >= 60


# ------------------------------------------------------------------ seller optional, schema (issue 11)


@pytest.mark.parametrize("base", sorted(_BASES))
def test_seller_is_checked_only_when_given(base: str) -> None:
    """faktoora's examples send no seller (the account profile is the seller): nothing to report then."""
    from faktoora_async.einvoice.validate import validate_document

    for absent in ("missing", "null"):
        invoice = copy.deepcopy(_BASES[base])
        profile = invoice.pop("seller")
        if absent == "null":
            invoice["seller"] = None
        assert check_invoice(invoice) == [], (base, absent)
        # rendered with the profile as seller (what the service does), the document is valid
        with_profile = {**invoice, "seller": profile}
        assert validate_document(render_cii(with_profile)).accepted
    given = copy.deepcopy(_BASES[base])
    given["seller"] = {"name": " "}
    found = {(v.rule_id, v.path) for v in check_invoice(given)}
    assert ("BR-06", "invoices[0].seller.name") in found
    assert ("BR-09", "invoices[0].seller.country") in found


def test_seller_less_payment_means_left_to_the_profile() -> None:
    invoice = copy.deepcopy(_BASES["S"])
    del invoice["seller"], invoice["paymentMeansCode"]
    assert check_invoice(invoice) == []
    invoice["paymentMeansCode"] = "999"
    assert [v.rule_id for v in check_invoice(invoice)] == ["BR-CL-16"]


def test_schema_picks_the_syntax_of_the_rule_ids() -> None:
    invoice = copy.deepcopy(_BASES["S"])
    del invoice["seller"]["iban"]
    for schema, rule in ((None, "CII-SR-470"), ("CII", "CII-SR-470"), ("UBL", "BR-61")):
        if schema is not None:
            invoice["schema"] = schema
        ids = {v.rule_id for v in check_invoice(invoice)}
        assert rule in ids and ({"CII-SR-470", "BR-61"} - {rule}).isdisjoint(ids), (schema, ids)


def test_preflight_accepts_the_prepared_wire_form() -> None:
    """The client checks ``protocol.invoice_to_builtins`` output: camelCase, YYYYMMDD, decimal strings."""
    import datetime
    from decimal import Decimal

    from faktoora_async import models
    from faktoora_async.protocol import invoice_to_builtins

    struct = models.Invoice(
        invoice_number="RE-1",
        issue_date=datetime.date(2026, 3, 1),
        due_date=datetime.date(2026, 3, 31),
        schema="UBL",
        buyer_reference="04011000-12345-03",
        buyer=models.Party(
            name="Stadt Köln",
            street="Markt 1",
            postcode="50667",
            city="Köln",
            country="DE",
            electronic_address="rechnung@stadt-koeln.de",
        ),
        invoice_items=[
            models.InvoiceItem(
                id="1",
                product=models.Product(
                    name="Beratung",
                    quantity=Decimal("2.5"),
                    price=Decimal("120.00"),
                    unit_code="HUR",
                    taxes=[models.Tax(category_code="S", rate=Decimal("19"))],
                ),
            )
        ],
    )
    wire = invoice_to_builtins(struct)
    assert "seller" not in wire and wire["schema"] == "UBL" and wire["issueDate"] == "20260301"
    assert check_invoice(wire) == []
    assert check_invoices([wire, {**wire, "format": "xrechnung:ubl"}]) == [
        Violation(
            "FAKTOORA-FORMAT",
            "invoices[1].format",
            "'xrechnung:ubl' is not accepted any more: send format 'xrechnung' with schema 'UBL'",
        )
    ]
    date_dict = invoice_to_builtins({**wire, "issueDate": datetime.date(2026, 3, 1), "schema": "CII"})
    assert date_dict["issueDate"] == "20260301" and check_invoice(date_dict) == []


def test_lengths_are_the_sandboxs_and_exact_amounts_pass() -> None:
    """FAKTOORA-LENGTH is the sandbox's own check (same path, same message); at the limit both accept.
    BR-DEC: an amount whose extra decimals are zeros ("5.000") loses nothing when rendered and passes."""
    from faktoora_async.sandbox._payload_en16931 import validate_terms

    length_cases = [c for c in CASES if c[3] == "FAKTOORA-LENGTH"]
    assert {c[4].rsplit(".", 1)[1] for c in length_cases} >= {"remittanceInformation"}
    for case, base, mutate, _rule_id, path in length_cases:
        invoice = _broken(base, mutate)
        ours = [(v.path, v.message) for v in check_invoice(invoice) if v.rule_id == "FAKTOORA-LENGTH"]
        sandbox = validate_terms(invoice, "invoices[0]")
        assert ours and set(ours) <= set(sandbox), (case, ours, sandbox)
        key = path.rsplit(".", 1)[1]
        invoice[key] = invoice[key][:-1]  # at the limit
        assert check_invoice(invoice) == [] and validate_terms(invoice, "invoices[0]") == [], case
    exact = copy.deepcopy(_BASES["X"])
    exact.update(prepaidAmount="5.000", roundingAmount="0.0100")
    exact["allowances"][0]["amount"] = "10.000"
    assert check_invoice(exact) == []
