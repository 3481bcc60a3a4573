"""Policies as data and the checks they select: loading and validation (load), the Judge that turns evidence into
findings per item (judge), waivers, one module per check (checks/) and the built-in policies (policies/)."""
