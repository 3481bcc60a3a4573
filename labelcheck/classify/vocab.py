"""The labelling vocabularies as literal tables: IPTC/C2PA source types, C2PA actions, consent values."""

from __future__ import annotations

import re

from ..model import AiStatus, Training
from . import httpfields

IPTC_DST_PREFIXES = (
    "http://cv.iptc.org/newscodes/digitalsourcetype/",
    "https://cv.iptc.org/newscodes/digitalsourcetype/",
    "http://c2pa.org/digitalsourcetype/",
    "https://c2pa.org/digitalsourcetype/",
    "https://schema.org/",
    "http://schema.org/",
    "digsrctype:",
    "c2pa.",
)

# term -> AI status. Retired terms keep their mapping; `algorithmicMedia` is procedural (no training data).
SOURCE_TYPES: dict[str, AiStatus] = {
    "trainedAlgorithmicMedia": AiStatus.FULLY_AI,
    "trainedAlgorithmicData": AiStatus.FULLY_AI,
    "compositeWithTrainedAlgorithmicMedia": AiStatus.MADE_WITH_AI,
    "compositeSynthetic": AiStatus.MADE_WITH_AI,
    "composite": AiStatus.POSSIBLY_AI,
    "screenCapture": AiStatus.POSSIBLY_AI,
    "virtualRecording": AiStatus.POSSIBLY_AI,
    "digitalArt": AiStatus.POSSIBLY_AI,
    "digitalCapture": AiStatus.NOT_AI,
    "computationalCapture": AiStatus.NOT_AI,
    "negativeFilm": AiStatus.NOT_AI,
    "positiveFilm": AiStatus.NOT_AI,
    "print": AiStatus.NOT_AI,
    "humanEdits": AiStatus.NOT_AI,
    "minorHumanEdits": AiStatus.NOT_AI,
    "digitalCreation": AiStatus.NOT_AI,
    "softwareImage": AiStatus.NOT_AI,
    "algorithmicallyEnhanced": AiStatus.NOT_AI,
    "dataDrivenMedia": AiStatus.NOT_AI,
    "compositeCapture": AiStatus.NOT_AI,
    "algorithmicMedia": AiStatus.NOT_AI,
    "empty": AiStatus.NOT_AI,
}

# schema.org spells the same terms as e.g. TrainedAlgorithmicMediaDigitalSource.
_SCHEMA_ORG = {t[0].upper() + t[1:] + "DigitalSource": t for t in SOURCE_TYPES}

ENHANCED_TERM = "algorithmicallyEnhanced"  # enhancement only: not made with AI-generated work (precedence.py)
# What C2PA actions do to the status is data: c2pa_actions.yaml, read by actions.py.

ACTIONS_ASSERTIONS = ("c2pa.actions", "c2pa.actions.v2")
TRAINING_ASSERTIONS = ("cawg.training-mining", "c2pa.training-mining")
# C2PA 2.4: says that AI was used (model, human oversight), without a digital source type.
AI_DISCLOSURE_ASSERTIONS = ("c2pa.ai-disclosure",)
# Its fields worth naming in a reason (field names per third-party code, not yet checked against the spec).
AI_DISCLOSURE_FIELDS = ("modelName", "modelType", "humanOversightLevel")
# Metadata assertions whose fields may carry an IPTC digital source type: C2PA's own (c2pa.metadata, and the older
# stds.* labels) and CAWG's (cawg.metadata, for the fields C2PA 2.x no longer allows in c2pa.metadata).
METADATA_ASSERTIONS = (
    "c2pa.metadata",
    "cawg.metadata",
    "stds.iptc",
    "stds.iptc.photo-metadata",
    "stds.schema-org.CreativeWork",
)
VENDOR_SOURCE_TYPE_PARAMS = ("com.adobe.digitalSourceType", "digitalSourceType")

TRAINING_USE: dict[str, Training] = {
    "notAllowed": Training.NOT_ALLOWED,
    "constrained": Training.CONSTRAINED,
    "allowed": Training.ALLOWED,
}

