"""Text generation with a causal language model: greedy decoding or sampling (temperature, top-k,
top-p), one token per step with the model's key/value cache.

>>> from ember_text import generate
>>> from ember_text.models import gpt_char_shakespeare
>>> model = gpt_char_shakespeare(weights="DEFAULT").eval()
>>> input_ids = ember.tensor([model.tokenizer.encode("HAMLET.")])
>>> out = generate(model, input_ids, max_new_tokens=20, temperature=0.8, top_k=40,
...                generator=ember.Generator().manual_seed(0))
>>> out.shape
ember.Size([1, 27])
>>> greedy = generate(model, input_ids, 20, do_sample=False)     # the same tokens with or without the cache
>>> greedy.tolist() == generate(model, input_ids, 20, do_sample=False, use_cache=False).tolist()
True
"""
from __future__ import annotations

import inspect

import ember

__all__ = ["generate"]


def generate(model, input_ids, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, do_sample: bool = True, eos_token_id: int | None = None,
             generator=None, use_cache: bool = True):
    """Continue ``input_ids`` (``(N, T)`` or ``(T,)`` int64) by up to ``max_new_tokens`` tokens.

    ``model(ids)`` must give logits ``(N, T, vocab)``. With ``use_cache`` (the default), a model whose
    ``forward`` takes ``use_cache`` is called as ``model(ids, past_key_values=past, use_cache=True) ->
    (logits, past)``, so each step runs the new token only (:class:`~ember_text.models.GPT` does); other
    models get the whole sequence every step. ``do_sample=False`` is greedy decoding (argmax; the
    cache changes nothing but speed); otherwise the next token is drawn with ``generator`` from
    ``softmax(logits / temperature)`` restricted to the ``top_k`` most likely tokens and to the smallest set
    whose probability reaches ``top_p``. A sequence that emits ``eos_token_id`` is finished: it is padded
    with ``eos_token_id`` until every sequence is finished or the budget is spent, and generation stops
    early when all are. The model's mode is left as it is: call ``model.eval()`` first (dropout would make
    sampling noisy).

    When the sequence outgrows ``model.config.block_size`` the model sees the last ``block_size`` tokens
    (a sliding window, recomputed each step, as nanoGPT's sampler does).

    Returns the prompt followed by the new tokens, with the prompt's rank.
    """
    _check_arguments(max_new_tokens, temperature, top_k, top_p, do_sample)
    squeeze = input_ids.dim() == 1
    ids = input_ids[None] if squeeze else input_ids
    if ids.dim() != 2 or ids.shape[1] == 0:
        raise ValueError(f"generate: input_ids must be a non-empty (batch, sequence) or (sequence,) tensor of token "
                         f"ids, got shape {tuple(input_ids.shape)}")
    limit = getattr(getattr(model, "config", None), "block_size", None)
    use_cache = use_cache and _takes_cache(model)
    finished = ember.zeros(ids.shape[0], dtype=ember.bool, device=ids.device)
    past = None
    with ember.no_grad():
        for _ in range(max_new_tokens):
            logits, past = _next_logits(model, ids, past, use_cache, limit)
            token = _choose(logits, temperature, top_k, top_p, do_sample, generator)
            if eos_token_id is not None:
                token = ember.where(finished, ember.full_like(token, eos_token_id), token)
                finished = finished | (token == eos_token_id)
            ids = ember.cat([ids, token[:, None]], dim=1)
            if eos_token_id is not None and bool(finished.all()):
                break
    return ids[0] if squeeze else ids


def _check_arguments(max_new_tokens, temperature, top_k, top_p, do_sample) -> None:
    if not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ValueError(f"generate: max_new_tokens must be a non-negative int, got {max_new_tokens!r}")
    if do_sample and not temperature > 0:
        raise ValueError(f"generate: temperature must be > 0 when sampling, got {temperature}; for greedy decoding "
                         "pass do_sample=False")
    if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"generate: top_k must be a positive int or None, got {top_k!r}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"generate: top_p must be in (0, 1] or None, got {top_p!r}")


def _takes_cache(model) -> bool:
    try:
        params = inspect.signature(getattr(model, "forward", model)).parameters
    except (TypeError, ValueError):
        return False
    return "use_cache" in params and "past_key_values" in params


def _next_logits(model, ids, past, use_cache: bool, limit: int | None):
    """The logits ``(N, vocab)`` for the token after ``ids``, and the cache to pass next time.

    With a cache, only the tokens the cache lacks go through the model. A window that would overflow the
    model's positions is recomputed from its last ``limit`` tokens without a cache (positions shift).
    """
    if limit is not None and ids.shape[1] > limit:
        return model(ids[:, -limit:])[:, -1], None
    if not use_cache:
        return model(ids)[:, -1], None
    known = 0 if past is None else past[0][0].shape[2]
    logits, past = model(ids[:, known:], past_key_values=past, use_cache=True)
    return logits[:, -1], past


def _choose(logits, temperature: float, top_k, top_p, do_sample: bool, generator):
    """The next token per row: argmax, or a draw from the filtered, tempered distribution."""
    if not do_sample:
        return logits.argmax(-1)
    logits = logits.float() / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = ember.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        logits = _top_p(logits, top_p)
    probs = ember.softmax(logits, dim=-1)
    return ember.multinomial(probs, 1, generator=generator)[:, 0]


def _top_p(logits, top_p: float):
    """Keep the most likely tokens whose cumulative probability first reaches ``top_p`` (at least one)."""
    sorted_logits, order = ember.sort(logits, dim=-1, descending=True)
    cumulative = ember.softmax(sorted_logits, dim=-1).cumsum(-1)
    # A token is dropped when the tokens before it already reach top_p.
    drop_sorted = (cumulative - ember.softmax(sorted_logits, dim=-1)) >= top_p
    drop = ember.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))
