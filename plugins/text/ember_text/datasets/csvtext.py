"""Text classification from CSV/TSV files with a label column and text columns: :class:`CSVTextDataset`,
and the layouts of :class:`AG_NEWS` and :class:`DBpedia` (Zhang et al., 2015's character-CNN sets).

Files are parsed with Python's :mod:`csv` (quoted fields with commas, doubled quotes and newlines inside),
decoded as strict UTF-8 by default, and validated row by row: a row with the wrong number of fields, a
label that is not an integer (where integers are expected) or out of range, or an unterminated quote
raises :class:`DatasetFormatError` naming the file, the line and the problem.

How labels map to targets: integer labels give ``target = label - label_base``, so the 1-based labels of
AG_NEWS, DBpedia, Yelp and Amazon (``label_base=1``) become targets ``0 .. num_classes - 1``, ready for
``CrossEntropyLoss``; 0-based files (SST-2) use ``label_base=0``. String labels (``labels="str"``) map to
their index in ``classes`` (given, or the sorted distinct labels of the file).
"""
from __future__ import annotations

import csv
import io
import os
from typing import Any, Callable, Sequence

from .base import TextDataset, check_index
from .utils import (DatasetFormatError, DatasetNotFoundError, _check_errors, decode_text, default_root,
                    verify_str_arg)

__all__ = ["CSVTextDataset", "AG_NEWS", "DBpedia", "read_csv_rows"]

_Column = int | str


