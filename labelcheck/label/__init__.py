"""`labelcheck label`: write the labels a policy requires into copies of media, sign them, and prove it by checking
each output again with the same policy.

Modules: `plan` (which carriers a policy needs, per file: pure), `draw` (a visible wording in the pixels: Pillow,
ffmpeg), `write` (IPTC, TC260, IPTC PLUS and TDMRep metadata: exiftool), `sign` (a C2PA manifest: c2pa-python's
Builder), `run` (the steps in order, each to a temporary file, the output renamed into place when complete, and
the re-check)."""
