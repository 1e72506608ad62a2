"""The validator's rule modules: functions ``check_*(document, out)`` over a :class:`~..document.Document`.

* :mod:`.mandatory`: mandatory content and syntax-binding rules (BR-01 .. BR-63, BR-CO-*, CII-SR-*, UBL-SR-*);
* :mod:`.totals`: BR-CO-10 .. BR-CO-17, BR-53;
* :mod:`.vat`: the VAT category rules (BR-S/Z/E/AE/IC/G/O/AF/AG/B);
* :mod:`.codelists`: BR-CL-*;
* :mod:`.xrechnung` (with :mod:`.peppol`): XRechnung 3.0 (BR-DE-*) and the PEPPOL rules it adopts.
"""

from __future__ import annotations

from collections.abc import Callable

from ..document import Document
from ..verdict import Out
from .codelists import check_code_lists
from .mandatory import check_mandatory
from .totals import check_totals
from .vat import check_vat_categories
from .xrechnung import check_xrechnung

__all__ = ["EN16931_CHECKS", "check_xrechnung"]

EN16931_CHECKS: tuple[Callable[[Document, Out], None], ...] = (
    check_mandatory,
    check_totals,
    check_vat_categories,
    check_code_lists,
)
"""The EN 16931 rule modules, in the order their messages appear."""
