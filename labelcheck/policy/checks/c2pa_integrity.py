"""c2pa-integrity: the C2PA manifest validates (signature, hash binding), optionally by a trusted signer.

Options:
  require_trusted: the signer must chain to a trust anchor (the official C2PA trust list plus
                   --trust-anchors); default false.
  require_manifest: an item without any manifest fails instead of being not applicable; default false.

Pass: validation state Valid (or Trusted when required).
Fail: Invalid (e.g. assertion.dataHash.mismatch after the pixels were edited); Valid but untrusted when
      trust is required; a manifest that could not be read.
Not applicable: no manifest (unless required).
"""

from __future__ import annotations

from typing import Any

from ...model import FindingStatus, Outcome, Subject

ID = "c2pa-integrity"
OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"require_trusted": {"type": "boolean"}, "require_manifest": {"type": "boolean"}},
}
DEFAULTS: dict[str, Any] = {"require_trusted": False, "require_manifest": False}
IGNORED = {"signingCredential.untrusted"}  # judged by require_trusted, not as a failure of integrity


def check(subject: Subject, options: dict[str, Any]) -> Outcome:
    store = subject.evidence.c2pa
    read_errors = [e.message for e in subject.evidence.errors if e.source == "c2pa"]
    if not store.present and not store.remote_url:
        if options["require_manifest"]:
            return Outcome(FindingStatus.FAIL, "no C2PA manifest", "sign the item with C2PA")
        return Outcome(FindingStatus.NOT_APPLICABLE, "no C2PA manifest to validate")
    if store.validation_state is None:
        why = read_errors[0] if read_errors else "the manifest could not be read"
        return Outcome(
            FindingStatus.FAIL,
            f"the C2PA manifest could not be validated: {why}",
            "re-sign the item with C2PA (embed the manifest)",
        )
    failures = [c for c in store.failures if c not in IGNORED]
    if store.validation_state == "Invalid":
        return Outcome(
            FindingStatus.FAIL,
            f"C2PA manifest is Invalid: {', '.join(failures) or 'see failures'}",
            "the content or the manifest changed after signing: re-sign the delivered file with C2PA",
        )
    if options["require_trusted"] and store.validation_state != "Trusted":
        active = store.manifest(store.active)
        return Outcome(
            FindingStatus.FAIL,
            f"C2PA manifest is {store.validation_state} but its signer is not trusted "
            f"({active.signer if active else 'unknown'})",
            "sign with a certificate that chains to the C2PA trust list, or add your CA with --trust-anchors",
        )
    return Outcome(FindingStatus.PASS, f"C2PA manifest is {store.validation_state}")