PLUS_DATA_MINING_PREFIXES = ("http://ns.useplus.org/ldf/vocab/", "https://ns.useplus.org/ldf/vocab/")
PLUS_DATA_MINING: dict[str, Training] = {
    "DMI-UNSPECIFIED": Training.UNSPECIFIED,
    "DMI-ALLOWED": Training.ALLOWED,
    "DMI-PROHIBITED-AIMLTRAINING": Training.NOT_ALLOWED,
    "DMI-PROHIBITED-GENAIMLTRAINING": Training.NOT_ALLOWED,
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING": Training.NOT_ALLOWED,
    "DMI-PROHIBITED": Training.NOT_ALLOWED,
    "DMI-PROHIBITED-SEECONSTRAINT": Training.CONSTRAINED,
    "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR": Training.CONSTRAINED,
    "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR": Training.CONSTRAINED,
}

# Most restrictive first.
TRAINING_ORDER = (Training.NOT_ALLOWED, Training.CONSTRAINED, Training.ALLOWED, Training.UNSPECIFIED)

# China TC260 AIGC Label codes.
AIGC_LABELS: dict[str, AiStatus] = {
    "1": AiStatus.FULLY_AI,
    "2": AiStatus.POSSIBLY_AI,
    "3": AiStatus.POSSIBLY_AI,
}


# Which label carriers a format can hold (content types); a policy asking for another carrier is told so.
_IMAGES_XMP = (
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/tiff",
    "image/heic",
    "image/heif",
    "image/avif",
    "image/jxl",
    "image/svg+xml",
)
CARRIER_FORMATS: dict[str, frozenset[str]] = {
    "c2pa": frozenset(
        _IMAGES_XMP
        + (
            "video/mp4",
            "video/quicktime",
            "video/x-msvideo",
            "audio/mpeg",
            "audio/wav",
            "audio/mp4",
            "audio/flac",
            "application/pdf",
        )
    ),
    "iptc": frozenset(
        _IMAGES_XMP + ("video/mp4", "video/quicktime", "audio/mpeg", "audio/wav", "audio/mp4", "application/pdf")
    ),
    "tc260": frozenset(
        _IMAGES_XMP
        + (
            "video/mp4",
            "video/quicktime",
            "video/x-matroska",
            "video/webm",
            "audio/mpeg",
            "audio/wav",
            "audio/mp4",
            "audio/flac",
            "audio/ogg",
            "video/ogg",
            "video/x-flv",  # FLV onMetaData and ASF content descriptions take tags of any name
            "video/x-ms-wmv",
            "audio/x-ms-wma",
            "video/x-ms-asf",
            "video/mp2t",  # an ID3 TXXX frame in the timed-metadata stream (HLS), as in an MP3's ID3 tag
        )
    ),
}
# The source of signals read from an XMP sidecar beside the item: they describe the file but do not travel with it.
SIDECAR_SOURCE = "xmp-sidecar"
PAGE_SOURCE = "page"  # what the web page showing an item says of it (labelcheck sample)
CARRIER_NAMES = {
    "c2pa": "a C2PA manifest",
    "iptc": "IPTC XMP Iptc4xmpExt:DigitalSourceType",
    "tc260": "the TC260 AIGC implicit label",
}


# Label words used by stream carriers (EXT-X-DATERANGE X- attributes, ID3 TXXX frames); DST terms are accepted too.
STREAM_LABEL_WORDS = {
    "fully_ai": "fully_ai",
    "fully-ai-generated": "fully_ai",
    "made_with_ai": "made_with_ai",
    "made-with-ai": "made_with_ai",
    "not_ai": "not_ai",
    "none": "none",
}


# The `mode` of an AI-Disclosure HTTP header (draft-abaris-aicdh, expired): none = AI was not used; ai-modified =
# human work modified by AI; ai-originated = AI output edited or reviewed by people; machine-generated = AI output
# with little or no human involvement.
AI_DISCLOSURE_MODES = {
    "none": AiStatus.NOT_AI,
    "ai-modified": AiStatus.MADE_WITH_AI,
    "ai-originated": AiStatus.MADE_WITH_AI,
    "machine-generated": AiStatus.FULLY_AI,
}


