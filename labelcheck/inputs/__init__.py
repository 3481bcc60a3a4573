"""Targets and items: paths, directories, globs, URLs and lists; stat, sniff, hash; HTTP fetch with the private-address
refusal; scratch space for fetched items. The first stage: it imports nothing of the stages after it."""
