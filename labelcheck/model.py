"""Typed, frozen records that flow from extractors to classification to reports; no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum


class AiStatus(str, Enum):
    FULLY_AI = "fully_ai"
    MADE_WITH_AI = "made_with_ai"
    POSSIBLY_AI = "possibly_ai"
    NOT_AI = "not_ai"
    UNKNOWN = "unknown"


class Basis(str, Enum):
    STANDARD = "standard"
    NON_STANDARD = "non_standard"
    NONE = "none"


class Training(str, Enum):
    NOT_ALLOWED = "not_allowed"
    CONSTRAINED = "constrained"
    ALLOWED = "allowed"
    UNSPECIFIED = "unspecified"


class ItemStatus(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"


class FindingStatus(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    MANUAL_REVIEW = "manual_review"
    ERROR = "error"
    WAIVED = "waived"  # failed or for review, and a waiver for this item's content says why that is accepted


class Kind(str, Enum):
    """What a signal is about; extractors name the kind, classification judges it."""

    SOURCE_TYPE = "source_type"  # a DigitalSourceType term from any carrier
    AI_SYSTEM = "ai_system"  # IPTC 2025.1 AISystemUsed / version / prompt
    AIGC = "aigc"  # China TC260 AIGC implicit label (JSON)
    GENERATOR = "generator"  # generator parameters/prompt chunks (non-standard)
    AI_TEXT = "ai_text"  # free text such as "AI generated image" or "Made with Google AI"
    SOFTWARE = "software"  # software / creator tool names
    DATA_MINING = "data_mining"  # plus:DataMining
    TDM = "tdm"  # TDMRep reservation / policy
    PROVENANCE_REF = "provenance_ref"  # dcterms:provenance or another remote manifest reference
    CONTAINER = "container"  # codec / container facts
    STREAM_LABEL = "stream_label"  # an AI status named by a stream's own carrier (EXT-X-DATERANGE X-, emsg ID3)
    AI_DISCLOSURE = "ai_disclosure"  # the mode of an AI-Disclosure HTTP response header (expired IETF draft)
    VISIBLE_LABEL = "visible_label"  # a label's wording read from the pixels (OCR, --read-pixels)
    WATERMARK = "watermark"  # an invisible watermark decoded from the pixels (--read-pixels)


@dataclass(frozen=True)
class Signal:
    """One labelling-relevant fact as found: where it came from and what it says."""

    source: str  # xmp | exif | png | id3 | quicktime | riff | ffprobe | c2pa
    kind: Kind
    key: str  # the field name as the tool reported it
    value: str
    location: str = ""  # group / box / stream, when known


@dataclass(frozen=True)
class ToolError:
    source: str  # c2pa | exiftool | ffprobe | input | internal
    message: str
    timed_out: bool = False


@dataclass(frozen=True)
class C2paAction:
    action: str
    source_type: str | None = None  # digitalSourceType as written
    vendor_source_type: str | None = None  # parameters."com.adobe.digitalSourceType" and the like
    software_agent: str | None = None
    description: str | None = None
    when: str | None = None
    assertion: str = ""  # assertion label, e.g. c2pa.actions.v2__1


@dataclass(frozen=True)
class C2paIngredient:
    relationship: str  # parentOf | componentOf | inputTo
    title: str | None
    active_manifest: str | None
    source_type: str | None = None  # ingredient.v3 digitalSourceType (C2PA 2.4)
    label: str = ""


@dataclass(frozen=True)
class TrainingEntry:
    source: str  # c2pa | xmp
    vocabulary: str  # cawg.training-mining | c2pa.training-mining | plus:DataMining | tdm:reservation
    key: str
    use: str
    location: str = ""


@dataclass(frozen=True)
class C2paManifest:
    label: str
    claim_generator: str | None
    generator_info: tuple[str, ...]
    signer: str | None
    signed_at: str | None
    title: str | None
    actions: tuple[C2paAction, ...]
    ingredients: tuple[C2paIngredient, ...]
    training: tuple[TrainingEntry, ...]
    metadata_source_types: tuple[str, ...] = ()  # DST found in c2pa.metadata / schema.org assertions
    assertions: tuple[str, ...] = ()
    payloads: tuple[tuple[str, str], ...] = ()  # (assertion label, JSON data) of actions and training assertions
    ai_disclosures: tuple[str, ...] = ()  # each c2pa.ai-disclosure assertion, summarised (model, oversight)


@dataclass(frozen=True)
class C2paStore:
    """What c2pa-python reported for one item; absent when no manifest was found."""

    present: bool
    active: str | None = None
    manifests: tuple[C2paManifest, ...] = ()
    validation_state: str | None = None  # Trusted | Valid | Invalid | None
    failures: tuple[str, ...] = ()
    informational: tuple[str, ...] = ()
    remote_url: str | None = None
    embedded: bool | None = None
    sidecar: str | None = None
    note: str | None = None  # e.g. the format has no C2PA embedding at all

    def manifest(self, label: str | None) -> C2paManifest | None:
        for m in self.manifests:
            if m.label == label:
                return m
        return None


@dataclass(frozen=True)
class PixelScan:
    """That an item's pixels were read (--read-pixels, or a policy that needs them), and what was read: the
    picture's size, the video frames' times. What was found there is in the signals (visible_label, watermark)."""

    width: int
    height: int
    times: tuple[float, ...] = ()  # seconds into a video of each frame read; () for a still
    duration: float | None = None  # a video's
    engine: str = ""  # the OCR engine and its models
    watermarks: tuple[str, ...] = ()  # the invisible watermarks looked for (a still's)
    error: str = ""  # why the pixels could not be (wholly) read


@dataclass(frozen=True)
class Evidence:
    """Everything the extractors found about one item, unjudged."""

    target: str
    media_type: str
    kind: str  # image | audio | video | document | font | other
    size: int
    sha256: str | None
    c2pa: C2paStore
    signals: tuple[Signal, ...]
    errors: tuple[ToolError, ...]
    notes: tuple[str, ...] = ()
    pixels: PixelScan | None = None  # None: the pixels were not read


@dataclass(frozen=True)
class LabelRecord:
    """One label as a carrier holds it, after its payload was checked against the carrier's schema."""

    carrier: str  # c2pa | iptc | tc260 | plus | tdmrep
    kind: str  # ai | training
    location: str
    value: str
    declares: str  # fully_ai | made_with_ai | ai | possibly_ai | not_ai | none | a training status
    specific: bool  # says fully AI-generated or made with AI, not only "AI"
    signed: bool
    conforms: bool
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """One reason for the AI status: a source's verdict and the signal behind it."""

    source: str
    status: AiStatus
    basis: Basis
    reason: str
    location: str = ""
    strength: int = 0  # the rank of its rule in classify/precedence.py (6 trusted C2PA ... 1 words)
    rule: str = ""  # the precedence rule it falls under (classify/precedence.py RULES)


