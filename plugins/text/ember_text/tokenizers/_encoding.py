"""``Encoding``: the result of tokenizing one text (or one pair of texts), as in ``tokenizers.Encoding``."""
from __future__ import annotations

from ._errors import TokenizerError


class Encoding:
    """Token ids with everything that goes with them, position by position.

    Attributes: ``ids``, ``tokens``, ``offsets`` (``(start, end)`` character spans in the input text; ``(0, 0)``
    for added special tokens and padding), ``word_ids`` (index of the pre-tokenized word, None for special
    tokens), ``type_ids`` (segment ids: 0 for the first text, 1 for the second in BERT pairs),
    ``attention_mask`` (0 on padding), ``special_tokens_mask`` (1 on tokens the post-processor or padding
    added), ``sequence_ids`` (0 / 1 / None per position) and ``overflowing`` (the parts cut off by truncation
    with a stride, each an Encoding).

    Example::

        >>> from ember_text.tokenizers import WordPieceTokenizer
        >>> tok = WordPieceTokenizer({t: i for i, t in enumerate("[PAD] [UNK] [CLS] [SEP] [MASK] hello world good night".split())})
        >>> enc = tok.encode("Hello world")
        >>> enc.tokens, enc.offsets
        (['[CLS]', 'hello', 'world', '[SEP]'], [(0, 0), (0, 5), (6, 11), (0, 0)])
    """

    __slots__ = ("ids", "type_ids", "tokens", "words", "offsets", "special_tokens_mask", "attention_mask",
                 "overflowing", "sequence_ranges")

    def __init__(self, ids=None, type_ids=None, tokens=None, words=None, offsets=None, special_tokens_mask=None,
                 attention_mask=None, overflowing=None, sequence_ranges=None):
        self.ids = ids if ids is not None else []
        n = len(self.ids)
        self.type_ids = type_ids if type_ids is not None else [0] * n
        self.tokens = tokens if tokens is not None else []
        self.words = words if words is not None else [None] * n
        self.offsets = offsets if offsets is not None else [(0, 0)] * n
        self.special_tokens_mask = special_tokens_mask if special_tokens_mask is not None else [0] * n
        self.attention_mask = attention_mask if attention_mask is not None else [1] * n
        self.overflowing = overflowing if overflowing is not None else []
        self.sequence_ranges = sequence_ranges if sequence_ranges is not None else {}

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return (f"Encoding(num_tokens={len(self.ids)}, attributes=[ids, type_ids, tokens, offsets, attention_mask, "
                f"special_tokens_mask, overflowing])")

    @property
    def word_ids(self) -> list:
        return list(self.words)

    @property
    def n_sequences(self) -> int:
        return len(self.sequence_ranges) or 1

    @property
    def sequence_ids(self) -> list:
        out = [None] * len(self.ids)
        if not self.sequence_ranges:
            return [0] * len(self.ids)
        for seq, (a, b) in self.sequence_ranges.items():
            out[a:b] = [seq] * (b - a)
        return out

    def set_sequence_id(self, sequence_id: int) -> None:
        self.sequence_ranges = {sequence_id: (0, len(self.ids))}

    def copy(self) -> Encoding:
        return Encoding(list(self.ids), list(self.type_ids), list(self.tokens), list(self.words), list(self.offsets),
                        list(self.special_tokens_mask), list(self.attention_mask),
                        [o.copy() for o in self.overflowing], dict(self.sequence_ranges))

    def _part(self, start: int, stop: int) -> Encoding:
        return Encoding(self.ids[start:stop], self.type_ids[start:stop], self.tokens[start:stop],
                        self.words[start:stop], self.offsets[start:stop], self.special_tokens_mask[start:stop],
                        self.attention_mask[start:stop])

    # ---- truncation, padding, merging (tokenizers' rules) --------------------------------------------------

    def truncate(self, max_length: int, stride: int = 0, direction: str = "right") -> None:
        """Keep ``max_length`` tokens (from the ``direction`` end kept: "right" cuts the end); the rest go to
        ``overflowing`` in windows of ``max_length`` that overlap by ``stride`` tokens."""
        n = len(self.ids)
        if max_length >= n:
            return
        if max_length == 0:
            whole = self.copy()
            self.__init__()
            self.overflowing = [whole]
            return
        if stride >= max_length:
            raise TokenizerError(f"truncation stride ({stride}) must be smaller than the length kept ({max_length})")
        step = max_length - stride
        parts = []
        if direction == "right":
            for start in range(0, n, step):
                stop = min(start + max_length, n)
                parts.append((start, stop))
                if stop == n:
                    break
        else:
            for last in range(n - 1, -1, -step):
                stop = last + 1
                start = max(stop - max_length, 0)
                parts.append((start, stop))
                if start == 0:
                    break
        first = self._part(*parts[0])
        first.overflowing = [self._part(a, b) for a, b in parts[1:]]
        for slot in self.__slots__:
            setattr(self, slot, getattr(first, slot))

    def pad(self, length: int, direction: str = "right", pad_id: int = 0, pad_type_id: int = 0,
            pad_token: str = "[PAD]") -> None:
        """Pad to ``length`` tokens (overflowing parts too); nothing happens if already that long."""
        for o in self.overflowing:
            o.pad(length, direction, pad_id, pad_type_id, pad_token)
        k = length - len(self.ids)
        if k <= 0:
            return
        if direction == "left":
            self.ids[:0] = [pad_id] * k
            self.type_ids[:0] = [pad_type_id] * k
            self.tokens[:0] = [pad_token] * k
            self.words[:0] = [None] * k
            self.attention_mask[:0] = [0] * k
            self.special_tokens_mask[:0] = [1] * k
            self.offsets[:0] = [(0, 0)] * k
            self.sequence_ranges = {s: (a + k, b + k) for s, (a, b) in self.sequence_ranges.items()}
        else:
            self.ids += [pad_id] * k
            self.type_ids += [pad_type_id] * k
            self.tokens += [pad_token] * k
            self.words += [None] * k
            self.attention_mask += [0] * k
            self.special_tokens_mask += [1] * k
            self.offsets += [(0, 0)] * k

    def merge_with(self, pair: Encoding, growing_offsets: bool) -> None:
        """Append ``pair``; overflowing parts are combined each with each, as ``tokenizers`` does."""
        overflowings = []
        for mine in self.overflowing:
            n = mine.copy()
            n.merge_with(pair.copy(), growing_offsets)
            overflowings.append(n)
            for other in pair.overflowing:
                n = mine.copy()
                n.merge_with(other.copy(), growing_offsets)
                overflowings.append(n)
        for other in pair.overflowing:
            n = self.copy()   # keeps our own overflowing parts, which combine again (tokenizers does the same)
            n.merge_with(other.copy(), growing_offsets)
            overflowings.append(n)
        base = len(self.ids)
        for seq, (a, b) in pair.sequence_ranges.items():
            self.sequence_ranges[seq] = (base + a, base + b)
        self.ids += pair.ids
        self.type_ids += pair.type_ids
        self.tokens += pair.tokens
        self.words += pair.words
        shift = self.offsets[-1][1] if growing_offsets and self.offsets else 0
        self.offsets += [(a + shift, b + shift) for a, b in pair.offsets] if shift else pair.offsets
        self.special_tokens_mask += pair.special_tokens_mask
        self.attention_mask += pair.attention_mask
        self.overflowing = overflowings

    @staticmethod
    def merge(encodings, growing_offsets: bool = True) -> Encoding:
        """One Encoding made of ``encodings`` in order."""
        out = Encoding()
        for e in encodings:
            out.merge_with(e, growing_offsets)
        return out

    # ---- lookups ------------------------------------------------------------------------------------------

    def token_to_word(self, token_index: int) -> int | None:
        return self.words[token_index]

    def token_to_chars(self, token_index: int) -> tuple[int, int] | None:
        """The token's character span in its text, or None for special tokens and padding."""
        return None if self.sequence_ids[token_index] is None else self.offsets[token_index]

    def token_to_sequence(self, token_index: int) -> int | None:
        return self.sequence_ids[token_index]

    def word_to_tokens(self, word_index: int, sequence_index: int = 0) -> tuple[int, int] | None:
        """``(first, last + 1)`` token positions of word ``word_index`` of sequence ``sequence_index``."""
        seqs = self.sequence_ids
        found = [i for i, (w, s) in enumerate(zip(self.words, seqs)) if w == word_index and s == sequence_index]
        return (found[0], found[-1] + 1) if found else None

    def char_to_token(self, char_pos: int, sequence_index: int = 0) -> int | None:
        """The position of the token whose span contains character ``char_pos`` of sequence ``sequence_index``."""
        for i, ((a, b), s, w) in enumerate(zip(self.offsets, self.sequence_ids, self.words)):
            if s == sequence_index and w is not None and a <= char_pos < b:
                return i
        return None
