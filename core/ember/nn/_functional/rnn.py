"""Recurrent layers: the fused whole-sequence recurrence behind RNN/LSTM/GRU, and the single-step cells.

Speed design. One layer-direction over a whole sequence is one graph node (``Recurrence``):

* forward: the input projections of all time steps are one (batched) matrix product; each step then
  does one product for the hidden projection of all gates together and a handful of in-place array
  ops for the gate math (sigmoids as ``0.5 * tanh(x / 2) + 0.5`` over one block, with the 1/2 folded
  into the weights);
* backward: backpropagation through time by hand with arrays: per step one matrix product and
  ~20 small in-place element-wise ops on contiguous, cache-resident blocks (activation derivatives
  are recomputed there from the saved activations: whole-sequence passes allocated many large
  temporaries, and the page faults of those cost more than the whole loop); the weight gradients
  are then large matrix products over all steps.

Sequences are handled in the packed layout (see ``ember.nn.utils.rnn``): rows ``offset[t]`` to
``offset[t] + batch_sizes[t]`` of a 2-D ``(rows, features)`` array are time step ``t`` of the sequences
still running. A padded ``(T, B, F)`` input is the special case ``batch_sizes = (B,) * T``.

Double backward: the first-order backward works on arrays, so for ``create_graph=True`` the node
recomputes the layer with the single-step cells below (plain Ember ops) and differentiates that
graph instead; this is slow but exact, so higher-order gradients work.
"""
from __future__ import annotations

import numpy as np

from ..._op_hooks import observe_namespace
from ..._tensor import Tensor, _make
from ...autograd.function import Op
from ...autograd.grad_mode import STATE
from .layers import linear

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]


# ---- single steps in Ember ops (the Cell modules, and the differentiable recomputation) ----------
def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    """One Elman step ``tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``."""
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).tanh()


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    """One Elman step with ReLU: ``relu(x W_ih^T + b_ih + h W_hh^T + b_hh)``."""
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).relu()


