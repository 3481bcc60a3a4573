"""Judgement without I/O: the vocabularies (IPTC, C2PA, TC260, phrases, generators), label records, and the
classification of what an item declares (AI status, basis, training reservation, conflicts)."""
