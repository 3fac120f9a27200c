"""The backward engine: iterative, ordered by a heap on node sequence numbers.

Every node is created after the nodes of its inputs, so visiting nodes from the highest
sequence number down guarantees a node runs only once all gradient contributions to
its outputs have arrived — no recursion and no dependency counting. Gradients are
summed back to each input's shape and cast to its dtype here, once, so ops need not
un-broadcast.
"""
from __future__ import annotations

import heapq
import weakref
from sys import getrefcount

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor, _make, _RemovableHandle
from .function import _FREED_MSG, _RELEASED, Node
from .grad_mode import STATE

__all__ = ["backward", "grad"]


def _sum_to(g, shape):
    """Sum a broadcast gradient back to ``shape`` (as a differentiable op)."""
    gshape = g._data.shape
    lead = len(gshape) - len(shape)
    if lead < 0:
        raise RuntimeError(f"gradient of shape {tuple(gshape)} cannot be summed to shape {tuple(shape)}")
    dims = list(range(lead))
    for i, s in enumerate(shape):
        gs = gshape[lead + i]
        if s == 1 and gs != 1:
            dims.append(lead + i)
        elif s != gs:
            raise RuntimeError(f"gradient of shape {tuple(gshape)} does not broadcast to shape {tuple(shape)}")
    if dims:
        g = g.sum(tuple(dims), keepdim=True)
    if lead:
        g = g.reshape(shape)
    return g


def _fit(g, shape, dtype):
    if g._data.shape != shape:
        g = _sum_to(g, shape)
    if g._data.dtype != dtype:
        if g._data.dtype.kind == "c" and dtype.kind != "c":
            # A complex gradient reaching a real input keeps its real part (PyTorch's convention: the
            # gradient of a real input is the real part of the conjugate Wirtinger derivative).
            g = g.real
        g = g.to(dt.FROM_NP[dtype])
    return g


def _run_hooks(hooks, g):
    for h in hooks:
        r = h(g)
        if r is not None:
            g = r
    return g


# Post-accumulate-grad hooks by leaf: id(tensor) -> (weak reference, hooks). Kept here rather than in a
# Tensor slot so tensors stay as small as they are; the engine checks the dict only when it is non-empty.
_POST_ACCUMULATE: dict = {}


def add_post_accumulate_grad_hook(t, hook) -> _RemovableHandle:
    """Register ``hook(t)`` to run after a gradient is accumulated into the leaf ``t``'s ``.grad``."""
    key = id(t)
    entry = _POST_ACCUMULATE.get(key)
    if entry is None or entry[0]() is not t:
        def forget(ref, key=key):
            if _POST_ACCUMULATE.get(key, (None,))[0] is ref:
                del _POST_ACCUMULATE[key]
        entry = _POST_ACCUMULATE[key] = (weakref.ref(t, forget), [])
    entry[1].append(hook)
    return _RemovableHandle(entry[1], hook)


def tensor_register_post_accumulate_grad_hook(self, hook) -> _RemovableHandle:
    """``Tensor.register_post_accumulate_grad_hook``: call ``hook(tensor)`` after a backward pass
    accumulates a gradient into this leaf's ``.grad`` (PyTorch's semantics: leaves only; the hook
    returns nothing). Returns a handle with ``remove()``.

    >>> w = ember.ones(2, requires_grad=True)
    >>> h = w.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(10))
    >>> (w * 3).sum().backward(); w.grad
    tensor([30., 30.])
    """
    if not self._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    return add_post_accumulate_grad_hook(self, hook)


def _run_post_accumulate(t) -> None:
    entry = _POST_ACCUMULATE.get(id(t))
    if entry is not None and entry[0]() is t:
        for hook in tuple(entry[1]):
            hook(t)


def _accumulate_leaf(t, g, create_graph, owned=False):
    """Add ``g`` to ``t.grad``. ``owned``: nothing else refers to ``g`` or its array, so it can
    become ``t.grad`` as it is (otherwise the first gradient is copied)."""
    hooks = t._hooks
    if hooks:
        g = _run_hooks(hooks, g)
        owned = False
    if g is None:
        return
    if t.grad is None:
        if create_graph or owned:
            t.grad = g
        else:
            # Copy: the same gradient tensor may reach several leaves (x + y), and users
            # scale .grad in place (clip_grad_norm_), which must not leak between them.
            t.grad = _detached_copy(g)
    elif create_graph:
        t.grad = t.grad + g
    else:
        t.grad._data = t.grad._data + g._data
        vc = t.grad._vc
        if vc is not None:
            vc[0] += 1
    if _POST_ACCUMULATE:
        _run_post_accumulate(t)


def _detached_copy(g):
    return _make(g._data.copy(), g._device)


