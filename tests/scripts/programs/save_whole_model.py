"""Save a whole model (not its state_dict) with torch.save and load it back with weights_only=False, the
way many PyTorch scripts checkpoint; run on Ember, only the import lines differ."""
import sys

import ember as torch
import ember.nn as nn


class Classifier(nn.Module):
    def __init__(self, n_in=4, n_out=3):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, 16), nn.ReLU())
        self.head = nn.Linear(16, n_out)

    def forward(self, x):
        return self.head(self.body(x))


torch.manual_seed(0)
model = Classifier()
x = torch.randn(5, 4)
expected = model(x)
path = sys.argv[1] if len(sys.argv) > 1 else "whole_model.pt"
torch.save(model, path)
loaded = torch.load(path, weights_only=False)   # the file is trusted: it was written just now
assert type(loaded).__name__ == "Classifier"
print("same outputs:", torch.allclose(loaded(x), expected))
