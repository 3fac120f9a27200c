"""Text models for Ember: classifiers to train from scratch, a GPT language model with a key/value cache,
BERT with Hugging Face transformers' module names (checkpoints load directly), and the pretrained
all-MiniLM-L6-v2 sentence encoder.

>>> from ember_text import models
>>> gpt = models.gpt_char_shakespeare(weights="DEFAULT")        # a small character-level GPT, shipped
>>> clf = models.TextCNN(vocab_size=20000, num_classes=4)
>>> clf(ember.randint(1, 20000, (2, 12))).shape
ember.Size([2, 4])
>>> encoder = models.all_minilm_l6_v2(weights="DEFAULT")        # doctest: +SKIP
>>> bert = models.BertForSequenceClassification.from_pretrained("folder/", num_labels=3)  # doctest: +SKIP

Through the hub: ``ember.hub.load("text:all_minilm_l6_v2", weights="DEFAULT")``; ``ember models --plugin
text`` lists them and ``ember weights fetch`` gets the MiniLM files.
"""
from __future__ import annotations

from ._registry import MODELS, register_model
from ._outputs import BaseModelOutputWithPooling, ModelOutput, SequenceClassifierOutput
from .bert import (BertConfig, BertForSequenceClassification, BertModel, SequenceTooLongError,
                   bert_for_sequence_classification)
from .classifiers import (LSTMClassifier, TextCNN, TransformerClassifier, lstm_classifier, text_cnn,
                          transformer_classifier)
from .gpt import GPT, GPT_Char_Shakespeare_Weights, GPTConfig, gpt, gpt_char_shakespeare
from .minilm import (AllMiniLM_L6_V2_Classifier_Weights, AllMiniLM_L6_V2_Weights, all_minilm_l6_v2,
                     all_minilm_l6_v2_classifier)
from ._presets import TextClassification
from .sentence_classifier import SentenceTransformerClassifier
from .sentence_transformer import Normalize, Pooling, SentenceTransformer, Transformer

__all__ = [
    "MODELS", "register_model",
    "BertConfig", "BertModel", "BertForSequenceClassification", "SequenceTooLongError",
    "bert_for_sequence_classification",
    "TextCNN", "LSTMClassifier", "TransformerClassifier", "text_cnn", "lstm_classifier", "transformer_classifier",
    "GPT", "GPTConfig", "GPT_Char_Shakespeare_Weights", "gpt", "gpt_char_shakespeare",
    "SentenceTransformer", "Transformer", "Pooling", "Normalize", "AllMiniLM_L6_V2_Weights", "all_minilm_l6_v2",
    "SentenceTransformerClassifier", "AllMiniLM_L6_V2_Classifier_Weights", "all_minilm_l6_v2_classifier",
    "TextClassification",
    "ModelOutput", "BaseModelOutputWithPooling", "SequenceClassifierOutput",
]
