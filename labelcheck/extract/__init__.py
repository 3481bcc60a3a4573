"""Extractors: one module per external tool, the interface they share and the evidence step that runs them
(gather); they report what they find and never judge it."""