def _execute(roots, root_grads, retain_graph, create_graph, capture=None, needed=None):
    """Run backward from ``roots``. With ``capture`` (autograd.grad), gradients for the
    requested inputs are collected instead of accumulated into ``.grad``.

    capture: dict mapping a leaf tensor's id or a (node, output_nr) pair to a result slot.
    needed:  the set of nodes that lead to a captured input (others are skipped).
    """
    captured = {} if capture is not None else None
    heap: list = []
    buffers: dict = {}

    def deliver(target, idx, g):
        if isinstance(target, Node):
            if needed is not None and target not in needed:
                return
            buf = buffers.get(target)
            if buf is None:
                buf = buffers[target] = [None] * target._n_out
                heapq.heappush(heap, (-target._seq, target))
            old = buf[idx]
            buf[idx] = g if old is None else old + g
        elif capture is not None:
            key = id(target)
            if key in capture:
                hooks = target._hooks
                if hooks:
                    g = _run_hooks(hooks, g)
                old = captured.get(key)
                captured[key] = g if old is None else old + g
        else:
            _accumulate_leaf(target, g, create_graph)

    heappop, heappush = heapq.heappop, heapq.heappush
    prev = STATE.enabled
    STATE.enabled = create_graph
    try:
        for t, g in zip(roots, root_grads):
            if t.grad_fn is None:
                deliver(t, 0, g)
            else:
                deliver(t.grad_fn, t._output_nr, g)
        while heap:
            node = heappop(heap)[1]
            grads = buffers.pop(node)
            if node._pre_hooks:
                _apply_pre_hooks(node, grads)
            if capture is not None:
                for i in range(node._n_out):
                    key = (node, i)
                    if key in capture and grads[i] is not None:
                        captured[key] = grads[i]
                if needed is not None and node in needed and not _leads_further(node, needed, capture):
                    _release(node, retain_graph)
                    continue
            if node._n_out > 1 and node.materialize_grads:
                _materialize(node, grads)
            if node._saved is _RELEASED:
                raise RuntimeError(_FREED_MSG)
            in_grads = node._fn.backward(node, *grads)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            edges = node.next_edges
            if len(in_grads) != len(edges):
                in_grads = _check_grad_count(node, in_grads, edges)
            if not retain_graph and node._saved is not None:
                node._saved = _RELEASED
            # Indexing rather than zip(): zip keeps its last (edge, g) tuple alive for reuse, an
            # extra reference that would make every leaf gradient look shared (see ``owned``).
            for i in range(len(edges)):
                edge, g = edges[i], in_grads[i]
                if edge is None or g is None:
                    continue
                if type(g) is not Tensor and not isinstance(g, Tensor):
                    raise TypeError(f"function {node.name()} returned a gradient of type "
                                    f"{type(g).__name__}; expected a Tensor or None")
                target, idx, shape, dtype = edge
                d = g._data
                if d.shape != shape or d.dtype != dtype:
                    g = _fit(g, shape, dtype)
                if type(target) is Node and needed is None:
                    # The common case, inlined: accumulate into the target node's buffer.
                    buf = buffers.get(target)
                    if buf is None:
                        buf = buffers[target] = [None] * target._n_out
                        heappush(heap, (-target._seq, target))
                    old = buf[idx]
                    buf[idx] = g if old is None else old + g
                elif capture is None and type(target) is not Node:
                    # A leaf. Its first gradient can be stored without a copy when this loop holds the
                    # only references to it and to its array (references: in_grads, g, the call's
                    # argument), as PyTorch does by reference count.
                    d = g._data
                    owned = getrefcount(g) <= 3 and getrefcount(d) <= 3 and isinstance(d, np.ndarray) \
                        and d.base is None and d.flags.writeable
                    _accumulate_leaf(target, g, create_graph, owned)
                else:
                    deliver(target, idx, g)
    finally:
        STATE.enabled = prev
    return captured


def _check_grad_count(node, in_grads, edges):
    if len(in_grads) > len(edges) and all(g is None for g in in_grads[len(edges):]):
        return in_grads[: len(edges)]
    raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                       f"(expected {len(edges)}, got {len(in_grads)})")


def _leads_further(node, needed, capture) -> bool:
    for e in node.next_edges:
        if e is None:
            continue
        tgt = e[0]
        if isinstance(tgt, Node):
            if tgt in needed:
                return True
        elif id(tgt) in capture:
            return True
    return False


def _release(node, retain_graph):
    if not retain_graph and node._saved is not None:
        node._saved = _RELEASED


def _apply_pre_hooks(node, grads):
    for idx, hooks in node._pre_hooks.items():
        if idx == -1:
            for h in hooks:
                r = h(tuple(grads))
                if r is not None:
                    grads[:] = list(r)
        elif grads[idx] is not None:
            grads[idx] = _run_hooks(hooks, grads[idx])


