"""The published API reference: a static, offline site built from the bundled specs (`apicontract docs`)."""