_SF_KEY = re.compile(r"[a-z*][a-z0-9_.*-]*")  # an RFC 9651 dictionary key


def ai_disclosure(value: str) -> dict[str, str]:
    """The members of an AI-Disclosure header value (a structured-field dictionary: mode, model, provider,
    reviewed-by, date), unquoted; keys read in lower case, the first of a repeated key kept."""
    out: dict[str, str] = {}
    for m in httpfields.members(value):
        if _SF_KEY.fullmatch(key := m.head.lower()):
            out.setdefault(key, m.value)
    return out


def stream_label(value: str) -> str | None:
    """The AI status a stream label value names (a label word or a digital source type), or None."""
    v = value.strip()
    if v.lower() in STREAM_LABEL_WORDS:
        return STREAM_LABEL_WORDS[v.lower()]
    status = source_type_status(v)
    return status.value if status is not None else None


def source_type_term(value: str | None) -> str | None:
    """The bare term of a digital source type in any of its spellings (http, https, QCode, bare, schema.org)."""
    if not value:
        return None
    v = value.strip()
    for prefix in IPTC_DST_PREFIXES:
        if v.startswith(prefix):
            v = v[len(prefix) :]
            break
    v = v.rstrip("/")
    return _SCHEMA_ORG.get(v, v)


def source_type_status(value: str | None) -> AiStatus | None:
    """The AI status a source type declares; None when the value is not a known term."""
    term = source_type_term(value)
    return SOURCE_TYPES.get(term) if term else None


def plus_data_mining(value: str) -> Training | None:
    """The training use a PLUS DataMining value states, in its http or https spelling or as a bare code (only the
    http spelling conforms: labels.py reports the others)."""
    code = value.strip()
    for prefix in PLUS_DATA_MINING_PREFIXES:
        code = code.removeprefix(prefix)
    return PLUS_DATA_MINING.get(code)


def most_restrictive(values: list[Training]) -> Training:
    for t in TRAINING_ORDER:
        if t in values:
            return t
    return Training.UNSPECIFIED


# Disclosure sentences in captions, descriptions and comments: any that says whether AI made the work (a denial
# included: what it says is decided by disclosure()).
_DENIALS = (
    r"ai[- ]free|no (generative )?ai (was |were |has been )?(used|involved)|"
    r"(made|created|drawn|painted|written|composed|produced|recorded) without (the use of )?(any )?"
    r"(generative )?(ai|artificial intelligence)"
)
AI_PHRASES = re.compile(
    r"\b(ai[- ]generated|generated (by|with|using) (an? )?(ai|artificial intelligence|generative ai)|"
    r"(made|created|edited|dubbed|translated|voiced|synthesi[sz]ed|cloned|narrated) (with|by|using) "
    r"(google )?(ai|generative ai|artificial intelligence)|"
    r"ai[- ](assisted|enhanced|edited|modified|altered|retouched|dubbed|dubbing|translated|translation|"
    r"synthesi[sz]ed|cloned)|"
    r"synthetic(ally generated)? (media|content|voice|image)|ai[- ]generierte?|人工智能生成|ai生成|"
    # the EU's other working languages, as captions write them (German KI, French/Spanish/Italian IA)
    r"ki[- ]generiert(e|er|es|en)?|(mit|durch) (einer )?ki (erstellt|generiert|erzeugt|bearbeitet)|"
    r"(généré|générée|créé|créée|modifié|modifiée)s? (par|avec) (l'|une )?ia|"
    r"(generado|generada|creado|creada) (por|con) (la |una )?ia|"
    r"(generato|generata|creato|creata) (da|con) (l'|un'|una )?ia|(generato|generata|creato|creata) dall'ia|"
    r"ai[- ]gegenereerd|" + _DENIALS + r")\b",
    re.IGNORECASE,
)

