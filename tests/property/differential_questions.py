"""The contact and share questions of the SQL differential (tests/property/sql_differential.py),
besides a keep question per scope. A plain module (no hypothesis, no test pack) so that
benchmarks/bench_sql_compile.py measures the same set without importing the test."""

from __future__ import annotations

CONTACT_AND_SHARE = (
    "contact:newsletter:email", "contact:relationship_management:email", "contact:product_change_notice:email",
    "contact:knowledge_exchange:email",
    "share:hubspot:relationship_management", "share:hubspot:newsletter", "share:microsoft_365:internal_documentation",
    "share:police:legal_disclosure", "share:tax_authority:accounting", "share:event_partner:third_party_disclosure",
    "share:legacy_us_processor:relationship_management", "share:econ_partner:accounting",
    "share:appendix4_subprocessors:platform_operation",
    # issue 11 item 3: data categories named by the question (N21, R11, N51)
    "share:hubspot:relationship_management[contact_information,email_content]",
    "share:econ_partner:accounting[accounting_voucher,contact_information]",
    "share:microsoft_365:internal_documentation[meeting_notes,special_category]",
)
