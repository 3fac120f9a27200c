"""Linear algebra products: matmul and its special cases (mm, bmm, mv, dot), outer/inner/kron,
tensordot, einsum and the fused add-multiply ops (addmm, addmv, baddbmm).

Every matrix product goes through one node type (``Matmul``): its forward is a single
``xp.matmul`` call in the operands' dtype (BLAS for float32/float64) and its backward is
written with ``matmul`` and ``mT``, so it can be differentiated again. Ops that are just
rearrangements around a product (tensordot, inner, outer, kron, addmm) are composed from
differentiable ops and need no backward of their own.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .._tensor import Tensor, _make, _wrap_dim
from ..autograd.function import Op, device_mismatch
from ..autograd.grad_mode import STATE
from ._dispatch import as_array, broadcast_pair_shape, record, save, xp_of
from ._inplace import make_inplace
from ._registry import Registry
from .elementwise import where as _where
from .reduction import vector_norm
from .creation import eye

registry = Registry(globals(), make_inplace=make_inplace)
__all__ = registry.exported   # filled in by the @registry decorators below

_STATE = STATE

# PyTorch names dtypes by their C++ types in matmul's dtype error.
_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int8": "signed char",
            "uint8": "unsigned char", "int16": "short int", "int32": "int", "int64": "long int", "bool": "bool",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}
# PyTorch's scalar-type names, used by the dot and addmm dtype errors.
_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int8": "Char", "uint8": "Byte",
                 "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool", "complex64": "ComplexFloat",
                 "complex128": "ComplexDouble"}


def _x(shape) -> str:
    return "x".join(str(s) for s in shape)


def _check_tensors(name: str, *args) -> None:
    for i, a in enumerate(args):
        if not isinstance(a, Tensor):
            raise TypeError(f"{name}(): argument {i + 1} must be Tensor, not {type(a).__name__}")


# ---------------------------------------------------------------------------------------
# matmul and its special cases
# ---------------------------------------------------------------------------------------
def _product(ad, bd, xp):
    """``ad @ bd`` after PyTorch's checks (same dtype, not bool, shapes that multiply)."""
    if ad.ndim == 0 or bd.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {ad.ndim}D and {bd.ndim}D")
    if ad.dtype != bd.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_C_NAMES[ad.dtype.name]} != {_C_NAMES[bd.dtype.name]}")
    if ad.dtype.kind == "b":
        raise NotImplementedError("\"matmul\" not implemented for 'Bool'")
    try:
        return as_array(xp.matmul(ad, bd))
    except ValueError:
        # Diagnosed only after the product failed, so the hot path pays for no checks.
        raise _shape_error(ad.shape, bd.shape) from None


def _shape_error(sa: tuple, sb: tuple) -> RuntimeError:
    k_b = sb[-2] if len(sb) > 1 else sb[0]
    if sa[-1] != k_b:
        return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_x(sa)} and {_x(sb)})")
    ba, bb = sa[:-2], sb[:-2]
    n = max(len(ba), len(bb))
    ba, bb = (1,) * (n - len(ba)) + ba, (1,) * (n - len(bb)) + bb
    i = next(i for i in range(n) if ba[i] != bb[i] and 1 not in (ba[i], bb[i]))
    return RuntimeError(f"matmul: the batch dimensions of shapes {list(sa)} and {list(sb)} do not broadcast: "
                        f"the size of tensor a ({ba[i]}) must match the size of tensor b ({bb[i]}) at "
                        f"non-singleton dimension {i}")


class Matmul(Op):
    """``a @ b`` with NumPy/PyTorch matmul semantics (1-D operands are promoted, then squeezed)."""

    @staticmethod
    def forward(ctx, xp, a, b):
        ctx.save_for_backward(a, b)
        return _product(a, b, xp)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        edges = ctx.needs_input_grad
        return matmul_grads(g, a, b, edges[0], edges[1])


# Named variants, so ``grad_fn`` tells which op made a tensor (as PyTorch's MmBackward0, ...).
class Mm(Matmul):
    pass