@dataclass(frozen=True)
class Conflict:
    winner: Decision
    other: Decision
    message: str


@dataclass(frozen=True)
class Classification:
    status: AiStatus
    basis: Basis
    specific: bool  # the winning label says fully vs partly AI, not only "AI"
    evidence: tuple[Decision, ...]
    conflicts: tuple[Conflict, ...]
    training: Training
    training_evidence: tuple[TrainingEntry, ...]


@dataclass(frozen=True)
class Subject:
    """Everything a check may look at for one item; checks never do I/O."""

    evidence: Evidence
    classification: Classification
    labels: tuple[LabelRecord, ...]
    today: date


@dataclass(frozen=True)
class Outcome:
    """What a check concluded; the policy adds the rule, level and reference to make it a Finding."""

    status: FindingStatus
    message: str
    remediation: str = ""


@dataclass(frozen=True)
class Waiver:
    """A decision taken by hand: these rules' failures are accepted for the item with this content."""

    sha256: str
    rules: tuple[str, ...]  # rule IDs, or POLICY/RULE
    reason: str
    approved_by: str = ""
    expires: date | None = None  # the last day it applies
    id: str = ""

    def covers(self, policy: str, rule: str) -> bool:
        return rule in self.rules or f"{policy}/{rule}" in self.rules

    @property
    def text(self) -> str:
        """The decision in one line, as renderers show it."""
        who = [self.id, f"approved by {self.approved_by}" if self.approved_by else ""]
        who.append(f"until {self.expires.isoformat()}" if self.expires else "")
        said = ", ".join(w for w in who if w)
        return f"waived ({said}): {self.reason}" if said else f"waived: {self.reason}"


@dataclass(frozen=True)
class Finding:
    rule: str
    status: FindingStatus
    level: str  # error | warning | info
    message: str
    policy: str = "builtin"
    reference: str = ""
    remediation: str = ""
    waiver: Waiver | None = None  # the waiver that made it WAIVED


@dataclass(frozen=True)
class Result:
    evidence: Evidence
    classification: Classification
    findings: tuple[Finding, ...]
    status: ItemStatus
    labels: tuple[LabelRecord, ...] = ()


@dataclass(frozen=True)
class SegmentResult:
    sequence: int
    uri: str
    start: float  # media time, seconds
    duration: float
    state: str | None  # C2PA validation of the fragment against its init segment: Trusted | Valid | Invalid | None
    failures: tuple[str, ...]
    label: str  # AI status the segment carries: valid manifest, else ID3 timed metadata, DATERANGE, container tags
    label_source: str  # c2pa | id3 (timed metadata in TS or emsg) | daterange | tags (container/stream tags) | ""
    errors: tuple[str, ...] = ()
    status: str = ""  # the policies applied to this segment: pass | fail | error ("" until judged)
    failed_rules: tuple[str, ...] = ()  # policy/rule of each failed rule
    aigc: str | None = None  # a TC260 AIGC JSON carried in the segment's ID3 timed metadata, as written


@dataclass(frozen=True)
class RenditionResult:
    name: str
    bandwidth: int | None
    init: str | None
    manifest_label: str  # what the init segment's manifest declares
    segments: tuple[SegmentResult, ...]
    findings: tuple[str, ...]  # continuity: gaps in valid manifests, label changes, fetch failures
    total_segments: int  # as listed in the playlist (more than checked when capped)
    manifest: C2paStore | None = None  # the init segment's manifest store, as c2pa-python read it
    tags: tuple[Signal, ...] = ()  # container and stream tags (ffprobe) of the init segment, else the first segment
    tags_label: str = "none"  # the AI status those tags declare


@dataclass(frozen=True)
class StreamResult:
    target: str
    kind: str  # hls | dash
    status: ItemStatus
    renditions: tuple[RenditionResult, ...]
    errors: tuple[str, ...] = ()
    result: Result | None = None  # the policies applied to the stream as a whole


@dataclass(frozen=True)
class PolicyRef:
    """Which policy a report was judged against."""

    id: str
    title: str
    source: str  # builtin | the file
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    tool_version: str
    c2pa_sdk: str
    exiftool_version: str | None
    generated_at: str
    results: tuple[Result, ...] = field(default_factory=tuple)
    policies: tuple[PolicyRef, ...] = ()
    as_of: str = ""
    fail_on: str = "error"
    streams: tuple[StreamResult, ...] = ()
