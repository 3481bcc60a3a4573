"""Extractors: one module per external tool; they report what they find and never judge it."""