def _materialize(node, grads):
    for i, g in enumerate(grads):
        if g is None and node._out_meta and node._out_meta[i] is not None:
            shape, dt, dev = node._out_meta[i]
            grads[i] = _make(dev.xp.zeros(shape, dt), dev)


def _make_root_grads(tensors, grad_tensors, what="backward"):
    out = []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}: expected Tensors, got {type(t).__name__} at position {i}")
        if not t._rg:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs "
                                   f"(got an output of shape {tuple(t._data.shape)}); pass gradient=")
            if t._data.dtype.kind == "c":
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {t.dtype}")
            g = _make(t._device.xp.ones(t._data.shape, t._data.dtype), t._device)
        elif not isinstance(g, Tensor):   # a number or nested list, as ember.tensor takes
            host = np.asarray(g, dtype=t._data.dtype)
            g = _make(host if t._device.type == "cpu" else t._device.backend.from_host(host, t._device.index),
                      t._device)
        if tuple(g._data.shape) != tuple(t._data.shape):
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {tuple(g._data.shape)} "
                               f"and output[{i}] has a shape of {tuple(t._data.shape)}.")
        if g._device is not t._device:
            raise RuntimeError(f"grad_output[{i}] is on {g._device} but output[{i}] is on {t._device}")
        out.append(g)
    return out


def _as_list(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves they depend on.

    >>> loss.backward()                      # same as ember.autograd.backward(loss)
    """
    tensors = _as_list(tensors)
    grads = _as_list(grad_tensors) or [None] * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(f"got {len(grads)} gradients for {len(tensors)} tensors")
    if retain_graph is None:
        retain_graph = create_graph
    root_grads = _make_root_grads(tensors, grads)
    if inputs is not None:
        inputs = _as_list(inputs)
        res = grad(tensors, inputs, root_grads, retain_graph=retain_graph,
                   create_graph=create_graph, allow_unused=True)
        for t, g in zip(inputs, res):
            if g is not None:
                _accumulate_leaf(t, g, create_graph)
        return
    _execute(tensors, root_grads, retain_graph, create_graph)



def tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    """``Tensor.backward``: gradients of this tensor with respect to graph leaves (accumulated in ``.grad``).

    >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4.])
    """
    backward(self, gradient, retain_graph, create_graph, inputs)


def tensor_retain_grad(self) -> None:
    """``Tensor.retain_grad``: keep ``.grad`` for this non-leaf tensor after backward.

    >>> x = ember.tensor([1.0], requires_grad=True)
    >>> y = x * 3
    >>> y.retain_grad()
    >>> (y * y).sum().backward()
    >>> y.grad
    tensor([6.])
    """
    if not self._rg:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if self.grad_fn is None or self.retains_grad:
        return
    ref = weakref.ref(self)

    def hook(g):
        t = ref()
        if t is not None:
            if t.grad is None:
                t.grad = g if STATE.enabled else g.detach()
            else:
                t.grad = t.grad + g
        return None
    hook._retains = True
    self.register_hook(hook)

def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False, only_inputs=True):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    >>> (gx,) = ember.autograd.grad(y.sum(), x, create_graph=True)   # differentiable again
    """
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    grads = _as_list(grad_outputs) or [None] * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs[{i}] is a {type(t).__name__}, expected a Tensor")
        if not t._rg:
            raise RuntimeError(f"One of the differentiated Tensors (inputs[{i}]) does not require grad")
    root_grads = _make_root_grads(outputs, grads, "grad")
    capture = {}
    for i, t in enumerate(inputs):
        key = id(t) if t.grad_fn is None else (t.grad_fn, t._output_nr)
        capture[key] = i
    needed = _needed_nodes(outputs, capture)
    captured = _execute(outputs, root_grads, retain_graph, create_graph, capture, needed)
    result = []
    for i, t in enumerate(inputs):
        key = id(t) if t.grad_fn is None else (t.grad_fn, t._output_nr)
        g = captured.get(key)
        if g is None:
            if materialize_grads:
                g = _make(t._device.xp.zeros(t._data.shape, t._data.dtype), t._device)
            elif not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (inputs[{i}]) appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the desired behavior.")
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)


def _needed_nodes(outputs, capture) -> set:
    """Nodes from which some captured input is reachable (iterative post-order walk)."""
    capture_nodes = {k[0] for k in capture if isinstance(k, tuple)}
    needed: set = set()
    visited: set = set()
    for root in outputs:
        start = root.grad_fn
        if start is None or start in visited:
            continue
        stack = [(start, False)]
        while stack:
            node, done = stack.pop()
            if done:
                if node in capture_nodes or _leads_further(node, needed, capture):
                    needed.add(node)
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            for e in node.next_edges:
                if e is not None and isinstance(e[0], Node) and e[0] not in visited:
                    stack.append((e[0], False))
    return needed