class Bmm(Matmul):
    pass


class Mv(Matmul):
    pass


class Dot(Matmul):
    pass


def matmul_grads(g, a, b, need_a: bool, need_b: bool):
    """Gradients of ``a @ b`` given the output gradient ``g``, written with differentiable ops.

    1-D operands are promoted to matrices as the forward did, so one pair of formulas covers
    every case; where one operand is a plain matrix and the other is batched, the batch is
    folded into the rows so the gradient comes out of a single matrix product instead of a
    batch of products summed afterwards. Otherwise the engine sums broadcast batch dims.
    """
    # Complex operands: the gradient is g @ conj(b)^T and conj(a)^T @ g (conj is the identity on real tensors).
    a, b = a.conj(), b.conj()
    if a._data.ndim == 1 and b._data.ndim == 1:
        return (g * b if need_a else None, g * a if need_b else None)
    a2 = a.unsqueeze(0) if a._data.ndim == 1 else a          # (..., n, k)
    b2 = b.unsqueeze(-1) if b._data.ndim == 1 else b         # (..., k, m)
    g2 = g
    if a._data.ndim == 1:
        g2 = g2.unsqueeze(-2)
    if b._data.ndim == 1:
        g2 = g2.unsqueeze(-1)                                # (..., n, m)
    batched = g2._data.ndim > 2
    n_batch = math.prod(g2._data.shape[:-2])  # explicit sizes: reshape(-1, 0) is ambiguous when empty
    n, m = g2._data.shape[-2:]
    ga = gb = None
    if need_a:
        if batched and a2._data.ndim == 2:
            k = a2._data.shape[1]
            ga = g2.mT.reshape(n_batch * m, n).mT @ b2.mT.reshape(n_batch * m, k)
        else:
            ga = g2 @ b2.mT
        if a._data.ndim == 1:
            ga = ga.reshape(a._data.shape)
    if need_b:
        if batched and b2._data.ndim == 2:
            k = b2._data.shape[0]
            gb = a2.reshape(n_batch * n, k).mT @ g2.reshape(n_batch * n, m)
        else:
            gb = a2.mT @ g2
        if b._data.ndim == 1:
            gb = gb.reshape(b._data.shape)
    return ga, gb


def _matmul(cls, a, b) -> Tensor:
    """The fast path of ``cls.apply(a, b)``: one matmul, a graph node only when recording."""
    dev = a._device
    if b._device is not dev:
        raise device_mismatch(cls.__name__, dev, b._device)
    out = _product(a._data, b._data, xp_of(a))
    if (a._rg or b._rg) and _STATE.enabled and out.dtype.kind in "fc":
        return record(cls, out, dev, (a, b), (save(a), save(b)))
    return _make(out, dev)


@registry.op(method=True)
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with broadcasting of batch dimensions; 1-D operands act as row/column vectors."""
    if not (isinstance(input, Tensor) and isinstance(other, Tensor)):
        _check_tensors("matmul", input, other)
    return _matmul(Matmul, input, other)


@registry.op(method=True)
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two matrices (2-D only, no broadcasting)."""
    _check_tensors("mm", input, mat2)
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return _matmul(Mm, input, mat2)


@registry.op(method=True)
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of 3-D tensors with equal batch sizes (no broadcasting)."""
    _check_tensors("bmm", input, mat2)
    for name, t in (("batch1", input), ("batch2", mat2)):
        if t._data.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor, but got a {t._data.ndim}D tensor")
    sa, sb = input._data.shape, mat2._data.shape
    if (sb[0], sb[1]) != (sa[0], sa[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{sa[0]}, {sa[2]}] "
                           f"but got: [{sb[0]}, {sb[1]}].")
    return _matmul(Bmm, input, mat2)


@registry.op(method=True)
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Product of a matrix and a vector."""
    _check_tensors("mv", input, vec)
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"mv: expected a 2-D matrix and a 1-D vector, but got {input._data.ndim}-D and "
                           f"{vec._data.ndim}-D tensors")
    if input._data.shape[1] != vec._data.shape[0]:
        raise RuntimeError(f"size mismatch, got mat ({_x(input._data.shape)}), vec ({vec._data.shape[0]})")
    return _matmul(Mv, input, vec)


