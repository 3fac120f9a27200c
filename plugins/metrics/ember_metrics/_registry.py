"""What ember-metrics registers in Ember's metric registry (``ember metrics``, ``ember.hub.get_metric``).

Each metric class is registered with its functional form and the task it evaluates (a name from the
core's vocabulary, ``ember.plugins.tasks.TASKS``; none for the aggregations, which evaluate nothing
in particular); ``higher_is_better`` comes from the class.
"""
from __future__ import annotations

from ember.plugins import RegistrationTable

import ember_metrics as em
from ember_metrics import functional as F


class _MetricTable(RegistrationTable):
    """A metrics table whose rows take ``higher_is_better`` from the class (a task wrapper such as
    ``Accuracy`` has its binary implementation's)."""

    def add(self, name, cls, **metadata):
        impl = cls._classes[0] if hasattr(cls, "_classes") else cls
        return super().add(name, cls, higher_is_better=impl.higher_is_better, **metadata)


METRICS = _MetricTable("metrics")
METRICS.add("accuracy", em.Accuracy, functional=F.accuracy, task="classification")
METRICS.add("precision", em.Precision, functional=F.precision, task="classification")
METRICS.add("recall", em.Recall, functional=F.recall, task="classification")
METRICS.add("f1_score", em.F1Score, functional=F.f1_score, task="classification")
METRICS.add("fbeta_score", em.FBetaScore, functional=F.fbeta_score, task="classification")
METRICS.add("specificity", em.Specificity, functional=F.specificity, task="classification")
METRICS.add("stat_scores", em.StatScores, functional=F.stat_scores, task="classification")
METRICS.add("confusion_matrix", em.ConfusionMatrix, functional=F.confusion_matrix, task="classification")
METRICS.add("auroc", em.AUROC, functional=F.auroc, task="classification")
METRICS.add("average_precision", em.AveragePrecision, functional=F.average_precision, task="classification")
METRICS.add("roc", em.ROC, functional=F.roc, task="classification")
METRICS.add("precision_recall_curve", em.PrecisionRecallCurve,
            functional=F.precision_recall_curve, task="classification")
METRICS.add("calibration_error", em.CalibrationError, functional=F.calibration_error, task="classification")
METRICS.add("cohen_kappa", em.CohenKappa, functional=F.cohen_kappa, task="classification")
METRICS.add("matthews_corrcoef", em.MatthewsCorrCoef, functional=F.matthews_corrcoef, task="classification")
METRICS.add("mean_squared_error", em.MeanSquaredError, functional=F.mean_squared_error, task="regression")
METRICS.add("mean_absolute_error", em.MeanAbsoluteError, functional=F.mean_absolute_error, task="regression")
METRICS.add("mean_absolute_percentage_error", em.MeanAbsolutePercentageError,
            functional=F.mean_absolute_percentage_error, task="regression")
METRICS.add("r2_score", em.R2Score, functional=F.r2_score, task="regression")
METRICS.add("explained_variance", em.ExplainedVariance, functional=F.explained_variance, task="regression")
METRICS.add("pearson_corrcoef", em.PearsonCorrCoef, functional=F.pearson_corrcoef, task="regression")
METRICS.add("spearman_corrcoef", em.SpearmanCorrCoef, functional=F.spearman_corrcoef, task="regression")
METRICS.add("cosine_similarity", em.CosineSimilarity, functional=F.cosine_similarity, task="regression")
METRICS.add("perplexity", em.Perplexity, functional=F.perplexity, task="text-generation")
METRICS.add("char_error_rate", em.CharErrorRate, functional=F.char_error_rate, task="automatic-speech-recognition")
METRICS.add("word_error_rate", em.WordErrorRate, functional=F.word_error_rate, task="automatic-speech-recognition")
METRICS.add("bleu_score", em.BLEUScore, functional=F.bleu_score, task="translation")
METRICS.add("peak_signal_noise_ratio", em.PeakSignalNoiseRatio,
            functional=F.peak_signal_noise_ratio, task="image-to-image")
METRICS.add("structural_similarity_index_measure", em.StructuralSimilarityIndexMeasure,
            functional=F.structural_similarity_index_measure, task="image-to-image")
METRICS.add("signal_noise_ratio", em.SignalNoiseRatio, functional=F.signal_noise_ratio, task="speech-enhancement")
METRICS.add("scale_invariant_signal_distortion_ratio", em.ScaleInvariantSignalDistortionRatio,
            functional=F.scale_invariant_signal_distortion_ratio, task="speech-enhancement")
METRICS.add("mean_metric", em.MeanMetric)
METRICS.add("sum_metric", em.SumMetric)
METRICS.add("max_metric", em.MaxMetric)
METRICS.add("min_metric", em.MinMetric)
METRICS.add("cat_metric", em.CatMetric)
