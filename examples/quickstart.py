"""Train a tiny two-layer network on a toy regression task with Ember's core only.

Run with `make demo`. Uses tensors, autograd and a hand-written SGD step (ember.nn and
ember.optim provide the same with less code).
"""
import ember

ember.manual_seed(0)

# Data: y = sin(3x) + noise, 256 points in [-1, 1].
x = ember.linspace(-1, 1, 256).unsqueeze(1)
y = (3 * x).sin() + 0.05 * ember.randn(256, 1)

# A 1-32-1 MLP with tanh, parameters as plain leaf tensors.
w1 = (ember.randn(1, 32) * 1.0).requires_grad_()
b1 = ember.zeros(32, requires_grad=True)
w2 = (ember.randn(32, 1) / 32 ** 0.5).requires_grad_()
b2 = ember.zeros(1, requires_grad=True)
params = [w1, b1, w2, b2]

lr = 0.1
for step in range(301):
    pred = (x @ w1 + b1).tanh() @ w2 + b2
    loss = ((pred - y) ** 2).mean()
    for p in params:
        p.grad = None
    loss.backward()
    with ember.no_grad():
        for p in params:
            p -= lr * p.grad
    if step % 50 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")

print("final loss", round(loss.item(), 4), "(noise floor ~0.0025)")