def _check_vectors(name: str, a, b) -> None:
    _check_tensors(name, a, b)
    ad, bd = a._data, b._data
    if ad.ndim != 1 or bd.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {ad.ndim}D and {bd.ndim}D tensors")
    if ad.dtype != bd.dtype:
        raise RuntimeError(f"{name} : expected both vectors to have same dtype, but found "
                           f"{_SCALAR_NAMES[ad.dtype.name]} and {_SCALAR_NAMES[bd.dtype.name]}")
    if ad.shape[0] != bd.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{ad.shape[0]}] and src [{bd.shape[0]}] to "
                           f"have the same number of elements, but got {ad.shape[0]} and {bd.shape[0]} elements "
                           "respectively")
    if ad.dtype.kind == "b":
        raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")


@registry.op(method=True)
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same length and dtype (a 0-d tensor)."""
    _check_vectors("dot", input, tensor)
    return _matmul(Dot, input, tensor)


@registry.op(method=True)
def vdot(input: Tensor, other: Tensor) -> Tensor:
    """``dot`` with the first argument conjugated (the same as ``dot`` for real tensors)."""
    _check_vectors("vdot", input, other)
    return _matmul(Dot, input.conj(), other)


# ---------------------------------------------------------------------------------------
# Products composed from differentiable ops
# ---------------------------------------------------------------------------------------
@registry.op(method=True, aliases=("ger",))
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors (dtypes promote, as for ``mul``)."""
    _check_tensors("outer", input, vec2)
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    return input.reshape(-1, 1) * vec2


@registry.op
def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Sum of products over the given dimensions: ``dims`` is a count (last ``dims`` of ``a`` with
    the first ``dims`` of ``b``) or a pair of dimension lists."""
    _check_tensors("tensordot", a, b)
    sa, sb = a._data.shape, b._data.shape
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        dims = int(dims)
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > len(sa) or dims > len(sb):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(-dims, 0)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, (int, np.integer)) else list(da)
        db = [db] if isinstance(db, (int, np.integer)) else list(db)
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    ca = [_wrap_dim(int(d), len(sa)) for d in da]
    cb = [_wrap_dim(int(d), len(sb)) for d in db]
    for d_a, d_b, ia, ib in zip(da, db, ca, cb):
        if sa[ia] != sb[ib]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {sa[ia]} in dim {d_a} "
                               f"and second has size {sb[ib]} in dim {d_b}")
    if len(set(ca)) != len(ca) or len(set(cb)) != len(cb):
        raise RuntimeError(f"tensordot: a dimension is contracted twice (dims {da} and {db})")
    # Move the contracted dims to the inside, flatten both sides to matrices, one matmul.
    fa = [i for i in range(len(sa)) if i not in ca]
    fb = [i for i in range(len(sb)) if i not in cb]
    k = math.prod(sa[i] for i in ca)
    left = a.permute(fa + ca).reshape(math.prod(sa[i] for i in fa), k)
    right = b.permute(cb + fb).reshape(k, math.prod(sb[i] for i in fb))
    return (left @ right).reshape([sa[i] for i in fa] + [sb[i] for i in fb])


@registry.op(method=True)
def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dimension of both tensors (a product when either is 0-d)."""
    _check_tensors("inner", input, other)
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    if input._data.shape[-1] != other._data.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input._data.shape)} and {list(other._data.shape)}")
    return tensordot(input, other, dims=([-1], [-1]))


