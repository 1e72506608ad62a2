"""EN 16931 domain code: totals, pre-flight rules, CII/UBL/Factur-X rendering, parsing, validation.

Pure code, no HTTP.  Input invoices are plain mappings in faktoora's JSON shape (``docs/PAYLOAD.md``).
"""
