"""HTTP field values split into members, in linear time whatever a server sends (pure).

A value is a comma-separated list of members; each member is a head (`key`, `key=value`, or a Link's `<uri>`)
followed by `;name=value` parameters. Quoted strings (RFC 9110 §5.6.4) and `<URI-references>` (RFC 8288) are kept
whole, so commas and semicolons inside them separate nothing. This covers RFC 8288 Link values and RFC 9651
dictionaries (tokens, strings, and parameters; inner lists and byte sequences are read as text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Quoted strings and <...> (an unclosed one runs to the end), runs of other text, separators: no piece can make
# the matcher backtrack over another.
_PIECES = re.compile(r'"(?:[^"\\]|\\.)*"?|<[^>]*>?|[^"<,;=]+|[,;=]')


@dataclass(frozen=True)
class Member:
    head: str  # the text before "=" (a Link's "<uri>"), stripped
    value: str  # after "=", unquoted; "" when there is none
    params: tuple[tuple[str, str], ...]  # (lower-case name, unquoted value), in order


def unquote(raw: str) -> str:
    raw = raw.strip()
    if not raw.startswith('"'):
        return raw
    inner = raw[1:-1] if len(raw) > 1 and raw.endswith('"') else raw[1:]
    return re.sub(r"\\(.)", r"\1", inner)


def _pair(pieces: list[str]) -> tuple[str, str]:
    if "=" not in pieces:
        return "".join(pieces).strip(), ""
    at = pieces.index("=")
    return "".join(pieces[:at]).strip(), unquote("".join(pieces[at + 1 :]))


def members(value: str) -> list[Member]:
    groups: list[list[list[str]]] = [[[]]]  # members, each a list of ;-separated parts, each a list of pieces
    for piece in _PIECES.findall(value):
        if piece == ",":
            groups.append([[]])
        elif piece == ";":
            groups[-1].append([])
        else:
            groups[-1][-1].append(piece)
    out = []
    for head, *params in groups:
        key, val = _pair(head)
        if key:
            out.append(Member(key, val, tuple((n.lower(), v) for n, v in map(_pair, params) if n)))
    return out
