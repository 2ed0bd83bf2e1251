#!/usr/bin/python3
"""Reference training trajectories from PyTorch, for engine/replay_test.go.

Each case is a small network trained by torch.optim for a few steps on
given batches (of varying size): the Go test loads the case's initial
state as a backpropviz model file (docs/model-format.md), hands the engine
each batch with Trainer.SetBatch, steps, and compares every weight and the
loss after each step with torch's.

Run with Debian's python3-torch:  /usr/bin/python3 engine/testdata/gen_replay.py
It writes engine/testdata/replay.json. PyTorch computes in float64; the Go
tests read the JSON and never need torch.

replay.json:
  {"generator": ..., "cases": [{
     "name": ..., "spec": engine spec of the network, "classes": K,
     "model": a backpropviz-model file: the initial weights and hyperparameters,
     "steps": [{"x": (N, C, H, W) row-major, "labels": (N),
                "loss": torch's mean cross-entropy of the batch before the update,
                "params": every parameter after the update, in the model's order}]}]}
"""
import json
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
gen = torch.Generator().manual_seed(20250312)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "replay.json")
SHAPE = (1, 6, 6)


def net_a(p, x):
    """conv(3,3,s1,p1) relu maxpool(2,s2,p0) conv(4,3x2,s1,p0) tanh dense(4)"""
    y = F.conv2d(x, p[0], p[1], stride=1, padding=1)
    y = F.relu(y)
    y = F.max_pool2d(y, 2, 2, 0)
    y = F.conv2d(y, p[2], p[3], stride=1, padding=0)
    y = torch.tanh(y)
    return F.linear(y.flatten(1), p[4], p[5])


def net_b(p, x):
    """conv(4,3,s2,p1) leakyrelu(0.1) avgpool(2,s1,p1,incpad) sigmoid flatten dense(3)"""
    y = F.conv2d(x, p[0], p[1], stride=2, padding=1)
    y = F.leaky_relu(y, 0.1)
    y = F.avg_pool2d(y, 2, 1, 1, count_include_pad=True)
    y = torch.sigmoid(y)
    return F.linear(y.flatten(1), p[2], p[3])


NETS = {
    "a": dict(spec="conv(3,3,s1,p1) relu maxpool(2,s2,p0) conv(4,3x2,s1,p0) tanh dense(4)", fn=net_a, classes=4,
              # (engine layer index, name, shape): weights before bias, layer by layer
              params=[(0, "W", (3, 1, 3, 3)), (0, "b", (3,)), (3, "W", (4, 3, 3, 2)), (3, "b", (4,)),
                      (5, "W", (4, 8)), (5, "b", (4,))]),
    "b": dict(spec="conv(4,3,s2,p1) leakyrelu(0.1) avgpool(2,s1,p1,incpad) sigmoid flatten dense(3)", fn=net_b,
              classes=3,
              params=[(0, "W", (4, 1, 3, 3)), (0, "b", (4,)), (5, "W", (3, 4 * 4 * 4)), (5, "b", (3,))]),
}

# The engine's defaults for the hyperparameters an optimizer does not read.
DEFAULTS = dict(optimizer="adam", learning_rate=0.001, momentum=0.9, nesterov=False, weight_decay=0.0,
                beta1=0.9, beta2=0.999, alpha=0.99, centered=False, epsilon=1e-8, batch_size=8)

CASES = [
    dict(name="sgd nesterov, weight decay", net="a", batches=[3, 2, 4, 1, 3],
         hyper=dict(optimizer="sgd", learning_rate=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    dict(name="adam, weight decay", net="a", batches=[4, 1, 3, 2, 4],
         hyper=dict(optimizer="adam", learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.01)),
    dict(name="adam, every other layer kind", net="b", batches=[2, 3, 1, 4],
         hyper=dict(optimizer="adam", learning_rate=0.02, beta1=0.8, beta2=0.99, epsilon=1e-6)),
    dict(name="sgd momentum, every other layer kind", net="b", batches=[3, 3, 2, 1],
         hyper=dict(optimizer="sgd", learning_rate=0.5, momentum=0.8, weight_decay=0.05)),
    dict(name="rmsprop centered, momentum", net="a", batches=[2, 3, 2, 4],
         hyper=dict(optimizer="rmsprop", learning_rate=0.005, alpha=0.9, epsilon=1e-8, momentum=0.5, centered=True,
                    weight_decay=0.01)),
]


def tolist(t):
    return [float(v) for v in t.detach().flatten().tolist()]


def make_case(c):
    net = NETS[c["net"]]
    h = dict(DEFAULTS, **c["hyper"])
    params = []
    for _, name, shape in net["params"]:
        fan_in = 1
        for d in shape[1:]:
            fan_in *= d
        if name == "W":
            p = torch.randn(shape, generator=gen) * (2.0 / fan_in) ** 0.5
        else:
            p = torch.randn(shape, generator=gen) * 0.1
        params.append(p.requires_grad_())
    model = {
        "format": "backpropviz-model", "version": 1, "spec": net["spec"], "data": "replay",
        "input_shape": list(SHAPE), "classes": net["classes"], "seed": 1, "hyper": h,
        "step": 0, "epoch": 0, "cursor": 0, "samples_seen": 0,
        "params": [{"layer": l, "name": n, "shape": list(s), "value": tolist(p)}
                   for (l, n, s), p in zip(net["params"], params)],
        "optimizer": {"kind": h["optimizer"], "t": 0},
    }
    weights = [p for (_, n, _), p in zip(net["params"], params) if n == "W"]
    biases = [p for (_, n, _), p in zip(net["params"], params) if n == "b"]
    groups = [dict(params=weights, weight_decay=h["weight_decay"]), dict(params=biases, weight_decay=0.0)]
    if h["optimizer"] == "sgd":
        opt = torch.optim.SGD(groups, lr=h["learning_rate"], momentum=h["momentum"], nesterov=h["nesterov"])
    elif h["optimizer"] == "rmsprop":
        opt = torch.optim.RMSprop(groups, lr=h["learning_rate"], alpha=h["alpha"], eps=h["epsilon"],
                                  momentum=h["momentum"], centered=h["centered"])
    else:
        opt = torch.optim.Adam(groups, lr=h["learning_rate"], betas=(h["beta1"], h["beta2"]), eps=h["epsilon"])
    steps = []
    for n in c["batches"]:
        x = torch.rand((n,) + SHAPE, generator=gen)
        labels = torch.randint(0, net["classes"], (n,), generator=gen)
        opt.zero_grad()
        loss = F.cross_entropy(net["fn"](params, x), labels)
        loss.backward()
        opt.step()
        steps.append({"x": tolist(x), "labels": [int(v) for v in labels.tolist()], "loss": float(loss),
                      "params": [tolist(p) for p in params]})
    return {"name": c["name"], "spec": net["spec"], "classes": net["classes"], "model": model, "steps": steps}


with open(OUT, "w") as f:
    json.dump({"generator": "engine/testdata/gen_replay.py (torch %s, float64)" % torch.__version__,
               "cases": [make_case(c) for c in CASES]}, f)
    f.write("\n")