@registry.op(method=True)
def kron(input: Tensor, other: Tensor) -> Tensor:
    """Kronecker product: blocks ``input[i] * other`` laid out over ``input``'s shape."""
    _check_tensors("kron", input, other)
    n = max(input._data.ndim, other._data.ndim)
    sa = (1,) * (n - input._data.ndim) + input._data.shape
    sb = (1,) * (n - other._data.ndim) + other._data.shape
    # Interleave the dims (a0, 1, a1, 1, ...) * (1, b0, 1, b1, ...), then merge each pair.
    a = input.reshape([d for s in sa for d in (s, 1)])
    b = other.reshape([d for s in sb for d in (1, s)])
    return (a * b).reshape([x * y for x, y in zip(sa, sb)])


def _add_scaled(input: Tensor, prod: Tensor, beta, alpha) -> Tensor:
    """``beta * input + alpha * prod`` with ``input`` broadcast to ``prod``'s shape; ``input`` is
    ignored when ``beta == 0`` (so NaN or inf in it do not propagate), as in PyTorch."""
    _check_tensors("addmm", input)
    if input._data.dtype != prod._data.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_SCALAR_NAMES[input._data.dtype.name]} "
                           f"and {_SCALAR_NAMES[prod._data.dtype.name]}")
    input = input.expand(prod._data.shape)  # raises PyTorch's message when it doesn't broadcast
    out = prod if alpha == 1 else prod * alpha
    if beta != 0:
        out = (input if beta == 1 else input * beta) + out
    if out._data.dtype != prod._data.dtype:  # a float alpha/beta with integer tensors
        out = out.to(prod.dtype)
    return out