# An A1111-style parameter block: prompt, then "Steps: N, Sampler: ..." (also in EXIF UserComment and ID3 comments).
SD_PARAMETERS = re.compile(r"\bSteps: \d+, Sampler: ", re.IGNORECASE)

# Generation parameters that regenerate part of an existing picture (inpainting, outpainting): made with AI, as C2PA
# records generative fill (c2pa.edited with compositeWithTrainedAlgorithmicMedia). img2img, which regenerates the
# whole picture from an input image, stays fully_ai (C2PA: c2pa.created with trainedAlgorithmicMedia, the input an
# inputTo ingredient); so does a hires-fix second pass. Markers: A1111's infotext keys for a mask, ComfyUI's mask and
# outpaint nodes, InvokeAI's generation mode.
PARTIAL_GENERATION = re.compile(
    r"\b(Mask blur|Inpaint area|Masked area padding|Masked content|Mask mode|Soft inpainting enabled): |"
    r'"class_type":\s*"(VAEEncodeForInpaint|InpaintModelConditioning|SetLatentNoiseMask|ImagePadForOutpaint)"|'
    r'"generation_mode":\s*"(sdxl_)?(inpaint|outpaint)"'
)


def generation(parameters: str) -> AiStatus:
    """What a generator's own parameters say it made: part of an existing picture, or all of it."""
    return AiStatus.MADE_WITH_AI if PARTIAL_GENERATION.search(parameters) else AiStatus.FULLY_AI


# Sentences that say AI made part of the work (the union's "made with AI-generated work"), not all of it: AI edits,
# AI assistance, AI-generated parts or elements, AI dubbing or translation of a performance (as C2PA's c2pa.dubbed
# and c2pa.translated with an AI source type). "Made with (Google) AI" alone stays fully_ai: Google writes it on
# images its models generated, and "Edited with Google AI" on those they edited.
PARTIAL_PHRASES = re.compile(
    r"\b((edited|modified|enhanced|altered|retouched|assisted) (with|by|using)|"
    r"ai[- ](assisted|enhanced|edited|modified|altered|retouched)|made with ai[- ]generated|"
    r"dub|dubbed|dubbing|translated|translation|"
    r"partially|partly|in part|with the help of|teilweise|(mit|durch) (einer )?ki bearbeitet|en partie|"
    r"(modifié|modifiée)s? (par|avec) (l'|une )?ia|parcialmente|in parte|gedeeltelijk|"
    r"(contains|includes|including|incorporates|incorporating|uses|using) (some )?(ai|generative ai)\b|"
    r"(contains|includes|including|incorporates|incorporating|uses|using) (some )?ai[- ]generated|"
    r"ai[- ]generated (elements|parts|portions|material|assets|background|backgrounds|sections|passages))",
    re.IGNORECASE,
)
_DENIAL = re.compile(r"\b(" + _DENIALS + r")\b", re.IGNORECASE)
# A negation just before an AI phrase ("not AI-generated", "never generated by AI", "non-AI"): a few words at most.
_NEGATED = re.compile(
    r"\b(not|no|never|non|without|isn't|wasn't|aren't|nicht|kein|keine|ohne|sans|pas|sin|niet|geen)\b"
    r"[^.!?;:,]{0,24}$",
    re.IGNORECASE,
)


def disclosure(text: str) -> AiStatus:
    """What a disclosure sentence says: not_ai when every AI phrase in it is denied ("not AI-generated", "AI-free",
    "made without AI"), made_with_ai when it says AI made part of the work, else fully_ai."""
    claims = [
        m
        for m in AI_PHRASES.finditer(text)
        if not _DENIAL.fullmatch(m.group()) and not _NEGATED.search(text[max(0, m.start() - 40) : m.start()])
    ]
    if not claims:
        return AiStatus.NOT_AI
    return AiStatus.MADE_WITH_AI if PARTIAL_PHRASES.search(text) else AiStatus.FULLY_AI
