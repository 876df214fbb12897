"""The learned content classifier: its loader, embeddings, shipped files and packaging."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from auditor.config import DEFAULT_THRESHOLDS, ClassifierConfig, RulesConfig
from auditor.errors import ConfigError
from auditor.text import classifier
from auditor.text.embedding import ModelFileError, StaticEmbedding
from auditor.text.matcher import TextMatcher
from auditor.text.sentences import sentences, shipped_model
from tests.rules.helpers import DISTRICT

SHIPPED = shipped_model()
_SPEC = importlib.util.spec_from_file_location(
    "build_classifier", Path(__file__).resolve().parents[2] / "tools" / "build_classifier.py"
)
assert _SPEC is not None and _SPEC.loader is not None
build_classifier = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(build_classifier)
SPENT = build_classifier.SPENT


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """A copy of the shipped model folder that a test may break."""
    return Path(shutil.copytree(SHIPPED, tmp_path / "model"))


def test_the_shipped_model_loads_and_scores_in_0_1() -> None:
    model = classifier.load(SHIPPED.resolve())
    assert (
        model.heads[0] == "DS3" and "DS6:health" in model.heads and "DS8:political" in model.heads
    )
    scores = model.scores(["Go Hatters! Bus leaves at 3.", "I will hurt you after school"])
    assert scores.shape == (2, len(model.heads))
    assert ((scores >= 0) & (scores <= 1)).all()
    column = model.heads.index("DS3")
    assert scores[1, column] > scores[0, column]


def test_a_folder_is_read_once_per_process() -> None:
    assert classifier.load(SHIPPED.resolve()) is classifier.load(SHIPPED.resolve())


def test_the_shipped_files_are_what_the_build_script_recorded() -> None:
    meta = json.loads((SHIPPED / "model.json").read_text(encoding="utf-8"))
    assert meta["format"] == classifier.FORMAT
    assert "Apache-2.0" in meta["license"] and "all-MiniLM-L6-v2" in meta["source"]
    assert meta["build_command"].startswith("python tools/build_classifier.py")
    held_out = [n.rsplit("/", 1)[-1] for n in meta["inputs"] if "holdout" in n]
    assert set(held_out) <= SPENT  # only sets already measured, never the next one
    for name, digest in meta["files"].items():
        assert hashlib.sha256((SHIPPED / name).read_bytes()).hexdigest() == digest, name
    shipped = {p.name for p in SHIPPED.iterdir()} - {"model.json", "MODEL.md", "LICENSE"}
    assert shipped == set(meta["files"])  # nothing shipped that the script did not make
    size = sum(p.stat().st_size for p in SHIPPED.iterdir())
    assert size < 10 * 2**20


def test_the_build_refuses_a_held_out_file_not_yet_measured(tmp_path: Path) -> None:
    unspent = tmp_path / "holdout-12.jsonl"  # refused by its name, never opened
    with pytest.raises(SystemExit, match="never trained on"):
        build_classifier.main(["--heads-only", "--out", str(tmp_path), "--corpus", str(unspent)])


def test_the_package_does_not_require_torch() -> None:
    needed = [r.split(";")[0].strip().lower() for r in requires("page-auditor") or []]
    names = {r.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip() for r in needed}
    assert "torch" not in names and "model2vec" not in names and "transformers" not in names
    assert {"numpy", "tokenizers"} <= names


def test_embeddings_are_deterministic_unit_vectors_batched_or_not() -> None:
    embedding = classifier.load(SHIPPED.resolve()).embedding
    texts = ["Practice is at 4 in the gym.", "", "¡Felicidades al equipo!"]
    batch = embedding.embed(texts)
    assert np.array_equal(batch, embedding.embed(texts))
    for row, text in enumerate(texts):
        assert np.allclose(batch[row], embedding.embed([text])[0], atol=1e-6)
    assert np.allclose(np.linalg.norm(batch[[0, 2]], axis=1), 1.0, atol=1e-5)
    assert not batch[1].any()  # no tokens: no direction


BATCH = [
    "Practice moves to 4pm. I will hurt you after school, Tyler. Bring water.",
    "",
    "   \n\n  ",
    "Dr. Lane says hi!\n\nSee you Mrs. Cho.  Bye",
    "one sentence without an end",
    "🎉🎉",
    "¡Felicidades al equipo! Vote for Smith on Tuesday.",
    "Practice moves to 4pm. I will hurt you after school, Tyler. Bring water.",
]


def test_a_batch_scores_each_text_as_it_scores_alone() -> None:
    model = classifier.load(SHIPPED.resolve())
    together = model.scores(BATCH)
    for row, text in enumerate(BATCH):  # texts without tokens between others move nothing
        assert np.allclose(together[row], model.scores([text])[0], atol=1e-5), text
    dense, _ = classifier.features(model.embedding, BATCH)
    assert not dense[[1, 2]].any()  # no tokens, no features: the heads' biases alone
    assert np.array_equal(together[0], together[7])


def test_many_texts_are_featured_a_batch_at_a_time_as_all_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    embedding = classifier.load(SHIPPED.resolve()).embedding
    whole, whole_ids = classifier.features(embedding, BATCH)
    monkeypatch.setattr(classifier, "_BATCH", 3)  # batches of 3, 3 and 2 texts
    parts, part_ids = classifier.features(embedding, BATCH)
    assert parts.shape == whole.shape and np.allclose(parts, whole, atol=1e-6)
    assert [list(i) for i in part_ids] == [list(i) for i in whole_ids]


def test_a_primed_page_is_scored_as_its_posts_are_one_by_one() -> None:
    alone = classifier.load(SHIPPED.resolve())
    primed = classifier.Classifier(
        alone.embedding, alone.heads, alone._dense, alone._tokens, alone._bias
    )
    primed.prime(BATCH)
    for text in BATCH:
        for head in ("DS3", "DS6:health", "DS8:political"):
            expected = classifier.Classifier(
                alone.embedding, alone.heads, alone._dense, alone._tokens, alone._bias
            ).score(text, head)
            assert primed.score(text, head) == pytest.approx(expected, abs=1e-5)
        assert primed.trigger(BATCH[0], "DS3") == alone.trigger(BATCH[0], "DS3")


def test_priming_keeps_no_more_than_the_cache_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classifier, "_CACHE_SIZE", 3)
    alone = classifier.load(SHIPPED.resolve())
    primed = classifier.Classifier(
        alone.embedding, alone.heads, alone._dense, alone._tokens, alone._bias
    )
    primed.prime([f"Post number {n}." for n in range(10)])
    assert list(primed._cache) == ["Post number 0.", "Post number 1.", "Post number 2."]


def test_the_trigger_is_the_sentence_that_scores_highest() -> None:
    model = classifier.load(SHIPPED.resolve())
    text = "Practice moves to 4pm. I will hurt you after school, Tyler. Bring water."
    trigger = model.trigger(text, "DS3")
    assert trigger.sentence == "I will hurt you after school, Tyler."
    assert 0 <= trigger.score <= 1


def test_a_missing_file_is_one_line_naming_it(model_copy: Path) -> None:
    (model_copy / "embeddings.npy").unlink()
    with pytest.raises(ModelFileError) as caught:
        classifier.load(model_copy)
    message = str(caught.value)
    assert message == f"{model_copy / 'embeddings.npy'}: missing"


@pytest.mark.parametrize(
    "name", ["embeddings.npy", "head_tokens.npy", "tokenizer.json", "model.json"]
)
def test_a_corrupt_file_is_one_line_naming_it(model_copy: Path, name: str) -> None:
    (model_copy / name).write_bytes(b"\x93NUMPY not really")
    rules = RulesConfig(classifier=ClassifierConfig(path=model_copy))
    with pytest.raises(ConfigError) as caught:
        TextMatcher(rules, DISTRICT)
    assert len(caught.value.lines) == 1 and "\n" not in caught.value.lines[0]
    assert caught.value.lines[0].startswith(f"[rules.classifier] path: {model_copy / name}: ")


def test_mismatched_heads_are_one_line_naming_the_folder(model_copy: Path) -> None:
    np.save(model_copy / "head_bias.npy", np.zeros(3, dtype=np.float32))
    with pytest.raises(ModelFileError) as caught:
        classifier.load(model_copy)
    assert str(caught.value).startswith(f"{model_copy}: head arrays")


def test_a_folder_without_a_model_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not a classifier folder"):
        RulesConfig.model_validate({"classifier": {"path": str(tmp_path)}})


def test_a_district_model_loads_through_the_same_code(model_copy: Path) -> None:
    rules = RulesConfig(classifier=ClassifierConfig(path=model_copy))
    finding = TextMatcher(rules, DISTRICT).speech("nobody sit with Ava at lunch tomorrow")
    assert finding is not None and finding.decided_by == "classifier"


def test_thresholds_come_from_the_config() -> None:
    assert ClassifierConfig().threshold_of("DS3") == DEFAULT_THRESHOLDS["DS3"]
    text = "nobody sit with Ava at lunch tomorrow. spread the word"
    score = classifier.load(SHIPPED.resolve()).score(text, "DS3")
    below = RulesConfig(classifier=ClassifierConfig(threshold={"DS3": score - 0.01}))
    above = RulesConfig(classifier=ClassifierConfig(threshold={"DS3": min(1.0, score + 0.01)}))
    off = RulesConfig(classifier=ClassifierConfig(enabled=False))
    finding = TextMatcher(below, DISTRICT).speech(text)
    assert finding is not None and finding.score == pytest.approx(score)
    assert TextMatcher(above, DISTRICT).speech(text) is None
    assert TextMatcher(off, DISTRICT).speech(text) is None


def test_a_threshold_out_of_range_is_refused() -> None:
    with pytest.raises(ValidationError):
        RulesConfig.model_validate({"classifier": {"threshold": {"DS3": 1.5}}})
    with pytest.raises(ValidationError):
        RulesConfig.model_validate({"classifier": {"threshold": {"DS7": 0.5}}})


def test_the_embedding_loader_refuses_a_pickle(model_copy: Path) -> None:
    np.save(model_copy / "scales.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ModelFileError, match=r"scales\.npy: not a numpy array file"):
        StaticEmbedding.load(model_copy)


def test_a_long_benign_start_never_clears_abuse_at_the_end() -> None:
    from auditor.config import DistrictConfig, RulesConfig
    from auditor.text.matcher import TextMatcher

    matcher = TextMatcher(RulesConfig(), DistrictConfig())
    abuse = "Jordan, you are such a worthless loser and nobody wants you on this team."
    reminder = "Reminder: the bus leaves at 7:15 from the north lot, bring your permission slip."
    long_post = " ".join([reminder] * 40) + " " + abuse  # far past the model's 512 tokens

    alone, at_the_end = matcher.speech(abuse), matcher.speech(long_post)
    assert alone is not None and at_the_end is not None
    assert at_the_end.kind == alone.kind == "abusive"


def test_a_model_folder_is_found_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from auditor.loading import config_from_dict
    from auditor.text.sentences import shipped_model

    district = tmp_path / "district"
    shutil.copytree(shipped_model(), district / "models" / "ours")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # a cron job starts somewhere else

    data = {"rules": {"classifier": {"path": "models/ours"}}}
    config = config_from_dict(data, district / "config.toml")

    assert config.rules.classifier.path == (district / "models" / "ours")


def test_the_verdicts_version_follows_the_default_thresholds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = TextMatcher(RulesConfig(), DISTRICT).version
    monkeypatch.setitem(DEFAULT_THRESHOLDS, "DS3", DEFAULT_THRESHOLDS["DS3"] / 2)
    assert TextMatcher(RulesConfig(), DISTRICT).version != before  # stale verdicts unused


def test_a_trigger_is_the_sentence_scored_highest_on_its_own() -> None:
    model = classifier.load(SHIPPED.resolve())
    text = "Practice is at 4 in the gym. You are all worthless losers!\nBring water."
    parts = sentences(text)
    alone = model.scores(parts)[:, model.heads.index("DS3")]  # each sentence tokenized alone
    found = model.trigger(text, "DS3")
    assert found.sentence == parts[int(np.argmax(alone))] == "You are all worthless losers!"
    assert found.score == pytest.approx(float(alone.max()), abs=1e-5)


def test_the_command_loads_the_classifier_only_to_judge_texts() -> None:
    """numpy and the model's tokenizer (about 50 ms of every start) are loaded by the text
    matcher when a run has posts to judge; a run whose pages are unchanged never loads them."""
    code = (
        "import sys, auditor.cli; from auditor.text.matcher import verdicts_version; "
        "from auditor.config import RulesConfig, DistrictConfig; "
        "verdicts_version(RulesConfig(), DistrictConfig.model_validate({}) ); "
        "print(sorted(m for m in ('numpy', 'tokenizers', 'auditor.text.classifier') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