@registry.op(method=True, inplace=True)
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` (``input`` broadcasts to the product's shape)."""
    return _add_scaled(input, mm(mat1, mat2), beta, alpha)


@registry.op(method=True, inplace=True)
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``."""
    return _add_scaled(input, mv(mat, vec), beta, alpha)


@registry.op(method=True, inplace=True)
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return _add_scaled(input, bmm(batch1, batch2), beta, alpha)


# ---------------------------------------------------------------------------------------
# einsum
# ---------------------------------------------------------------------------------------
# Subscript letters in the order PyTorch sorts them for implicit output (uppercase first,
# which is also ASCII order); sublist indices 0-51 map to them in this order.
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _einsum_error(msg: str) -> RuntimeError:
    return RuntimeError("einsum(): " + msg)


def _split_term(term: str, where: str) -> tuple:
    """(letters before '...', letters after, has_ellipsis) of one subscript term."""
    if "..." in term:
        head, _, tail = term.partition("...")
        has = True
        if "..." in tail:
            raise _einsum_error(f"found more than one ellipsis for {where}")
    else:
        head, tail, has = term, "", False
    for c in head + tail:
        if c == ".":
            raise _einsum_error(f"found '.' for {where} that is not part of any ellipsis")
        if c not in _LETTERS:
            raise _einsum_error(f"invalid subscript '{c}' for {where}: subscripts must be in [a-zA-Z]")
    return head, tail, has


@functools.lru_cache(maxsize=512)
def _einsum_plan(equation: str, shapes: tuple) -> tuple:
    """Resolve an equation for operands of ``shapes`` into explicit letter subscripts.

    Returns ``(terms, out, squeezed)``: the ellipsis becomes fresh letters; a size-1 dim whose
    letter has a larger size elsewhere is broadcast, so it is dropped from its operand (which
    is then used with the ``squeezed`` shape). Every remaining occurrence of a letter has the
    same size, which is what NumPy's einsum and the gradient einsums need.
    """
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    if "->" in rhs:
        raise _einsum_error("found more than one '->' in the equation")
    raw = lhs.split(",")
    if len(raw) > len(shapes):
        raise _einsum_error("fewer operands were provided than specified in the equation")
    if len(raw) < len(shapes):
        raise _einsum_error("more operands were provided than specified in the equation")
    parts = [_split_term(t, f"operand {i}") for i, t in enumerate(raw)]
    user = set("".join(h + t for h, t, _ in parts) + rhs)
    fresh = [c for c in _LETTERS if c not in user]
    n_ell = 0
    for i, ((head, tail, has), shape) in enumerate(zip(parts, shapes)):
        n_sub = len(head) + len(tail)
        if has:
            if n_sub > len(shape):
                raise _einsum_error(f"the number of subscripts in the equation ({n_sub}) is more than the number "
                                    f"of dimensions ({len(shape)}) for operand {i}")
            n_ell = max(n_ell, len(shape) - n_sub)
        elif n_sub != len(shape):
            raise _einsum_error(f"the number of subscripts in the equation ({n_sub}) does not match the number of "
                                f"dimensions ({len(shape)}) for operand {i} and no ellipsis was given")
    if n_ell > len(fresh):
        raise _einsum_error("too many dimensions: at most 52 distinct subscripts are supported")
    ell = "".join(fresh[:n_ell])
    terms = [head + (ell[n_ell - (len(shape) - len(head) - len(tail)):] if has else "") + tail
             for (head, tail, has), shape in zip(parts, shapes)]

    # Sizes: repeated letters within an operand must agree; across operands they broadcast.
    size: dict = {}
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        own: dict = {}
        for c, s in zip(term, shape):
            if own.setdefault(c, s) != s:
                raise _einsum_error(f"subscript {c} is repeated for operand {i} but the sizes don't match, "
                                    f"{s} != {own[c]}")
            seen = size.get(c, 1)
            if s != 1 and seen != 1 and s != seen:
                what = f"subscript {c}" if c not in ell else "an ellipsis dimension"
                raise _einsum_error(f"{what} has size {s} for operand {i} which does not broadcast with "
                                    f"previously seen size {seen}")
            size[c] = max(seen, s)

    if arrow:
        head, tail, has = _split_term(rhs, "the output")
        out = head + (ell if has else "") + tail
        for c in out:
            if out.count(c) > 1:
                raise _einsum_error(f"output subscript {c} appears more than once in the output")
            if c not in size:
                raise _einsum_error(f"output subscript {c} does not appear in the equation for any input operand")
    else:
        # Implicit output: the ellipsis dims, then the letters used exactly once, sorted.
        counts = "".join(terms)
        out = ell + "".join(sorted(c for c in set(counts) if c not in ell and counts.count(c) == 1))

    kept_terms, squeezed = [], []
    for term, shape in zip(terms, shapes):
        keep = [j for j, (c, s) in enumerate(zip(term, shape)) if not (s == 1 and size[c] != 1)]
        kept_terms.append("".join(term[j] for j in keep))
        squeezed.append(tuple(shape[j] for j in keep))
    return tuple(kept_terms), out, tuple(squeezed)


class Einsum(Op):
    @staticmethod
    def forward(ctx, xp, plan, *operands):
        terms, out_subs, shapes = plan
        arrays = [x if x.shape == s else x.reshape(s) for x, s in zip(operands, shapes)]
        out = as_array(xp.einsum(",".join(terms) + "->" + out_subs, *arrays, optimize=True))
        # NumPy returns views for pure rearrangements ('ij->ji', 'ii->i'); results own their storage.
        if out.base is not None and any(xp.may_share_memory(out, a) for a in arrays):
            out = out.copy()
        ctx.plan = plan
        ctx.save_for_backward(*operands)
        return out

    @staticmethod
    def backward(ctx, g):
        terms, out_subs, shapes = ctx.plan
        xs = ctx.saved_tensors
        ops = [x if x._data.shape == s else x.reshape(s) for x, s in zip(xs, shapes)]
        grads = [None]
        for i, x in enumerate(xs):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
            else:
                grads.append(_einsum_operand_grad(g, out_subs, terms, ops, i).reshape(x._data.shape))
        return tuple(grads)


def _einsum_operand_grad(g, out_subs: str, terms: tuple, ops: list, i: int) -> Tensor:
    """Gradient of an einsum for operand ``i``: the output gradient contracted with the other
    operands back to operand ``i``'s subscripts (as another einsum, so it is differentiable)."""
    target = terms[i]
    sizes = dict(zip(target, ops[i]._data.shape))
    uniq = "".join(dict.fromkeys(target))
    avail = set(out_subs).union(*(terms[j] for j in range(len(terms)) if j != i))
    have = "".join(c for c in uniq if c in avail)
    subs = [out_subs] + [terms[j] for j in range(len(terms)) if j != i]
    # Complex operands: contracted with the conjugates of the others (conj is the identity on real ones).
    r = einsum(",".join(subs) + "->" + have, g, *(ops[j].conj() for j in range(len(ops)) if j != i))
    if have != uniq:
        # Letters summed over in this operand alone: the gradient is constant along them.
        r = r.reshape([sizes[c] if c in have else 1 for c in uniq]).expand([sizes[c] for c in uniq])
    if len(uniq) != len(target):
        r = _embed_diagonals(r, uniq, target, sizes)
    return r


def _embed_diagonals(r: Tensor, uniq: str, target: str, sizes: dict) -> Tensor:
    """Spread ``r`` (subscripts ``uniq``) onto the diagonals of ``target``, which repeats letters:
    each repeat gets a fresh letter tied to the first occurrence by an identity matrix."""
    fresh = iter(c for c in _LETTERS if c not in target)
    out, eyes, seen = [], [], set()
    for c in target:
        if c in seen:
            f = next(fresh)
            out.append(f)
            eyes.append((c + f, sizes[c]))
        else:
            seen.add(c)
            out.append(c)
    ids = [eye(n, dtype=r.dtype, device=r.device) for _, n in eyes]
    return einsum(",".join([uniq] + [s for s, _ in eyes]) + "->" + "".join(out), r, *ids)


def _from_sublists(args) -> tuple:
    """``einsum(op0, [0, 1], op1, [1, 2], [0, 2])`` -> an equation and the operands."""
    def subs(lst):
        return "".join("..." if s is Ellipsis else _LETTERS[int(s)] for s in lst)
    ops, terms = list(args[0::2]), [subs(s) for s in args[1::2]]
    out = ""
    if len(args) % 2:  # a trailing output sublist
        ops.pop()
        out = "->" + subs(args[-1])
    return ",".join(terms) + out, ops


@registry.op
def einsum(*args) -> Tensor:
    """Sum of products over subscripts: ``einsum('ij,jk->ik', a, b)``; operands may also be passed
    as one list, or in sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``."""
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand")
    if isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:
        equation, operands = _from_sublists(args)
    if not operands:
        raise _einsum_error("must provide at least one operand")
    _check_tensors("einsum", *operands)
    dt0 = operands[0]._data.dtype
    for x in operands[1:]:
        if x._data.dtype != dt0:
            raise _einsum_error(f"expected all operands to have the same dtype, but got "
                                f"{operands[0].dtype} and {x.dtype}")
    plan = _einsum_plan(equation, tuple(x._data.shape for x in operands))
    return Einsum.apply(plan, *operands)


# ---------------------------------------------------------------------------------------
# cdist
# ---------------------------------------------------------------------------------------
_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


class EuclideanDist(Op):
    """p=2 distances through one matrix product, ``sqrt(|a|^2 + |b|^2 - 2 a.b)`` (PyTorch's path for
    many rows: fast, but rounding can leave a small distance between equal points)."""

    @staticmethod
    def forward(ctx, xp, x1, x2):
        a, b = x1, x2
        sq = (a * a).sum(-1)[..., :, None] + (b * b).sum(-1)[..., None, :]
        out = xp.sqrt(xp.maximum(sq - 2 * xp.matmul(a, xp.swapaxes(b, -1, -2)), 0))
        ctx.save_for_backward(x1, x2, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x1, x2, dist = ctx.saved_tensors
        # d dist_ij / d x1_i = (x1_i - x2_j) / dist_ij, taken as 0 where the distance is 0 (as PyTorch).
        ratio = _where(dist == 0, 0.0, g / dist)
        e = ctx.needs_input_grad
        g1 = x1 * ratio.sum(-1, keepdim=True) - ratio.matmul(x2) if e[0] else None
        g2 = x2 * ratio.sum(-2).unsqueeze(-1) - ratio.mT.matmul(x1) if e[1] else None
        return g1, g2


class CdistPiecewise(Op):
    """cdist's p=0 (count of differing coordinates) and p=inf (largest absolute difference) over the
    last dimension, with PyTorch's cdist gradients: zeros for p=0; for p=inf every coordinate that
    attains the maximum gets the whole gradient (``amax`` would share it among ties)."""

    @staticmethod
    def forward(ctx, xp, diff, p):
        d = diff
        out = (d != 0).sum(axis=-1).astype(d.dtype) if p == 0 else xp.abs(d).max(axis=-1)
        ctx.p = p
        ctx.save_for_backward(diff, out)
        return out

    @staticmethod
    def backward(ctx, g):
        diff, out = ctx.saved_tensors
        if ctx.p == 0:
            return diff.new_zeros(diff.shape), None
        return _where(diff.abs() == out.unsqueeze(-1), diff.sign() * g.unsqueeze(-1), 0.0), None


def _cdist_checks(x1: Tensor, x2: Tensor, p) -> float:
    _check_tensors("cdist", x1, x2)
    if isinstance(p, (bool, str)) or not isinstance(p, (int, float, np.number)):
        raise TypeError(f"cdist(): argument 'p' must be float, not {type(p).__name__}")
    for name, x in (("X1", x1), ("X2", x2)):
        if x._data.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x._data.ndim}D")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1._data.shape[-1]} "
                           f"X2: {x2._data.shape[-1]}")
    for name, x in (("X1", x1), ("X2", x2)):
        if x._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{_SCALAR_NAMES[x._data.dtype.name]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if x1._data.dtype == np.float16 or x2._data.dtype == np.float16:
        raise NotImplementedError('"cdist" not implemented for \'Half\'')
    if x1._data.dtype != x2._data.dtype:
        raise RuntimeError(f"expected scalar type {_SCALAR_NAMES[x1._data.dtype.name]} but found "
                           f"{_SCALAR_NAMES[x2._data.dtype.name]}")
    if x1._device is not x2._device:
        raise device_mismatch("cdist", x1._device, x2._device)
    broadcast_pair_shape(x1._data.shape[:-2], x2._data.shape[:-2])
    return float(p)


@registry.op
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distances between the rows of ``x1`` (..., P, M) and of ``x2`` (..., R, M): a (..., P, R)
    tensor, batch dimensions broadcast. ``p`` may be 0, inf or any positive number.

    For p=2 with more than 25 rows on either side (or ``compute_mode="use_mm_for_euclid_dist"``) the
    distances come from one matrix product, as in PyTorch; otherwise from the coordinate differences.

    >>> ember.cdist(ember.tensor([[0., 0.]]), ember.tensor([[3., 4.], [1., 0.]]))   # tensor([[5., 1.]])
    """
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    p = _cdist_checks(x1, x2, p)
    rows = max(x1._data.shape[-2], x2._data.shape[-2])
    if p == 2 and x1._data.shape[-1] and (compute_mode == _CDIST_MODES[1]
                                          or (compute_mode == _CDIST_MODES[0] and rows > 25)):
        return EuclideanDist.apply(x1, x2)
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)      # (..., P, R, M)
    if p in (0, math.inf) and diff._data.shape[-1]:
        return CdistPiecewise.apply(diff, p)
    return vector_norm(diff, p if p != math.inf else 1.0, -1)   # no coordinates: every norm is 0


# ---------------------------------------------------------------------------------------
# Tensor methods
# ---------------------------------------------------------------------------------------
# ``@`` defers to the other operand (NotImplemented) unless both are tensors, as in PyTorch.
registry.method("__matmul__", lambda self, other: matmul(self, other) if isinstance(other, Tensor) else NotImplemented)
registry.method("__rmatmul__", lambda self, other: matmul(other, self) if isinstance(other, Tensor) else NotImplemented)
