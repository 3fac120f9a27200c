"""The PyTorch profiler recipe on a torchvision ResNet-18: time a forward pass by operator, group by input
shape, export a Chrome trace, then profile chosen training steps with a schedule and TensorBoard's trace
handler; run on Ember, only the import lines differ. Small images keep it quick on a CPU."""
import json
import os
import sys

import ember as torch
import ember_vision as torchvision
from ember.profiler import ProfilerActivity, profile, record_function, schedule, tensorboard_trace_handler

out = sys.argv[1] if len(sys.argv) > 1 else "."
torch.manual_seed(0)
model = torchvision.models.resnet18()
inputs = torch.randn(2, 3, 32, 32)

model.eval()
with torch.no_grad():
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("model_inference"):
            model(inputs)
print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
print(prof.key_averages(group_by_input_shape=True).table(sort_by="cpu_time_total", row_limit=10))
prof.export_chrome_trace(os.path.join(out, "trace.json"))

model.train()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
target = torch.tensor([1, 2])
with profile(activities=[ProfilerActivity.CPU], schedule=schedule(wait=0, warmup=1, active=1, repeat=2),
             on_trace_ready=tensorboard_trace_handler(os.path.join(out, "tb"))) as prof:
    for step in range(4):
        loss = torch.nn.functional.cross_entropy(model(inputs), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        prof.step()
traces = sorted(os.listdir(os.path.join(out, "tb")))
print("traces:", len(traces))
with open(os.path.join(out, "tb", traces[0])) as f:
    names = {e["name"] for e in json.load(f)["traceEvents"]}
print("ProfilerStep#1" in names, "aten::conv2d" in names)
