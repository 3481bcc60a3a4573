from labelcheck.classify import vocab
from labelcheck.model import AiStatus, Training


def test_source_type_spellings_all_map_to_the_term():
    for v in (
        "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
        "https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
        "trainedAlgorithmicMedia",
        "digsrctype:trainedAlgorithmicMedia",
        "https://schema.org/TrainedAlgorithmicMediaDigitalSource",
    ):
        assert vocab.source_type_term(v) == "trainedAlgorithmicMedia"
        assert vocab.source_type_status(v) is AiStatus.FULLY_AI


def test_c2pa_only_terms_and_retired_terms():
    assert vocab.source_type_status("http://c2pa.org/digitalsourcetype/trainedAlgorithmicData") is AiStatus.FULLY_AI
    assert vocab.source_type_status("http://c2pa.org/digitalsourcetype/empty") is AiStatus.NOT_AI
    assert vocab.source_type_status("c2pa.trainedAlgorithmicData") is AiStatus.FULLY_AI
    assert vocab.source_type_status("digitalArt") is AiStatus.POSSIBLY_AI
    assert vocab.source_type_status("softwareImage") is AiStatus.NOT_AI
    assert vocab.source_type_status("minorHumanEdits") is AiStatus.NOT_AI


def test_classes_of_the_vocabulary():
    assert vocab.source_type_status("compositeWithTrainedAlgorithmicMedia") is AiStatus.MADE_WITH_AI
    assert vocab.source_type_status("compositeSynthetic") is AiStatus.MADE_WITH_AI
    for t in ("composite", "screenCapture", "virtualRecording"):
        assert vocab.source_type_status(t) is AiStatus.POSSIBLY_AI
    for t in ("digitalCapture", "computationalCapture", "algorithmicMedia", "compositeCapture", "humanEdits"):
        assert vocab.source_type_status(t) is AiStatus.NOT_AI


def test_unknown_values_are_not_guessed():
    assert vocab.source_type_status("http://example.org/madeUp") is None
    assert vocab.source_type_status("") is None
    assert vocab.source_type_status(None) is None


def test_plus_data_mining_codes():
    assert vocab.plus_data_mining("http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING") is Training.NOT_ALLOWED
    assert vocab.plus_data_mining("DMI-ALLOWED") is Training.ALLOWED
    assert vocab.plus_data_mining("DMI-PROHIBITED-SEECONSTRAINT") is Training.CONSTRAINED
    assert vocab.plus_data_mining("DMI-UNSPECIFIED") is Training.UNSPECIFIED
    assert vocab.plus_data_mining("nonsense") is None


def test_most_restrictive_wins():
    assert vocab.most_restrictive([Training.ALLOWED, Training.NOT_ALLOWED]) is Training.NOT_ALLOWED
    assert vocab.most_restrictive([Training.ALLOWED, Training.CONSTRAINED]) is Training.CONSTRAINED
    assert vocab.most_restrictive([Training.UNSPECIFIED, Training.ALLOWED]) is Training.ALLOWED
    assert vocab.most_restrictive([]) is Training.UNSPECIFIED
