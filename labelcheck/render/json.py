"""JSON renderer: the whole report as one schema-valid document."""

from __future__ import annotations

import json

from ..model import Report
from .document import to_dict


def render(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"
