"""Explain renderer: the evidence tree of each item (manifests, ingredients, actions, fields) and the decision path:
what each C2PA action and ingredient does by the actions table, each signal's carrier and field, the precedence
rule that decided and what it outranked."""

from __future__ import annotations

from ..classify import actions, generators, precedence
from ..model import AiStatus, C2paStore, Classification, Decision, Report, Result, Signal
from .document import display_path, printable


def _manifest_lines(store: C2paStore, label: str | None, depth: int, seen: set[str]) -> list[str]:
    m = store.manifest(label)
    pad = "  " * depth
    if m is None:
        return [f"{pad}manifest {label}: not in the store"] if label else []
    if m.label in seen:
        return [f"{pad}manifest {m.label}: (already shown)"]
    seen.add(m.label)
    lines = [
        f"{pad}manifest {m.label}",
        f"{pad}  generator: {m.claim_generator or ', '.join(m.generator_info) or '-'}",
        f"{pad}  signer: {m.signer or '-'}  signed: {m.signed_at or '-'}",
    ]
    for a in m.actions:
        extra = "".join(
            f" {k}={v}"
            for k, v in (("dst", a.source_type), ("vendor_dst", a.vendor_source_type), ("agent", a.software_agent))
            if v
        )
        effect = actions.effect(a.action, a.source_type or a.vendor_source_type).kind.value
        lines.append(f"{pad}  action {a.action}{extra}  [{a.assertion}] -> {effect}")
    for t in m.training:
        lines.append(f"{pad}  training {t.key}: {t.use}  [{t.vocabulary}]")
    for i in m.ingredients:
        lines.append(
            f"{pad}  ingredient {i.relationship} '{i.title or i.label}'"
            + (f" dst={i.source_type}" if i.source_type else "")
            + f" -> {actions.ingredient_effect(i.relationship).kind.value}"
        )
        if i.active_manifest:
            lines += _manifest_lines(store, i.active_manifest, depth + 2, seen)
    return lines


def _one_line(value: str, limit: int = 120) -> str:
    flat = value.replace("\r", "\\r").replace("\n", "\\n")
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _signal(sig: Signal) -> str:
    found = generators.carrier_of(sig.key, sig.value)
    carrier = f" [{found[0]}]" if found else ""
    gen = generators.named_in(sig.key, sig.value)
    named = f"  (generator registry: {gen.id})" if gen else ""
    return f"{sig.source} {sig.kind.value} {sig.key}{carrier} = {_one_line(sig.value)}{named}"


def _decision(d: Decision) -> str:
    return f"{d.source}: {d.status.value} ({d.basis.value}) - {d.reason}  [{d.rule or '-'}, rank {d.strength}]"


def _path(c: Classification) -> list[str]:
    """The decision path: the deciding decision and its rule, then each outranked one and why it lost."""
    lines = ["  decision path (classify/precedence.py; strongest first):"]
    informative = [d for d in c.evidence if d.status is not AiStatus.UNKNOWN]
    if not informative:
        lines += [f"    said nothing: {_decision(d)}" for d in c.evidence]
        return [*lines, "    no AI declaration found (absence does not prove human origin)"]
    winner = informative[0]
    rule = precedence.BY_NAME.get(winner.rule)
    lines.append(f"    decided by {_decision(winner)}")
    if rule is not None:
        lines.append(f"      rule {rule.name} (rank {rule.rank}): {rule.statement}")
    for d in c.evidence:
        if d is winner:
            continue
        why = "says nothing" if d.status is AiStatus.UNKNOWN else precedence.outranks(winner, d)
        lines.append(f"    outranked {_decision(d)}: {why}")
    lines += [f"    conflict: {x.message}" for x in c.conflicts]
    return lines


def explain_result(r: Result) -> str:
    ev, c = r.evidence, r.classification
    lines = [
        display_path(ev.target),
        f"  media type: {ev.media_type} ({ev.kind}), {ev.size} bytes, sha256 {ev.sha256}",
        f"  verdict: {r.status.value}; AI status {c.status.value} (basis {c.basis.value}"
        f"{', specific' if c.specific else ''}); training {c.training.value}",
    ]
    s = ev.c2pa
    lines.append(
        f"  C2PA: {'present' if s.present else 'none'}; state {s.validation_state or '-'}"
        + (f"; failures {', '.join(s.failures)}" if s.failures else "")
        + (f"; remote {s.remote_url}" if s.remote_url else "")
        + (f"; sidecar {s.sidecar}" if s.sidecar else "")
    )
    lines += ["  " + x for x in _manifest_lines(s, s.active, 1, set())]
    lines.append("  metadata signals (source kind field [carrier] = value):")
    lines += [f"    {_signal(sig)}" for sig in ev.signals] or ["    none"]
    lines += _path(c)
    lines += [f"  training: {t.vocabulary} {t.key} = {t.use}" for t in c.training_evidence]
    for f in r.findings:
        lines.append(f"  finding {f.rule}: {f.status.value} - {f.message}")
        if f.remediation and f.status.value == "fail":
            lines.append(f"    fix: {f.remediation}")
        if f.waiver:
            lines.append(f"    {f.waiver.text}")
    lines += [f"  error ({e.source}): {display_path(e.message)}" for e in ev.errors]
    lines += [f"  note: {n}" for n in ev.notes]
    return "\n".join(lines) + "\n"


def render(report: Report) -> str:
    return printable("\n".join(explain_result(r) for r in report.results))