def read_csv_rows(path: str | os.PathLike, delimiter: str = ",", quoting: int | None = None,
                  encoding: str = "utf-8", errors: str = "strict") -> list[tuple[int, list[str]]]:
    """``(line number, fields)`` of every non-blank row of a CSV/TSV file.

    ``quoting`` defaults to :data:`csv.QUOTE_MINIMAL` for comma-separated files and :data:`csv.QUOTE_NONE`
    for other delimiters (TSV files such as GLUE's are not quoted, and their texts hold stray quotes).
    Malformed quoting raises :class:`DatasetFormatError` naming the file and line.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DatasetNotFoundError(f"{path}: no such file")
    if quoting is None:
        quoting = csv.QUOTE_MINIMAL if delimiter == "," else csv.QUOTE_NONE
    with open(path, "rb") as f:
        text = decode_text(f.read(), path, encoding, errors, newlines=False)  # csv handles \r\n itself
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting, strict=True)
    rows = []
    try:
        for fields in reader:
            if fields and any(fields):  # blank lines separate nothing
                rows.append((reader.line_num, fields))
    except csv.Error as e:
        hint = ("a field longer than the csv module's limit (csv.field_size_limit) usually means an unterminated "
                "quote" if "field larger than field limit" in str(e) else
                "check the quoting of that row (a field that starts with a quote must end with one)")
        raise DatasetFormatError(f"{path}: line {reader.line_num}: malformed CSV ({e}); {hint}") from None
    return rows


def _column_index(column: _Column, header: list[str] | None, path: str, what: str) -> int:
    if isinstance(column, bool) or not isinstance(column, (int, str)):
        raise TypeError(f"{what} must be a column index (int) or, with a header, a column name (str); got {column!r}")
    if isinstance(column, int):
        return column
    if header is None:
        raise ValueError(f"{what}={column!r} names a column, but the file has no header row (header=False); "
                         "give the column's index instead, or header=True")
    if column not in header:
        raise DatasetFormatError(f"{path}: the header has no column {column!r} (columns: {', '.join(header)})")
    return header.index(column)


class CSVTextDataset(TextDataset):
    """Text classification from a CSV or TSV file: one sample per row, ``(text, target)``.

    Args:
        path: the file.
        label_column: the label's column (index, or name with ``header=True``). Default 0, AG_NEWS's.
        text_columns: the text's columns; several are joined with ``join`` (AG_NEWS: title and
            description). Default: every other column.
        delimiter: ``","`` (CSV) or ``"\\t"`` (TSV); default: by the file's extension, a tab for ``.tsv``
            and ``.tab`` files, a comma otherwise (so ``ember finetune MODEL textcsv:FILE`` reads both).
        header: whether the first row names the columns.
        labels: ``"int"`` (integer labels) or ``"str"`` (class names).
        label_base: the integer label of the first class; ``target = label - label_base``.
        classes: the class names. Integer labels: ``classes[target]`` names a target and fixes the
            number of classes (a label outside it is an error). String labels: the order of the targets
            (a label not in it is an error); default the sorted distinct labels.
        num_classes: the number of classes (integer labels), checked like ``classes``.
        join: how several text columns are joined.
        quoting: a :mod:`csv` quoting constant (default: quoted CSV, unquoted TSV).
        transform, target_transform: applied to the text and to the target.
        encoding, errors: how the file is decoded (strict UTF-8 by default).

    >>> ds = CSVTextDataset("train.csv", label_column=0, text_columns=[1, 2], label_base=1)  # doctest: +SKIP
    >>> text, target = ds[0]     # "Wall St. Bears Claw Back ... Reuters - Short-sellers, ...", 2  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike, label_column: _Column = 0,
                 text_columns: Sequence[_Column] | _Column | None = None, delimiter: str | None = None,
                 header: bool = False, labels: str = "int", label_base: int = 0, classes: Sequence[str] | None = None,
                 num_classes: int | None = None, join: str = " ", quoting: int | None = None,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 encoding: str = "utf-8", errors: str = "strict") -> None:
        super().__init__(None, transform, target_transform)
        self.path = os.path.expanduser(os.fspath(path))
        self.labels = verify_str_arg(labels, "labels", ("int", "str"))
        if not isinstance(label_base, int) or isinstance(label_base, bool):
            raise TypeError(f"label_base must be an int, got {label_base!r}")
        if classes is not None and num_classes is not None and len(classes) != num_classes:
            raise ValueError(f"classes has {len(classes)} names but num_classes={num_classes}")
        self.label_base, self.join = label_base, join
        if delimiter is None:
            delimiter = "\t" if os.path.splitext(self.path)[1].lower() in (".tsv", ".tab") else ","
        rows = read_csv_rows(self.path, delimiter, quoting, encoding, _check_errors(errors))
        if not rows:
            raise DatasetFormatError(f"{self.path}: the file holds no rows")
        head = rows.pop(0)[1] if header else None
        if header and not rows:
            raise DatasetFormatError(f"{self.path}: the file holds a header row and no data")
        width = len(head) if head is not None else len(rows[0][1])
        self._label_col = _column_index(label_column, head, self.path, "label_column")
        self._text_cols = self._text_columns(text_columns, head, width)
        for col in (self._label_col, *self._text_cols):
            if not -width <= col < width:
                raise DatasetFormatError(f"{self.path}: column {col} does not exist (rows have {width} fields)")
        self.texts, raw_labels = self._parse_rows(rows, width)
        self.classes, self.targets = self._targets(raw_labels, rows, classes, num_classes)
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def _text_columns(self, text_columns, head: list[str] | None, width: int) -> list[int]:
        if text_columns is None:
            label = self._label_col % width if width else 0
            return [c for c in range(width) if c != label]
        if isinstance(text_columns, (int, str)):
            text_columns = [text_columns]
        cols = [_column_index(c, head, self.path, "text_columns") for c in text_columns]
        if not cols:
            raise ValueError("text_columns must name at least one column")
        return cols

    def _parse_rows(self, rows, width: int) -> tuple[list[str], list[str]]:
        texts, labels = [], []
        for line, fields in rows:
            if len(fields) != width:
                raise DatasetFormatError(f"{self.path}: line {line}: expected {width} fields (as the first row), got "
                                         f"{len(fields)}; a text holding the delimiter must be quoted")
            labels.append(fields[self._label_col])
            texts.append(self.join.join(fields[c] for c in self._text_cols))
        return texts, labels

    def _targets(self, raw: list[str], rows, classes, num_classes) -> tuple[list[str], list[int]]:
        if self.labels == "str":
            names = list(classes) if classes is not None else sorted(set(raw))
            index = {c: i for i, c in enumerate(names)}
            for (line, _), label in zip(rows, raw):
                if label not in index:
                    raise DatasetFormatError(f"{self.path}: line {line}: label {label!r} is not one of the classes "
                                             f"{names}")
            return names, [index[label] for label in raw]
        targets = []
        for (line, _), label in zip(rows, raw):
            try:
                targets.append(int(label.strip()) - self.label_base)
            except ValueError:
                hint = " (if the first row names the columns, pass header=True)" if line == rows[0][0] else ""
                raise DatasetFormatError(f"{self.path}: line {line}: the label column holds {label!r}, not an "
                                         f"integer{hint}; pass labels='str' for class names") from None
        limit = len(classes) if classes is not None else num_classes
        for (line, _), label, target in zip(rows, raw, targets):
            if target < 0 or (limit is not None and target >= limit):
                expected = (f"{self.label_base}..{self.label_base + limit - 1}" if limit is not None
                            else f">= {self.label_base}")
                raise DatasetFormatError(f"{self.path}: line {line}: label {label.strip()} is out of range (expected "
                                         f"{expected} with label_base={self.label_base})")
        n = limit if limit is not None else max(targets) + 1
        names = list(classes) if classes is not None else [str(k + self.label_base) for k in range(n)]
        return names, targets

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(text, target)`` of row ``index`` (each through its transform)."""
        i = check_index(self, index)
        return self._sample(self.texts[i], self.targets[i])

    def __len__(self) -> int:
        return len(self.texts)

    def extra_repr(self) -> str:
        return f"File: {self.path}\nClasses: {len(self.classes)}"


class _CharCNNSet(CSVTextDataset):
    """The layout of Zhang et al.'s sets: ``<root>/<folder>/{train,test}.csv``, no header, a 1-based label then
    the title and the text, all quoted. Not downloaded here (their mirrors are Google Drive folders)."""

    folder: str
    _classes: tuple[str, ...]
    _source: str

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train", transform: Callable | None = None,
                 target_transform: Callable | None = None, encoding: str = "utf-8", errors: str = "strict") -> None:
        self.split = verify_str_arg(split, "split", ("train", "test"))
        base = os.path.expanduser(os.fspath(root if root is not None else default_root()))
        path = self._find(base, f"{split}.csv")
        super().__init__(path, label_column=0, text_columns=[1, 2], label_base=1, classes=self._classes,
                         transform=transform, target_transform=target_transform, encoding=encoding, errors=errors)
        self.root = base

    def _find(self, base: str, name: str) -> str:
        candidates = [os.path.join(base, self.folder, name), os.path.join(base, type(self).__name__, name),
                      os.path.join(base, type(self).__name__, self.folder, name)]
        for c in candidates:
            if os.path.isfile(c):
                return c
        raise DatasetNotFoundError(f"{type(self).__name__}: {name} not found (looked for {', '.join(candidates)}). "
                                   f"{self._source}")

    def extra_repr(self) -> str:
        return f"Split: {self.split}\nFile: {self.path}"


class AG_NEWS(_CharCNNSet):
    """AG's News topic classification (Zhang et al., 2015): 120,000 training and 7,600 test news items.

    Reads ``<root>/ag_news_csv/{train,test}.csv`` (also ``<root>/AG_NEWS/``): rows ``"label","title",
    "description"`` with labels 1-4. A sample is ``(title + " " + description, target)`` with
    ``target = label - 1``: 0 World, 1 Sports, 2 Business, 3 Sci/Tech (``classes``). torchtext's ``AG_NEWS``
    yields ``(label, text)`` with the 1-based label; the text is the same.

    >>> test = AG_NEWS("data", split="test")  # doctest: +SKIP
    >>> test.classes  # doctest: +SKIP
    ['World', 'Sports', 'Business', 'Sci/Tech']
    """

    folder = "ag_news_csv"
    _classes = ("World", "Sports", "Business", "Sci/Tech")
    _source = ("Get ag_news_csv.tgz (Zhang et al.'s character-level CNN data) and extract it into the root; the "
               "folder holds train.csv, test.csv and classes.txt")


class DBpedia(_CharCNNSet):
    """DBpedia ontology classification (Zhang et al., 2015): 560,000 training and 70,000 test articles, 14 classes.

    Reads ``<root>/dbpedia_csv/{train,test}.csv`` (also ``<root>/DBpedia/``): rows ``label,"title","abstract"``
    with labels 1-14, mapped to targets 0-13 (``target = label - 1``; ``classes`` names them in
    ``classes.txt``'s order). The text is ``title + " " + abstract``.
    """

    folder = "dbpedia_csv"
    _classes = ("Company", "EducationalInstitution", "Artist", "Athlete", "OfficeHolder", "MeanOfTransportation",
                "Building", "NaturalPlace", "Village", "Animal", "Plant", "Album", "Film", "WrittenWork")
    _source = ("Get dbpedia_csv.tar.gz (Zhang et al.'s character-level CNN data) and extract it into the root; the "
               "folder holds train.csv, test.csv and classes.txt")
