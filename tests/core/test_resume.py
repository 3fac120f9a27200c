"""Resuming: model + optimizer + scheduler checkpointed mid-training continue exactly like an uninterrupted run."""
import ember
from ember import nn
from ember.testing import assert_close


def make(seed=0):
    ember.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = ember.optim.Adam(model.parameters(), lr=0.05, weight_decay=1e-3)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    return model, opt, sched


def batches():
    g = ember.Generator().manual_seed(123)
    return [(ember.randn(16, 4, generator=g), ember.randn(16, 1, generator=g)) for _ in range(10)]


def train(model, opt, sched, data):
    for x, y in data:
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return loss.item()


def test_resume_from_checkpoint_matches_uninterrupted(tmp_path):
    data = batches()
    model, opt, sched = make()
    final_loss = train(model, opt, sched, data)

    model2, opt2, sched2 = make()
    train(model2, opt2, sched2, data[:4])
    path = tmp_path / "ckpt.ember"
    ember.save({"model": model2.state_dict(), "optimizer": opt2.state_dict(), "scheduler": sched2.state_dict(),
                "epoch": 4}, path)

    model3, opt3, sched3 = make(seed=99)  # fresh objects with different initial weights
    ckpt = ember.load(path)
    model3.load_state_dict(ckpt["model"])
    opt3.load_state_dict(ckpt["optimizer"])
    sched3.load_state_dict(ckpt["scheduler"])
    assert ckpt["epoch"] == 4
    resumed_loss = train(model3, opt3, sched3, data[4:])

    assert abs(resumed_loss - final_loss) < 1e-6
    for p, q in zip(model.parameters(), model3.parameters()):
        assert_close(q, p, rtol=1e-6, atol=1e-7)
    assert sched3.get_last_lr() == sched.get_last_lr()
