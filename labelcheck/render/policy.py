"""Policy renderer: a resolved policy as text (`labelcheck policy show`)."""

from __future__ import annotations

import json

from ..policy.load import Policy


def render(p: Policy) -> str:
    lines = [f"{p.id}: {p.title}", f"source: {p.source}"]
    if p.description:
        lines.append(p.description.strip())
    for r in p.rules:
        when = f" from {r.applies_from.isoformat()}" if r.applies_from else ""
        steps = "".join(f", {level} from {start.isoformat()}" for start, level in r.escalate)
        lines.append(f"- {r.id}: check {r.check}, level {r.level}{when}{steps}")
        if r.reference:
            lines.append(f"    reference: {r.reference}")
        if r.options:
            lines.append(f"    options: {json.dumps(r.options, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"