def lstm_cell(input: Tensor, hx, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step; ``hx = (h, c)``, gates in PyTorch's order i, f, g, o. Returns ``(h', c')``."""
    h, c = hx
    i, f, g, o = (linear(input, w_ih, b_ih) + linear(h, w_hh, b_hh)).chunk(4, -1)
    c2 = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c2.tanh(), c2


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step (PyTorch's formula: ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``,
    ``h' = (1 - z) * n + z * h``)."""
    xr, xz, xn = linear(input, w_ih, b_ih).chunk(3, -1)
    hr, hz, hn = linear(hx, w_hh, b_hh).chunk(3, -1)
    r = (xr + hr).sigmoid()
    z = (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return n + z * (hx - n)


# ---- per-mode step math on arrays ---------------------------------------------------------------
# Gate-major layout: the pre-activations of a whole sequence are one (gates, rows, H) array, so each
# gate of a time step is a contiguous (n, H) block. (NumPy's element-wise loops over column slices of
# a (rows, gates * H) array were 5-8x slower than over contiguous blocks of the same size.) The
# per-step hidden projection is one batched product ``h (n, H) @ W (gates, H, H)``.
def _gate_major(w, gates: int, order=None):
    """(gates * H, K) PyTorch weight -> (gates, H, K), gates in the internal ``order``."""
    w = w.reshape((gates, -1) + w.shape[1:])
    return w if order is None else w[list(order)]


def _scale(gates: int, sig: int, dtype):
    """Per-gate factors: 1/2 on the ``sig`` leading gates (sigmoid computed through tanh)."""
    s = np.ones((gates, 1, 1), dtype=dtype)
    s[:sig] = 0.5
    return s


class _Cell:
    """Shared parts; subclasses define ``gates``, ``sig`` (leading sigmoid gates), ``order`` (internal
    gate order as PyTorch gate indices, or None), ``has_c``, ``cell`` and the two loops."""

    order = None
    has_c = False
    sig = 0

    def prepare(self, xp, w_ih, w_hh, b_ih, b_hh):
        """Internal-order weights for the forward: ``wx (gates, I, H)``, ``wh (gates, H, H)`` (both
        transposed per gate, sigmoid gates halved), the input-side bias ``(gates, 1, H)`` and the
        hidden-side bias that stays inside the step (GRU's ``b_hn``)."""
        s = xp.asarray(_scale(self.gates, self.sig, w_ih.dtype))
        wx = _gate_major(w_ih, self.gates, self.order).transpose(0, 2, 1) * s
        wh = xp.ascontiguousarray(_gate_major(w_hh, self.gates, self.order).transpose(0, 2, 1) * s)
        bx, bh = self._biases(xp, b_ih, b_hh, s)
        return wx, wh, bx, bh

    def _biases(self, xp, b_ih, b_hh, s):
        if b_ih is None:
            return None, None
        return _gate_major(b_ih + b_hh, self.gates, self.order)[:, None, :] * s, None


class _Tanh(_Cell):
    """Elman RNN, ``h' = act(x W_ih^T + h W_hh^T + b)``."""

    gates = 1
    cell = staticmethod(rnn_tanh_cell)

    @staticmethod
    def _act(xp, y):
        xp.tanh(y, out=y)

    @staticmethod
    def _deriv(xp, y, out):
        xp.multiply(y, y, out=out)
        xp.subtract(1, out, out=out)                 # tanh' = 1 - y^2

    def forward(self, xp, G, h, c, wh, bh, steps, keep):
        Y = G[0]
        Hp = xp.empty_like(Y) if keep else None
        tmp = xp.empty_like(h)
        w = wh[0]
        for s, n in steps:
            r = slice(s, s + n)
            hp = h[:n]
            if keep:
                Hp[r] = hp
            t = tmp[:n]
            xp.matmul(hp, w, out=t)
            y = Y[r]
            y += t
            self._act(xp, y)
            h[:n] = y
        return Y, h, None, (G, Hp)

    def backward(self, xp, saved, gY, dh, dc, whh, steps):
        G, _ = saved
        Y = G[0]
        DZ = xp.empty_like(G)
        dz_all, w = DZ[0], whh[0]
        for s, n in reversed(steps):
            r = slice(s, s + n)
            dhv = dh[:n]
            dhv += gY[r]
            dz = dz_all[r]
            self._deriv(xp, Y[r], dz)
            dz *= dhv
            xp.matmul(dz, w, out=dhv)
        return DZ, DZ, dh, None


class _Relu(_Tanh):
    cell = staticmethod(rnn_relu_cell)

    @staticmethod
    def _act(xp, y):
        xp.maximum(y, 0, out=y)

    @staticmethod
    def _deriv(xp, y, out):
        xp.greater(y, 0, out=out)


class _LSTM(_Cell):
    """LSTM with the gates in the internal order (o, i, f, g): the three sigmoid gates are one block
    forward, and the three gates driven by the cell gradient are one block backward."""

    gates, sig, has_c = 4, 3, True
    order = (3, 0, 1, 2)  # PyTorch's (i, f, g, o) -> (o, i, f, g)
    cell = staticmethod(lstm_cell)

    def forward(self, xp, G, h, c, wh, bh, steps, keep):
        N, H = G.shape[1], h.shape[1]
        dt = G.dtype
        Y, C, TC = (xp.empty((N, H), dt) for _ in range(3))
        Hp, Cp = (xp.empty((N, H), dt), xp.empty((N, H), dt)) if keep else (None, None)
        tmp4, tmp = xp.empty((4,) + h.shape, dt), xp.empty_like(h)
        for s, n in steps:
            r = slice(s, s + n)
            hp, cp = h[:n], c[:n]
            if keep:
                Hp[r] = hp
                Cp[r] = cp
            g = G[:, r]
            t4 = tmp4[:, :n]
            xp.matmul(hp, wh, out=t4)
            g += t4
            xp.tanh(g, out=g)
            sg = g[:3]
            sg *= 0.5
            sg += 0.5
            o, i, f, gg = g
            cn = C[r]
            xp.multiply(f, cp, out=cn)
            t = tmp[:n]
            xp.multiply(i, gg, out=t)
            cn += t                                  # c = f * c + i * g
            tc = TC[r]
            xp.tanh(cn, out=tc)
            y = Y[r]
            xp.multiply(o, tc, out=y)                # h = o * tanh(c)
            h[:n] = y
            c[:n] = cn
        return Y, h, c, (G, Hp, TC, Cp)

    def backward(self, xp, saved, gY, dh, dc, whh, steps):
        G, _, TC, Cp = saved
        D = xp.empty_like(G)
        tmp4, tmp = xp.empty((4,) + dh.shape, dh.dtype), xp.empty_like(dh)
        for s, n in reversed(steps):
            r = slice(s, s + n)
            o, i, f, g = G[:, r]
            tc = TC[r]
            dhv, dcv = dh[:n], dc[:n]
            dhv += gY[r]
            t = tmp[:n]
            xp.multiply(tc, tc, out=t)
            xp.subtract(1, t, out=t)
            t *= o
            t *= dhv
            dcv += t                                 # dc += dh * o * tanh'(c)
            d = D[:, r]
            xp.subtract(1, G[:3, r], out=d[:3])
            d[:3] *= G[:3, r]                        # sigmoid' of o, i, f
            d[0] *= tc
            d[0] *= dhv                              # dz_o = dh * tanh(c) * o'
            d[1] *= g
            d[2] *= Cp[r]
            xp.multiply(g, g, out=d[3])
            xp.subtract(1, d[3], out=d[3])
            d[3] *= i                                # the dc-driven gates: i: g i', f: c_prev f', g: i g'
            d[1:] *= dcv
            dcv *= f
            t4 = tmp4[:, :n]
            xp.matmul(d, whh, out=t4)
            xp.add.reduce(t4, axis=0, out=dhv)
        return D, D, dh, dc


class _GRU(_Cell):
    """GRU, gates (r, z, n) as PyTorch; the hidden projection of n is kept apart (it is gated by r)."""

    gates, sig = 3, 2
    cell = staticmethod(gru_cell)

    def _biases(self, xp, b_ih, b_hh, s):
        if b_ih is None:
            return None, None
        bx = _gate_major(b_ih, 3)[:, None, :] * s
        bx[:2] += _gate_major(b_hh, 3)[:2, None, :] * 0.5
        return bx, b_hh[2 * (b_hh.shape[0] // 3):]

    def forward(self, xp, G, h, c, wh, bhn, steps, keep):
        N, H = G.shape[1], h.shape[1]
        dt = G.dtype
        Y, HN = xp.empty((N, H), dt), xp.empty((N, H), dt)
        Hp = xp.empty((N, H), dt) if keep else None
        tmp3, tmp = xp.empty((3,) + h.shape, dt), xp.empty_like(h)
        for s, n in steps:
            r = slice(s, s + n)
            hp = h[:n]
            if keep:
                Hp[r] = hp
            t3 = tmp3[:, :n]
            xp.matmul(hp, wh, out=t3)
            g = G[:, r]
            rz = g[:2]
            rz += t3[:2]
            xp.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            hn = HN[r]
            if bhn is None:
                hn[...] = t3[2]
            else:
                xp.add(t3[2], bhn, out=hn)
            ng = g[2]
            t = tmp[:n]
            xp.multiply(g[0], hn, out=t)
            ng += t
            xp.tanh(ng, out=ng)                      # n = tanh(x_n + r * (W_hn h + b_hn))
            y = Y[r]
            xp.subtract(hp, ng, out=y)
            y *= g[1]
            y += ng                                  # h = n + z * (h - n)
            h[:n] = y
        return Y, h, None, (G, Hp, HN)

    def backward(self, xp, saved, gY, dh, dc, whh, steps):
        G, Hp, HN = saved
        DH = xp.empty_like(G)           # gradient of the hidden projection (r, z, W_hn h + b_hn)
        DXN = xp.empty_like(HN)         # gradient of the input projection of n
        tmp3, tmp = xp.empty((3,) + dh.shape, dh.dtype), xp.empty_like(dh)
        for s, n in reversed(steps):
            r = slice(s, s + n)
            rg, z, ng = G[:, r]
            dhv = dh[:n]
            dhv += gY[r]
            t = tmp[:n]
            xp.subtract(1, z, out=t)
            dz = DH[1, r]
            xp.subtract(Hp[r], ng, out=dz)
            dz *= z
            dz *= t
            dz *= dhv                                # dh * (h_prev - n) * z'
            dn = DXN[r]
            xp.multiply(ng, ng, out=dn)
            xp.subtract(1, dn, out=dn)
            dn *= t
            dn *= dhv                                # dh * (1 - z) * tanh'
            dr = DH[0, r]
            xp.subtract(1, rg, out=dr)
            dr *= rg
            dr *= HN[r]
            dr *= dn                                 # dn * (W_hn h + b_hn) * r'
            xp.multiply(dn, rg, out=DH[2, r])
            dhv *= z
            t3 = tmp3[:, :n]
            xp.matmul(DH[:, r], whh, out=t3)
            xp.add.reduce(t3, axis=0, out=t)
            dhv += t
        return xp.concatenate([DH[:2], DXN[None]], 0), DH, dh, None


CELLS = {"RNN_TANH": _Tanh(), "RNN_RELU": _Relu(), "LSTM": _LSTM(), "GRU": _GRU()}


def _steps(batch_sizes, reverse: bool) -> list:
    """(first row, row count) of each time step, in processing order."""
    out, s = [], 0
    for n in batch_sizes:
        out.append((s, n))
        s += n
    return out[::-1] if reverse else out


class Recurrence(Op):
    """One layer in one direction over a whole (packed-layout) sequence: ``(y, h_n, c_n)``.

    Arguments: ``x (rows, I)``, ``h0``/``c0 (B, H)`` or None (zeros), the four weights (biases may be
    None), the cell (an entry of ``CELLS``), ``batch_sizes`` (Python ints) and ``reverse``.
    """

    @staticmethod
    def forward(ctx, xp, xd, h0, c0, w_ih, w_hh, b_ih, b_hh, cell, batch_sizes, reverse):
        H = w_hh.shape[1]
        B = batch_sizes[0] if batch_sizes else 0
        dtype = xd.dtype
        h = h0.astype(dtype, copy=True) if h0 is not None else xp.zeros((B, H), dtype)
        c = None
        if cell.has_c:
            c = c0.astype(dtype, copy=True) if c0 is not None else xp.zeros((B, H), dtype)
        wx, wh, bx, bh = cell.prepare(xp, w_ih, w_hh, b_ih, b_hh)
        G = xp.matmul(xd, wx)                       # (gates, rows, H): all input projections at once
        if bx is not None:
            G += bx
        keep = any(ctx.needs_input_grad)
        Y, hn, cn, saved = cell.forward(xp, G, h, c, wh, bh, _steps(batch_sizes, reverse), keep)
        if keep:
            # The step arrays go through save_for_backward so that backward frees them (unless the graph
            # is retained); the Elman RNN's saved activations are its output, so changing that output in
            # place is reported. y is saved for the same check.
            ctx.save_for_backward(xd, h0, c0, w_ih, w_hh, b_ih, b_hh, Y, *saved)
            ctx.cell, ctx.batch_sizes, ctx.reverse = cell, batch_sizes, reverse
        return Y, hn, cn

    @staticmethod
    def backward(ctx, gy, ghn, gcn):
        saved = ctx.saved_tensors
        inputs = saved[:7]
        if STATE.enabled:  # create_graph: differentiate a recomputation in Ember ops instead
            return _recomputed_grads(ctx, inputs, (gy, ghn, gcn))
        x, h0, c0, w_ih, w_hh, b_ih, b_hh = inputs
        cell, e = ctx.cell, ctx.needs_input_grad
        dev = x._device
        xp = dev.xp
        H = w_hh._data.shape[1]
        B = ctx.batch_sizes[0] if ctx.batch_sizes else 0
        dtype = x._data.dtype
        dh = _grad_array(ghn, xp, (B, H), dtype)
        dc = _grad_array(gcn, xp, (B, H), dtype) if cell.has_c else None
        gY = gy._data if gy is not None else xp.zeros((x._data.shape[0], H), dtype)
        whh = xp.ascontiguousarray(_gate_major(w_hh._data, cell.gates, cell.order))   # (gates, H_out, H_in)
        arrays = tuple(None if t is None else t._data for t in saved[8:])
        DX, DH, dh0, dc0 = cell.backward(xp, arrays, gY, dh, dc, whh, _steps(ctx.batch_sizes, ctx.reverse))
        Hp = arrays[1]
        inv = None if cell.order is None else list(np.argsort(cell.order))

        def flat(a):  # internal gate-major gradient -> PyTorch's (gates * H, ...) layout
            a = a if inv is None else a[inv]
            return a.reshape((-1,) + a.shape[2:])

        g = [None] * 10
        if e[0]:  # sum over gates of D_k @ W_ih,k
            g[0] = xp.matmul(DX, _gate_major(w_ih._data, cell.gates, cell.order)).sum(0)
        if e[1]:
            g[1] = dh0
        if e[2]:
            g[2] = dc0
        if e[3]:
            g[3] = flat(xp.matmul(DX.transpose(0, 2, 1), x._data))
        if e[4]:
            g[4] = flat(xp.matmul(DH.transpose(0, 2, 1), Hp))
        if b_ih is not None and (e[5] or e[6]):
            db_x = DX.sum(1)
            g[5] = flat(db_x)
            g[6] = flat(db_x if DH is DX else DH.sum(1))
        return tuple(None if a is None else _make(a, dev) for a in g)


def _grad_array(g, xp, shape, dtype):
    # A fresh, writable copy: backward updates it in place.
    return g._data.astype(dtype, copy=True) if g is not None else xp.zeros(shape, dtype)


class _Alias(Op):
    """Identity with its own graph node: gradients asked for through it stop here."""

    @staticmethod
    def forward(ctx, xp, x):
        return x

    @staticmethod
    def backward(ctx, g):
        return g


def _recomputed_grads(ctx, inputs, grads):
    """Gradients of the layer by differentiating its recomputation with the Ember-op cells (for
    ``create_graph=True``). Each input goes through an alias node so that the differentiation stops
    there even when one input depends on another."""
    from ...autograd.engine import grad as autograd_grad
    want = [i for i, (t, need) in enumerate(zip(inputs, ctx.needs_input_grad)) if t is not None and need]
    args = list(inputs)
    for i in want:
        args[i] = _Alias.apply(args[i])
    outs = _composite_layer(*args, ctx.cell, ctx.batch_sizes, ctx.reverse)
    pairs = [(o, g) for o, g in zip(outs, grads) if o is not None and g is not None and o.requires_grad]
    res = autograd_grad([o for o, _ in pairs], [args[i] for i in want], [g for _, g in pairs],
                        create_graph=True, allow_unused=True)
    out = [None] * 10
    for i, r in zip(want, res):
        out[i] = r
    return tuple(out)


def _composite_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, cell, batch_sizes, reverse):
    """The same layer as ``Recurrence``, step by step with Ember ops (differentiable to any order)."""
    from ...ops.shape import cat
    B, H = (batch_sizes[0] if batch_sizes else 0), w_hh.shape[1]
    h = h0 if h0 is not None else x.new_zeros((B, H))
    c = (c0 if c0 is not None else x.new_zeros((B, H))) if cell.has_c else None
    ys = {}
    for s, n in _steps(batch_sizes, reverse):
        xt = x[s:s + n]
        if cell.has_c:
            hn, cn = cell.cell(xt, (h[:n], c[:n]), w_ih, w_hh, b_ih, b_hh)
            c = cn if n == B else cat([cn, c[n:]], 0)
        else:
            hn = cell.cell(xt, h[:n], w_ih, w_hh, b_ih, b_hh)
        h = hn if n == B else cat([hn, h[n:]], 0)
        ys[s] = hn
    y = cat([ys[s] for s in sorted(ys)], 0) if ys else x.new_zeros((0, H))
    return y, h, c


def recurrent_layers(mode: str, x: Tensor, batch_sizes, hx, cx, weights, num_layers: int, bidirectional: bool,
                     dropout: float, training: bool):
    """A stack of recurrent layers over packed-layout ``x (rows, I)``.

    ``weights``: ``(w_ih, w_hh, b_ih, b_hh)`` per layer and direction (layer-major, forward first);
    ``hx``/``cx``: ``(layers * directions, B, H)`` or None. Returns ``(y, h_n, c_n)`` (``c_n`` None
    unless LSTM); dropout is applied to the outputs of all but the last layer when training.
    """
    from ...ops.shape import cat, stack
    from .layers import dropout as _dropout
    cell = CELLS[mode]
    dirs = 2 if bidirectional else 1
    hs, cs = [], []
    layer_in = x
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            h0 = hx[k] if hx is not None else None
            c0 = cx[k] if cx is not None else None
            y, hn, cn = Recurrence.apply(layer_in, h0, c0, *weights[k], cell, batch_sizes, d == 1)
            outs.append(y)
            hs.append(hn)
            cs.append(cn)
        layer_in = outs[0] if dirs == 1 else cat(outs, 1)
        if dropout and training and layer < num_layers - 1:
            layer_in = _dropout(layer_in, dropout, True)
    return layer_in, stack(hs, 0), (stack(cs, 0) if cell.has_c else None)


# Published for op observers (graph capture, the profiler): see ember._op_hooks.
observe_namespace(globals(), __all__ + ["recurrent_layers"])
