"""Reference numbers for the optimizers, from torch.optim (float64).

This script makes every optimizer reference (SGD, Adam, RMSprop);
gen_cases.py makes the layer cases. Each case starts a parameter at p0,
hands torch.optim four gradients and records the parameter after each
step; engine/optim_test.go replays them through the engine's optimizers.

Run with Debian's python3-torch:  /usr/bin/python3 engine/testdata/gen_optim.py
It writes engine/testdata/optim.json; the Go tests read that file and never
need torch.
"""
import json

import torch

torch.set_default_dtype(torch.float64)

p0 = [0.5, -0.25, 1.0, -2.0, 0.125]
grads = [
    [0.25, -0.5, 0.75, 1.0, -0.125],
    [-0.5, 0.25, 0.5, -1.5, 0.0625],
    [0.125, 0.375, -0.25, 2.0, -0.5],
    [1.0, -1.0, 0.5, 0.25, 0.75],
]

configs = [
    dict(name="sgd_plain", opt="sgd", lr=0.1, momentum=0.0, nesterov=False, wd=0.0, bias=False),
    dict(name="sgd_momentum", opt="sgd", lr=0.1, momentum=0.9, nesterov=False, wd=0.0, bias=False),
    dict(name="sgd_nesterov_wd", opt="sgd", lr=0.05, momentum=0.8, nesterov=True, wd=0.01, bias=False),
    dict(name="sgd_wd_bias_skipped", opt="sgd", lr=0.05, momentum=0.8, nesterov=False, wd=0.01, bias=True),
    dict(name="adam", opt="adam", lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, wd=0.0, bias=False),
    dict(name="adam_wd", opt="adam", lr=0.003, beta1=0.8, beta2=0.99, eps=1e-6, wd=0.05, bias=False),
    dict(name="rmsprop", opt="rmsprop", lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0, centered=False, wd=0.0, bias=False),
    dict(name="rmsprop_wd", opt="rmsprop", lr=0.005, alpha=0.9, eps=1e-6, momentum=0.0, centered=False, wd=0.05, bias=False),
    dict(name="rmsprop_wd_bias_skipped", opt="rmsprop", lr=0.005, alpha=0.9, eps=1e-6, momentum=0.0, centered=False, wd=0.05, bias=True),
    dict(name="rmsprop_momentum", opt="rmsprop", lr=0.01, alpha=0.9, eps=1e-8, momentum=0.8, centered=False, wd=0.0, bias=False),
    dict(name="rmsprop_centered", opt="rmsprop", lr=0.01, alpha=0.95, eps=1e-6, momentum=0.0, centered=True, wd=0.0, bias=False),
    dict(name="rmsprop_centered_momentum_wd", opt="rmsprop", lr=0.003, alpha=0.8, eps=1e-8, momentum=0.5, centered=True, wd=0.01, bias=False),
]

cases = []
for c in configs:
    p = torch.tensor(p0, requires_grad=True)
    wd = 0.0 if c["bias"] else c["wd"]
    if c["opt"] == "sgd":
        opt = torch.optim.SGD([p], lr=c["lr"], momentum=c["momentum"], nesterov=c["nesterov"], weight_decay=wd)
    elif c["opt"] == "adam":
        opt = torch.optim.Adam([p], lr=c["lr"], betas=(c["beta1"], c["beta2"]), eps=c["eps"], weight_decay=wd)
    else:
        opt = torch.optim.RMSprop([p], lr=c["lr"], alpha=c["alpha"], eps=c["eps"], weight_decay=wd,
                                  momentum=c["momentum"], centered=c["centered"])
    after = []
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
        after.append(p.detach().tolist())
    cases.append(dict(c, p0=p0, grads=grads, after=after))

with open("engine/testdata/optim.json", "w") as f:
    json.dump({"generator": "torch " + torch.__version__ + " torch.optim, float64", "cases": cases}, f, indent=1)
