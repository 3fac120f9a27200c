"""Registers every ember-metrics metric with Ember's plugin system (entry point ``ember`` -> ``metrics``).

``ember metrics`` lists them; ``ember.hub.get_metric("accuracy", task="multiclass", num_classes=10)``
builds one and ``ember.hub.get_metric_function("accuracy")`` returns the functional form.
"""
from __future__ import annotations

from ember.plugins import hookimpl

import ember_metrics as em
from ember_metrics import functional as F

# (name, class, functional, task); the task names come from the core's vocabulary (ember.plugins.tasks.TASKS),
# None for the aggregations, which evaluate nothing in particular; higher_is_better comes from the class.
METRICS = [
    ("accuracy", em.Accuracy, F.accuracy, "classification"),
    ("precision", em.Precision, F.precision, "classification"),
    ("recall", em.Recall, F.recall, "classification"),
    ("f1_score", em.F1Score, F.f1_score, "classification"),
    ("fbeta_score", em.FBetaScore, F.fbeta_score, "classification"),
    ("specificity", em.Specificity, F.specificity, "classification"),
    ("stat_scores", em.StatScores, F.stat_scores, "classification"),
    ("confusion_matrix", em.ConfusionMatrix, F.confusion_matrix, "classification"),
    ("auroc", em.AUROC, F.auroc, "classification"),
    ("average_precision", em.AveragePrecision, F.average_precision, "classification"),
    ("roc", em.ROC, F.roc, "classification"),
    ("precision_recall_curve", em.PrecisionRecallCurve, F.precision_recall_curve, "classification"),
    ("calibration_error", em.CalibrationError, F.calibration_error, "classification"),
    ("cohen_kappa", em.CohenKappa, F.cohen_kappa, "classification"),
    ("matthews_corrcoef", em.MatthewsCorrCoef, F.matthews_corrcoef, "classification"),
    ("mean_squared_error", em.MeanSquaredError, F.mean_squared_error, "regression"),
    ("mean_absolute_error", em.MeanAbsoluteError, F.mean_absolute_error, "regression"),
    ("mean_absolute_percentage_error", em.MeanAbsolutePercentageError, F.mean_absolute_percentage_error,
     "regression"),
    ("r2_score", em.R2Score, F.r2_score, "regression"),
    ("explained_variance", em.ExplainedVariance, F.explained_variance, "regression"),
    ("pearson_corrcoef", em.PearsonCorrCoef, F.pearson_corrcoef, "regression"),
    ("spearman_corrcoef", em.SpearmanCorrCoef, F.spearman_corrcoef, "regression"),
    ("cosine_similarity", em.CosineSimilarity, F.cosine_similarity, "regression"),
    ("perplexity", em.Perplexity, F.perplexity, "text-generation"),
    ("char_error_rate", em.CharErrorRate, F.char_error_rate, "automatic-speech-recognition"),
    ("word_error_rate", em.WordErrorRate, F.word_error_rate, "automatic-speech-recognition"),
    ("bleu_score", em.BLEUScore, F.bleu_score, "translation"),
    ("peak_signal_noise_ratio", em.PeakSignalNoiseRatio, F.peak_signal_noise_ratio, "image-to-image"),
    ("structural_similarity_index_measure", em.StructuralSimilarityIndexMeasure,
     F.structural_similarity_index_measure, "image-to-image"),
    ("signal_noise_ratio", em.SignalNoiseRatio, F.signal_noise_ratio, "speech-enhancement"),
    ("scale_invariant_signal_distortion_ratio", em.ScaleInvariantSignalDistortionRatio,
     F.scale_invariant_signal_distortion_ratio, "speech-enhancement"),
    ("mean_metric", em.MeanMetric, None, None),
    ("sum_metric", em.SumMetric, None, None),
    ("max_metric", em.MaxMetric, None, None),
    ("min_metric", em.MinMetric, None, None),
    ("cat_metric", em.CatMetric, None, None),
]


def _higher_is_better(cls):
    """The class's flag; a task wrapper (``Accuracy``) has its binary implementation's."""
    return (cls._classes[0] if hasattr(cls, "_classes") else cls).higher_is_better


@hookimpl
def ember_register_metrics(registry) -> None:
    """Register every metric class with its functional form, task family and ``higher_is_better``."""
    for name, cls, fn, task in METRICS:
        meta = {} if task is None else {"task": task}
        registry.add(name, cls, functional=fn, higher_is_better=_higher_is_better(cls), **meta)


@hookimpl
def ember_env_info() -> dict:
    """This plugin's version for ``ember env``."""
    return {"ember-metrics": em.__version__}
