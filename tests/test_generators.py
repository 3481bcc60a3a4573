"""The generator registry (labelcheck/classify/generators.yaml): it validates, its marks match what the generators
write and nothing else, its carriers name what labelcheck's own reader produces, and it ships in the wheel."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from labelcheck import resources
from labelcheck.classify import generators as reg

GENERATORS = reg.load()
BY_ID = {g.id: g for g in GENERATORS}
CARRIERS = resources.schema("generators")["$defs"]["carrier"]["enum"]


A1111 = "a lighthouse\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512"


def loader(field: str, name: str) -> dict:
    """A ComfyUI API-graph node that loads a model file."""
    return {"12": {"class_type": "UNETLoader", "inputs": {field: name}}}


def graph(field: str, name: str) -> str:
    return json.dumps(loader(field, name))


def raw() -> dict:
    return yaml.safe_load(reg.REGISTRY.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------------ the data itself


def test_the_registry_validates_against_its_schema():
    resources.validator("generators").validate(raw())
    assert resources.schema("generators")["$id"] == "urn:labelcheck:schema:generators"


def test_at_least_eighty_generators_each_with_a_source_and_a_mark():
    assert len(GENERATORS) >= 80
    assert len(BY_ID) == len(GENERATORS)  # ids are unique
    for g in GENERATORS:
        assert g.sources and all(s.startswith(("https://", "http://")) for s in g.sources), g.id
        assert g.marks and g.default in reg.STATUSES, g.id


# The vendors and tools the issue names: images, video, audio and voice, Western and Chinese.
ISSUE_VENDORS = (
    "OpenAI", "Google", "Adobe", "Microsoft", "Midjourney", "Stability AI", "Black Forest Labs", "Ideogram", "Leonardo",
    "Runway", "Pika", "Luma", "Kling", "MiniMax", "Hailuo", "Suno", "Udio", "ElevenLabs", "Meta", "Amazon", "Baidu",
    "Alibaba", "ByteDance", "Tencent", "A1111", "ComfyUI", "InvokeAI", "Fooocus", "NovelAI", "Draw Things", "SwarmUI",
    "Krita AI Diffusion", "Canva", "Photoshop Generative Fill",
)  # fmt: skip
# Chinese names, each with a value a software field would hold
CHINESE_NAMES = {
    "可灵": "可灵AI",
    "海螺": "海螺AI",
    "即梦": "即梦AI",
    "豆包": "豆包",
    "通义万相": "通义万相",
    "混元": "腾讯混元",
    "文心": "文心一格",
}


def test_the_registry_spans_media_vendors_and_languages():
    media = {m for g in GENERATORS for m in g.media}
    assert media == {"image", "video", "audio", "voice"}
    named = " | ".join(f"{g.vendor} {g.product}" for g in GENERATORS)
    assert [name for name in ISSUE_VENDORS if name not in named] == []
    assert [name for name in CHINESE_NAMES if name not in named] == []
    # each Chinese name is also a mark: found in a software field
    assert [v for v in CHINESE_NAMES.values() if reg.named_in("XMP-xmp:CreatorTool", v) is None] == []
    assert {g.default for g in GENERATORS} == set(reg.STATUSES)


def test_every_pattern_compiles_and_every_carrier_is_in_the_closed_list():
    for g in GENERATORS:
        for m in g.marks:
            assert m.regex.pattern
            assert set(m.carriers) <= set(CARRIERS), g.id
    # the carrier families name only carriers of the list
    keys = {reg._key(c) for c in CARRIERS}
    for fam in reg._FAMILIES:
        assert fam <= keys, fam - keys


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["generators"][0]["marks"][0].update(pattern="(unclosed"), "does not compile"),
        (lambda d: d["generators"][1].update(id=d["generators"][0]["id"]), "listed twice"),
        (lambda d: d["generators"][0]["marks"][0].update(carrier="exif.Nowhere"), "generators/0/marks/0/carrier"),
        (lambda d: d["generators"][0].update(default="maybe"), "generators/0/default"),
        (lambda d: d["generators"][0].update(sources=[]), "generators/0/sources"),
        (lambda d: d["generators"][0]["marks"][0].update(carrier="c2pa.vendor_assertion"), "assertion"),
        (lambda d: d["generators"][0]["marks"][0].update(literal="x"), "generators/0/marks/0"),  # both kinds
    ],
)
def test_a_broken_registry_is_refused(mutate, message):
    data = copy.deepcopy(raw())
    mutate(data)
    with pytest.raises(reg.RegistryError, match=message):
        reg.parse(data)


def test_a_literal_is_a_whole_word():
    mark = {"carrier": "png.Software", "literal": "Nova", "example": "Nova"}
    (g,) = reg.parse({"generators": [{**raw()["generators"][0], "marks": [mark]}]})
    rx = g.marks[0].regex
    assert rx.search("Nova 2") and rx.search("made by nova")
    assert not rx.search("Novacane") and not rx.search("SuperNova")


# ------------------------------------------------------------------------------------- what matches, what does not


@pytest.mark.parametrize("gen", GENERATORS, ids=lambda g: g.id)
def test_each_generators_marks_match_the_values_it_writes(gen):
    """The example of every mark, as the generator writes it, is matched to that generator on every carrier of the
    mark (and, through the carrier family, on the other names of the same field)."""
    for m in gen.marks:
        for c in m.carriers:
            for alias in reg.family(c):
                found = reg.match(alias, m.example)
                assert found is not None and found.id == gen.id, (gen.id, alias, found and found.id)


def test_no_two_generators_tie_on_a_value():
    """Where two generators' marks match one value (an example, or a product name, on any carrier), their priorities
    differ, so the winner is documented: no value is claimed by two generators of the same priority."""
    values = [m.example for g in GENERATORS for m in g.marks] + [g.product for g in GENERATORS]
    for value in values:
        for c in CARRIERS:
            found = reg.matches(c, value)
            if len(found) > 1:
                assert found[0].priority > found[1].priority, (c, value, [g.id for g in found])


def test_a_model_named_in_ui_parameters_outranks_the_ui():
    graph = json.dumps({"3": {"class_type": "KSampler"}, **loader("unet_name", "flux1-dev.safetensors")})
    assert [g.id for g in reg.matches("png.prompt", graph)] == ["flux-1", "comfyui"]
    infotext = f"{A1111}, Model: flux1-dev-bnb-nf4, Version: f2.0.1v1.10.1"
    order = ["flux-1", "forge", "automatic1111", "diffusion-parameters"]  # the generic mark last of all
    assert [g.id for g in reg.matches("png.parameters", infotext)] == order


def test_parameters_of_a_ui_nobody_registered_are_still_generated():
    """A prompt, a seed, a number of steps and a guidance scale, as JSON or key: value text, in any parameters field:
    the generic mark (lowest priority) reads them as generated; a caption that mentions seeds or steps is not."""
    unknown = json.dumps({"positive": "a lighthouse", "seed": 7, "num_inference_steps": 30, "guidance_scale": 4.5})
    for carrier in ("exif.ImageDescription", "exif.UserComment", "png.Comment", "exif.Model", "quicktime.Comment"):
        assert reg.match(carrier, unknown).id == "diffusion-parameters", carrier
    assert reg.match("exif.UserComment", "Prompt: a cat. Seed: 5, Steps: 30, Guidance scale: 3.5").id == (
        "diffusion-parameters"
    )
    caption = "Planting guide: sow the seeds in spring; steps to a good harvest, with the prompt watering"
    assert reg.match("xmp.Description", caption) is None


NOT_GENERATORS = [
    "Canon EOS R5",
    "NIKON Z 9",
    "iPhone 15 Pro",
    "Apple",
    "Google",  # e.g. an MP4 encoder tag: the vendor alone names no generator
    "Pixel Camera",
    "Google C2PA Core Generator Library 948041873:948041873",  # also signs Pixel camera photos
    "Adobe Photoshop 25.0 (Macintosh)",
    "Adobe_Photoshop/26.11.0 adobe_c2pa/0.14.2 c2pa-rs/0.43.0",
    "Adobe Photoshop Lightroom Classic 13.0 (Windows)",
    "Adobe Lightroom",
    "GIMP 2.10.36",
    "darktable 4.6.1",
    "Capture One 23 Macintosh",
    "DaVinci Resolve",
    "Final Cut Pro",
    "Lavf60.16.100",
    "HandBrake 1.7.2 2023121800",
    "FFmpeg",
    "Topaz DeNoise AI 3.7",
    "Flux capacitor repair shop",
    "a talk about AI",
    "SAID",
    "AIDA64",
    "Klingon opera recording",
    "Wan Chai, Hong Kong",
    "Sora Aoi",
    "Chroma key studio",
    "Kolorspace",
    "LumaFusion 4.1",  # a video editor: "Luma" alone is no mark
    "Luminar Neo 1.20",
    "Gemini 2",  # a duplicate finder: Gemini is a mark only as an image model's name
    "CapCut",  # ByteDance's editor, not Jimeng/Dreamina
    "Canva",
    "Meta",
    "Emu",
    "Veo Cam 3",
    "Imagen",
    "Leonardo da Vinci",
    "Kling",
    "Suno",
    "MiniMax",
    "ERNIE",
    "Wan 2.1",
    "Pikachu",
    "Lyria",
    "Playground",
    "Magic Media Ltd",
    "文心雕龙",  # a classical title: 文心 alone is no mark
    "Opened a pre-existing file",  # Photoshop's own action descriptions
    "Used cropping tools, reducing or expanding visible content area",
    "The quick brown fox: Steps 1-3 of the guide",
]


# Carriers whose key alone is the mark (Easy Diffusion writes each setting as its own PNG chunk): any value matches.
KEY_IS_THE_MARK = {"png.use_stable_diffusion_model"}


@pytest.mark.parametrize("value", NOT_GENERATORS)
def test_camera_and_software_names_match_nothing_on_any_carrier(value):
    carriers = [c for c in CARRIERS if c not in KEY_IS_THE_MARK] + ["exif.Artist", "xmp.Creator"]
    hits = {c: [g.id for g in reg.matches(c, value)] for c in carriers}
    assert {c: ids for c, ids in hits.items() if ids} == {}


def test_sora_as_a_persons_name_is_not_sora():
    assert reg.match("exif.Artist", "Sora") is None
    assert reg.match("xmp.Creator", "Sora") is None
    assert reg.match("c2pa.claim_generator_info", "Sora Aoi") is None
    assert reg.match("c2pa.claim_generator_info", "Sora").id == "openai-sora"
    assert reg.match("c2pa.softwareAgent", "Sora 2").id == "openai-sora"


# ------------------------------------------------------------------------- names in software fields (was vocab)

SOFTWARE_KEYS = ("IFD0:Software", "XMP-xmp:CreatorTool", "QuickTime:Encoder", "ID3v2_4:EncoderSettings")
NAMED_IN_SOFTWARE = [
    ("Midjourney v6.1", "midjourney"),
    ("DALL·E 3", "openai-dall-e"),
    ("Stable Diffusion XL", "sdxl"),
    ("Stable Video Diffusion", "stable-video-diffusion"),
    ("Adobe Firefly Image 3", "adobe-firefly"),
    ("Imagen 4", "google-imagen"),
    ("Gemini 2.5 Flash Image", "google-gemini-image"),
    ("gpt-image-1", "openai-chatgpt-images"),
    ("FLUX.1 [dev]", "flux-1"),
    ("FLUX1.1 [pro]", "flux-1"),
    ("Flux Kontext", "flux-1"),
    ("Leonardo.Ai", "leonardo-ai"),
    ("Ideogram 2.0", "ideogram"),
    ("Recraft V3", "recraft"),
    ("Seedream 4.0", "bytedance-seedream"),
    ("Qwen-Image", "qwen-image"),
    ("Hunyuan Image 2.1", "hunyuan-image"),
    ("即梦AI", "bytedance-jimeng"),
    ("OpenAI Sora", "openai-sora"),
    ("Sora 2", "openai-sora"),
    ("Google Veo 3", "google-veo"),
    ("Runway Gen-4", "runway"),
    ("Kling 2.1", "kling"),
    ("KlingAI", "kling"),
    ("Hailuo 02", "minimax-hailuo"),
    ("Luma Dream Machine", "luma"),
    ("ElevenLabs", "elevenlabs"),
    ("Eleven Labs v3", "elevenlabs"),
    ("Suno v4.5", "suno"),
    ("suno.com", "suno"),
    ("Udio", "udio"),
    ("Resemble AI", "resemble-ai"),
    ("Play.ht", "playht"),
    ("Doubao-Seedream-4.0", "bytedance-seedream"),  # the model outranks the app that serves it
    ("ChatGPT DALL-E", "openai-dall-e"),
    ("Pika 2.2", "pika"),
    ("Nano Banana", "google-gemini-image"),
    ("DreamStudio", "stability-ai"),
    ("Bing Image Creator", "microsoft-designer"),
    ("通义万相", "alibaba-tongyi-wanxiang"),
    ("腾讯混元", "tencent-hunyuan"),
    ("文心一格", "baidu-ernie"),
    ("可灵AI", "kling"),
    ("Canva Magic Media", "canva-ai"),
    ("Imagine with Meta AI", "meta-ai"),
    ("MusicGen", "meta-audiocraft"),
    ("Murf AI", "murf"),
    ("WellSaid Labs", "wellsaid"),
    ("ComfyUI", "comfyui"),
    ("Fooocus v2.5.5", "fooocus"),
]
OTHER_SOFTWARE = [
    "Adobe Photoshop 25.0 (Macintosh)",
    "Capture One 23",
    "GIMP 2.10.34",
    "Lavf60.3.100",
    "LAME 3.100",
    "iPhone 15 Pro",
    "DaVinci Resolve",
    "Final Cut Pro 10.7",
    "Pixelmator Pro",
    "Sora",
    "Wan",
    "Suno",
    "Audio Hijack",
    "Studio One",
    "Lightroom Classic",
    "Veolia",
    "fluxus",
    "Darktable 4.6",
    "Adobe Premiere Pro 2024",
    "LumaFusion 4.1",
    "Gemini 2",
    "CapCut",
    "Runway",  # a word: a mark only with a model name (and, in C2PA, as the signer's whole name)
    "Krita 5.2.2",  # the editor: Krita AI Diffusion writes its own infotext
    "Topaz Photo AI 3.1",
]


@pytest.mark.parametrize("value, gid", NAMED_IN_SOFTWARE)
def test_generator_names_are_found_in_software_fields(value, gid):
    """What vocab.GENERATOR_NAMES found in Software, CreatorTool and encoder fields, the registry finds, and names."""
    assert {k: getattr(reg.named_in(k, value), "id", None) for k in SOFTWARE_KEYS} == dict.fromkeys(SOFTWARE_KEYS, gid)


@pytest.mark.parametrize("value", OTHER_SOFTWARE)
def test_other_software_is_not_taken_for_a_generator(value):
    assert {k: g.id for k in SOFTWARE_KEYS if (g := reg.named_in(k, value))} == {}


def test_a_name_that_names_other_things_needs_what_makes_it_the_generators():
    assert reg.match("exif.Software", "Sora") is None and reg.match("exif.Software", "Sora 2").id == "openai-sora"
    assert reg.match("exif.Software", "Suno") is None and reg.match("exif.Software", "Suno AI").id == "suno"
    assert (
        reg.match("exif.Software", "Imagen") is None
        and reg.match("exif.Software", "Google Imagen").id == "google-imagen"
    )
    assert reg.match("exif.Software", "Imagen 2 de la playa") is None  # Spanish: only the whole value is the model
    assert reg.match("id3.COMM", "made with suno; created=2025-01-01T00:00:00Z; id=x").id == "suno"
    assert reg.match("vorbis.COMMENT", "made with suno; created=2025-01-01T00:00:00Z; id=x").id == "suno"
    assert reg.match("id3.COMM", "a song made with Suno in mind") is None
    assert reg.match("id3.TENC", "ElevenLabs").id == "elevenlabs"  # who encoded it, and its ffprobe name
    assert reg.match("ffprobe.encoded_by", "ElevenLabs").id == "elevenlabs"
    assert reg.match("riff.CodingHistory", "A=PCM,F=44100,W=16,M=mono,T=ElevenLabs").id == "elevenlabs"


def test_an_editor_is_not_a_generator_but_its_generative_tool_is():
    assert reg.match("c2pa.claim_generator", "Adobe_Photoshop/25.0 adobe_c2pa/0.7.6 c2pa-rs/0.25.2") is None
    assert reg.match("exif.Software", "Adobe Photoshop 25.0 (Windows)") is None
    fill = reg.match("c2pa.action_description", "Generative Fill")
    assert fill is not None and fill.id == "adobe-photoshop-generative-fill" and fill.default == "made_with_ai"


def test_c2pa_values_as_the_reader_renders_them_with_a_version():
    assert reg.match("c2pa.softwareAgent", "GPT-4o 1.0").id == "openai-chatgpt-images"
    assert reg.match("c2pa.softwareAgent", "Adobe Firefly 4.0.0").id == "adobe-firefly"
    assert reg.match("c2pa.softwareAgent", "Azure OpenAI ImageGen 1.0").id == "azure-openai-images"


# ----------------------------------------------------------------------------------------- carriers and families


@pytest.mark.parametrize(
    "key, value, carrier, rest",
    [
        ("IFD0:Software", "x", "exif.Software", "x"),
        ("ExifIFD:UserComment", "x", "exif.UserComment", "x"),
        ("IFD1:Model", "x", "exif.Model", "x"),
        ("XMP-xmp:CreatorTool", "x", "xmp.CreatorTool", "x"),
        ("XMP-photoshop:Credit", "x", "xmp.Credit", "x"),
        ("PNG:Parameters", "x", "png.Parameters", "x"),
        ("IPTC:OriginatingProgram", "x", "iptc.OriginatingProgram", "x"),
        ("ID3v2_4:UserDefinedText", "(prompt) {}", "id3.TXXX:prompt", "{}"),
        ("ID3v2_4:prompt", "{}", "id3.TXXX:prompt", "{}"),  # a signal: tags.py already split the TXXX description
        ("ID3v2_3:EncoderSettings", "x", "id3.TSSE", "x"),
        ("ID3v2_4:EncodedBy", "x", "id3.TENC", "x"),
        ("Keys:Prompt", "x", "quicktime.Prompt", "x"),
        ("ItemList:Encoder", "x", "quicktime.Encoder", "x"),
        ("Track1:HandlerType", "x", "quicktime.HandlerType", "x"),
        ("Vorbis:Prompt", "x", "vorbis.Prompt", "x"),
        ("RIFF:Software", "x", "riff.Software", "x"),
        ("MXF:ApplicationName", "x", "mxf.ApplicationName", "x"),
        ("format:encoder", "x", "ffprobe.encoder", "x"),
        ("stream:0:audio:comment", "x", "ffprobe.comment", "x"),
        ("File:FileName", "x", None, None),
        ("Composite:ImageSize", "x", None, None),
        ("nogroup", "x", None, None),
    ],
)
def test_carrier_of_names_the_field_whatever_the_container(key, value, carrier, rest):
    got = reg.carrier_of(key, value)
    assert got == ((carrier, rest) if carrier else None)


def test_carriers_compare_without_case_and_spaces_and_families_join_names_of_one_field():
    assert reg.match("png.Parameters", "Steps: 20, Sampler: Euler a").id == "automatic1111"
    assert reg.family("PNG.Generation time") == frozenset({"png.generationtime"})
    assert reg.match("xmp.Software", "Fooocus v2.5.5").id == "fooocus"  # a mark on exif.Software
    assert reg.match("png.Software", "Draw Things").id == "draw-things"  # a mark on xmp.CreatorTool
    assert reg.match("iptc.Caption-Abstract", "x --v 6 Job ID: 5d2f7c1e-9a3b-4c8d").id == "midjourney"
    graph = '{"4": {"inputs": {"ckpt_name": "stable_audio_open_1.0.safetensors"}}}'
    for c in ("id3.TXXX:prompt", "vorbis.prompt", "quicktime.prompt", "ffprobe.prompt"):
        assert reg.match(c, graph).id == "stable-audio-open", c


# ------------------------------------------------------------------------------ real files, read as labelcheck does

EXIFTOOL_PNG_KEYS = """%Image::ExifTool::UserDefined = (
    'Image::ExifTool::PNG::TextualData' => {
        parameters => { }, prompt => { }, invokeai_metadata => { }, fooocus_scheme => { },
    },
);
1;
"""


SUNO_ID = "116d34f4-b3d5-48b8-9334-011b1dd1df00"
KRITA = "Model hash: unknown, Model: juggernautXL_v9.safetensors, Mode: Generate"
VHS_COMMENT = json.dumps({"prompt": loader("unet_name", "hunyuan_video_t2v_720p_bf16.safetensors")})
WAN = graph("unet_name", "wan2.1_t2v_1.3B_fp16.safetensors")

# (generator expected, made by: "exiftool"/"ffmpeg", base file, arguments, whether labelcheck makes a signal of it)
COMFY_GRAPH = (
    '{"3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20}}, "6": {"class_type": "CLIPTextEncode"}}'
)
CASES = [
    ("fooocus", "exiftool", "jpg", ["-EXIF:Software=Fooocus v2.5.5"], True),
    ("comfyui", "exiftool", "webp", [f"-EXIF:ImageDescription={COMFY_GRAPH}"], True),  # a saver's graph in WebP EXIF
    (
        "diffusion-parameters",
        "exiftool",
        "jpg",
        ['-EXIF:ImageDescription={"positive": "a cat", "seed": 7, "num_inference_steps": 30, "guidance_scale": 4.5}'],
        True,
    ),  # fmt: skip
    ("topaz-gigapixel", "exiftool", "webp", ["-EXIF:Software=Topaz Gigapixel AI 7.1.2"], True),
    (
        "qwen-image",
        "exiftool",
        "webp",
        [f"-EXIF:Model=prompt:{graph('unet_name', 'qwen_image_fp8_e4m3fn.safetensors')}"],
        False,
    ),
    ("draw-things", "exiftool", "jpg", ["-XMP-xmp:CreatorTool=Draw Things"], True),
    ("google-generative-ai", "exiftool", "jpg", ["-XMP-photoshop:Credit=Made with Google AI"], True),
    ("google-photos-ai-edit", "exiftool", "jpg", ["-XMP-photoshop:Credit=Edited with Google AI"], True),
    ("mochi-diffusion", "exiftool", "jpg", ["-IPTC:OriginatingProgram=Mochi Diffusion"], True),
    ("sd-next", "exiftool", "jpg", [f"-EXIF:UserComment={A1111}, App: SD.Next, Version: cb0eb55"], True),
    ("swarmui", "exiftool", "jpg", ['-EXIF:UserComment={"sui_image_params": {"prompt": "a lighthouse"}}'], False),
    ("novelai", "exiftool", "png", ["-PNG:Software=NovelAI"], True),
    ("automatic1111", "exiftool", "png", [f"-PNG:parameters={A1111}, Version: v1.10.1"], True),
    ("forge", "exiftool", "png", [f"-PNG:parameters={A1111}, Version: f2.0.1v1.10.1-previous-664"], True),
    ("civitai", "exiftool", "png", [f'-PNG:parameters={A1111}, Civitai resources: [{{"type":"checkpoint"}}]'], True),
    ("comfyui", "exiftool", "png", ['-PNG:prompt={"3": {"class_type": "KSampler", "inputs": {"steps": 20}}}'], True),
    ("flux-1", "exiftool", "png", [f"-PNG:prompt={graph('unet_name', 'flux1-dev.safetensors')}"], True),
    ("invokeai", "exiftool", "png", ['-PNG:invokeai_metadata={"generation_mode": "txt2img"}'], True),
    ("fooocus", "exiftool", "png", ["-PNG:fooocus_scheme=fooocus"], True),
    ("midjourney", "exiftool", "png", ["-PNG:Description=a lighthouse --v 6.1 Job ID: 5d2f7c1e-9a3b-4c8d-b1e2"], False),
    ("hunyuan-video", "exiftool", "mp4", [f"-ItemList:Comment={VHS_COMMENT}"], False),
    (
        "stable-audio-open",
        "ffmpeg",
        "mp3",
        ["-metadata", f"prompt={graph('ckpt_name', 'stable_audio_open_1.0.safetensors')}"],
        False,
    ),
    (
        "ace-step",
        "ffmpeg",
        "flac",
        ["-metadata", f"prompt={graph('ckpt_name', 'ace_step_v1_3.5b.safetensors')}"],
        False,
    ),
    ("wan", "ffmpeg", "mp4", ["-movflags", "use_metadata_tags", "-metadata", f"prompt={WAN}"], False),
    (
        "suno",
        "ffmpeg",
        "mp3",
        ["-metadata", f"comment=made with suno; created=2025-10-08T16:20:02Z; id={SUNO_ID}"],
        True,
    ),
    ("elevenlabs", "ffmpeg", "mp3", ["-metadata", "encoded_by=ElevenLabs"], True),
    ("ideogram", "exiftool", "jpg", ["-EXIF:Software=Ideogram 2.0"], True),
    ("bytedance-jimeng", "exiftool", "png", ["-XMP-xmp:CreatorTool=即梦AI"], True),
    ("google-gemini-image", "exiftool", "jpg", ["-IPTC:OriginatingProgram=Nano Banana"], True),
    ("kling", "exiftool", "mp4", ["-ItemList:Encoder=Kling 2.1"], True),
    ("meta-ai", "exiftool", "webp", ["-XMP-xmp:CreatorTool=Imagine with Meta AI"], True),
    ("krita-ai-diffusion", "exiftool", "png", [f"-PNG:parameters={A1111}, {KRITA}"], True),
]
SOURCES = {
    "jpg": ["-f", "lavfi", "-i", "color=c=gray:s=16x16", "-frames:v", "1"],
    "png": ["-f", "lavfi", "-i", "color=c=gray:s=16x16", "-frames:v", "1"],
    "webp": ["-f", "lavfi", "-i", "color=c=gray:s=16x16", "-frames:v", "1"],
    "mp4": ["-f", "lavfi", "-i", "color=c=gray:s=16x16:d=0.2", "-pix_fmt", "yuv420p"],
    "mp3": ["-f", "lavfi", "-i", "sine=d=0.2"],
    "flac": ["-f", "lavfi", "-i", "sine=d=0.2"],
}
needs_tools = pytest.mark.skipif(
    not (shutil.which("exiftool") and shutil.which("ffmpeg")), reason="exiftool and ffmpeg are needed"
)


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> list[tuple[str, bool, Path]]:
    """One real file per case: an ffmpeg-made JPEG/PNG/WebP/MP4/MP3/FLAC, its metadata written by exiftool (ID3,
    Vorbis and MP4 `mdta` keys by ffmpeg, as exiftool does not write them)."""
    d = tmp_path_factory.mktemp("generators")
    config = d / "png-keys.config"
    config.write_text(EXIFTOOL_PNG_KEYS, encoding="utf-8")
    out = []
    for n, (gid, tool, ext, args, signal) in enumerate(CASES):
        base, path = d / f"base{n}.{ext}", d / f"{gid}-{n}.{ext}"
        ff = ["ffmpeg", "-loglevel", "error", "-y"]
        subprocess.run([*ff, *SOURCES[ext], str(base)], check=True, timeout=60)
        if tool == "exiftool":
            shutil.copyfile(base, path)
            cmd = ["exiftool", "-config", str(config), "-q", "-overwrite_original", *args, str(path)]
        else:
            cmd = [*ff, "-i", str(base), "-c", "copy", *args, str(path)]
        subprocess.run(cmd, check=True, timeout=60)
        out.append((gid, signal, path))
    return out


@needs_tools
def test_real_files_are_matched_through_labelcheck_s_reader(written):
    """Each file is read by labelcheck's own exiftool session; every tag is mapped to its carrier and matched. Where
    labelcheck makes a signal of the field (software, generator chunks, disclosure text), the signal's key and value
    lead to the same generator."""
    from labelcheck.extract.exiftool import ExifToolSession
    from labelcheck.extract.tags import signals_from_exiftool

    with ExifToolSession() as session:
        results = session.read([p for _, _, p in written])
    seen_carriers = set()
    for (gid, _, path), tags in zip(written, results, strict=True):
        assert isinstance(tags, dict), (path, tags)
        from_tags = []
        for key, value in tags.items():
            if (cv := reg.carrier_of(key, str(value))) and (found := reg.matches(*cv)):
                seen_carriers.add(cv[0])
                from_tags.append(found[0].id)
        assert gid in from_tags, (path.name, from_tags, tags)
        from_signals = [
            found[0].id
            for s in signals_from_exiftool(tags)
            if (cv := reg.carrier_of(s.key, s.value)) and (found := reg.matches(*cv))
        ]
        assert gid in from_signals, (path.name, from_signals)  # every registered field is read as a signal
    assert len({case[0] for case in CASES}) >= 15
    assert {c.split(".")[0] for c in seen_carriers} >= {"exif", "xmp", "iptc", "png", "id3", "vorbis", "quicktime"}


@needs_tools
def test_each_file_is_classified_by_what_its_generator_makes(written):
    """The registry decides the verdict of a field it knows, wherever the field is (WebP EXIF, EXIF Make/Model,
    ID3/Vorbis/MP4 keys): before it was wired in, the fields outside labelcheck's hand-kept list read unknown."""
    from conftest import checked_scan

    by_id = {g.id: g for g in reg.load()}
    _, doc = checked_scan([p for _, _, p in written])
    got = {Path(r["target"]).name: r["ai"] for r in doc["results"]}
    for gid, _, path in written:
        ai = got[path.name]
        assert ai["status"] == by_id[gid].default and ai["basis"] == "non_standard", (path.name, ai)


# --------------------------------------------------------------------------------------- the CLI and the wheel


def test_the_cli_lists_the_registry():
    from click.testing import CliRunner

    from labelcheck.commands.generators import generators

    table = CliRunner().invoke(generators, [], env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    heads = [line for line in lines if not line.startswith(" ")]
    assert [h.split()[0] for h in heads] == [g.id for g in GENERATORS]  # one block per generator, in order
    assert max(map(len, lines)) <= 80  # a table a person reads: wrapped to the width, carriers never cut
    assert all(c in table.output for g in GENERATORS for c in g.carriers)
    js = CliRunner().invoke(generators, ["--format", "json"])
    assert js.exit_code == 0, js.output
    records = json.loads(js.output)
    assert [r["id"] for r in records] == [g.id for g in GENERATORS]
    assert {"vendor", "product", "media", "default", "carriers", "marks", "sources"} <= set(records[0])
