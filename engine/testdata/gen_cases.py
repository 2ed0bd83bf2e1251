#!/usr/bin/python3
"""Generate reference layer cases (docs: /work/shared/layer-cases.md format).

Run with Debian's python3-torch:  /usr/bin/python3 engine/testdata/gen_cases.py
It writes engine/testdata/cases/<name>.json. PyTorch computes every number in
float64; inputs are multiples of 1/4 or 1/8. The Go tests read the JSON and
never need torch.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")
gen = torch.Generator().manual_seed(20240611)


def grid(shape, lo=-8, hi=8, step=8):
    """Random multiples of 1/step in [lo/step, hi/step]."""
    return torch.randint(lo, hi + 1, shape, generator=gen).double() / step


def tensor(t, dtype="float64"):
    t = t.detach()
    data = [int(v) for v in t.flatten().tolist()] if dtype == "int" else [float(v) for v in t.flatten().tolist()]
    return {"shape": list(t.shape), "dtype": dtype, "data": data}


def tolerance(exact):
    return {"float64_abs": 1e-12, "float64_rel": 1e-12, "float32_abs": 1e-5, "float32_rel": 1e-4,
            "rule": "|got-want| <= abs + rel*|want|, elementwise"}


def write(case):
    case["generator"] = "engine/testdata/gen_cases.py (torch %s, float64)" % torch.__version__
    with open(os.path.join(OUT, case["name"] + ".json"), "w") as f:
        json.dump(case, f, indent=1)
        f.write("\n")


def squeeze(t, batch):
    return t if batch else t[0]


def conv(name, desc, n, c, f, h, w, kh, kw, s, p):
    batch = n > 0
    nn = max(n, 1)
    x = grid((nn, c, h, w)).requires_grad_()
    wt = grid((f, c, kh, kw), -4, 4, 4).requires_grad_()
    b = grid((f,), -4, 4, 4).requires_grad_()
    y = F.conv2d(x, wt, b, stride=s, padding=p)
    dy = grid(tuple(y.shape), -4, 4, 4)
    y.backward(dy)
    write({
        "name": name, "kind": "conv2d", "layout": "NCHW" if batch else "CHW",
        "description": desc,
        "config": {"in_channels": c, "out_channels": f, "kernel_h": kh, "kernel_w": kw, "stride": s, "pad": p,
                   "in_h": h, "in_w": w, "out_h": y.shape[2], "out_w": y.shape[3], "batch": n},
        "inputs": {"X": tensor(squeeze(x, batch)), "W": tensor(wt), "b": tensor(b), "dY": tensor(squeeze(dy, batch))},
        "expected": {"Y": tensor(squeeze(y, batch)), "dX": tensor(squeeze(x.grad, batch)),
                     "dW": tensor(wt.grad), "db": tensor(b.grad)},
        "exact_in_float32": False, "tolerance": tolerance(False),
    })


def pool(name, desc, kind, n, c, h, w, k, s, p, x=None, incpad=False):
    batch = n > 0
    nn = max(n, 1)
    if x is None:
        x = grid((nn, c, h, w))
    x = x.clone().requires_grad_()
    cfg = {"kernel": k, "stride": s, "pad": p, "in_h": h, "in_w": w}
    if kind == "maxpool2d":
        y, idx = F.max_pool2d(x, k, s, p, return_indices=True)
    else:
        y = F.avg_pool2d(x, k, s, p, count_include_pad=incpad)
        cfg["count_include_pad"] = incpad
    cfg["out_h"], cfg["out_w"] = y.shape[2], y.shape[3]
    dy = grid(tuple(y.shape), -4, 4, 4)
    y.backward(dy)
    exp = {"Y": tensor(squeeze(y, batch)), "dX": tensor(squeeze(x.grad, batch))}
    if kind == "maxpool2d":
        exp["switches"] = tensor(squeeze(idx, batch), "int")
    write({
        "name": name, "kind": kind, "layout": "NCHW" if batch else "CHW", "description": desc, "config": cfg,
        "inputs": {"X": tensor(squeeze(x, batch)), "dY": tensor(squeeze(dy, batch))},
        "expected": exp, "exact_in_float32": kind == "maxpool2d", "tolerance": tolerance(True),
    })


def elementwise(name, desc, kind, fn, x, cfg=None):
    x = x.clone().requires_grad_()
    y = fn(x)
    dy = grid(tuple(y.shape), -4, 4, 4)
    y.backward(dy)
    write({
        "name": name, "kind": kind, "layout": "NCHW", "description": desc, "config": cfg or {},
        "inputs": {"X": tensor(x), "dY": tensor(dy)},
        "expected": {"Y": tensor(y), "dX": tensor(x.grad)},
        "exact_in_float32": kind in ("relu", "leaky_relu"), "tolerance": tolerance(False),
    })


def dense(name, desc, xshape, out, chw):
    x = grid(xshape).requires_grad_()
    n_in = x[0].numel() if not chw else x.numel()
    wt = grid((out, n_in), -4, 4, 4).requires_grad_()
    b = grid((out,), -4, 4, 4).requires_grad_()
    flat = x.reshape(1, -1) if chw else x
    y = flat @ wt.T + b
    dy = grid(tuple(y.shape), -4, 4, 4)
    y.backward(dy)
    if chw:
        y, dy = y[0], dy[0]
    write({
        "name": name, "kind": "dense", "layout": "CHW" if chw else "NK", "description": desc,
        "config": {"in_features": n_in, "out_features": out},
        "inputs": {"X": tensor(x), "W": tensor(wt), "b": tensor(b), "dY": tensor(dy)},
        "expected": {"Y": tensor(y), "dX": tensor(x.grad), "dW": tensor(wt.grad), "db": tensor(b.grad)},
        "exact_in_float32": True, "tolerance": tolerance(True),
    })


def softmax_ce(name, desc, logits, labels):
    z = logits.clone().requires_grad_()
    loss = F.cross_entropy(z, labels, reduction="mean")
    loss.backward()
    per = F.cross_entropy(z.detach(), labels, reduction="none")
    write({
        "name": name, "kind": "softmax_cross_entropy", "layout": "NK (N samples x K classes)", "description": desc,
        "config": {"reduction": "mean", "num_classes": z.shape[1], "batch": z.shape[0]},
        "inputs": {"logits": tensor(z), "labels": tensor(labels, "int")},
        "expected": {"loss": tensor(loss), "per_sample_loss": tensor(per), "probs": tensor(F.softmax(z.detach(), 1)),
                     "dlogits": tensor(z.grad)},
        "exact_in_float32": False, "tolerance": tolerance(False),
    })


def main():
    os.makedirs(OUT, exist_ok=True)
    conv("conv2d_s2_p1_k1x3_uncovered_rows", "Stride 2, pad 1, 1x3 kernel on 5x6: input rows 0, 2, 4 are read by no "
         "window (their dX is 0); (H+2P-KH)=6, (W+2P-KW)=5 is not a multiple of the stride.", 0, 2, 3, 5, 6, 1, 3, 2, 1)
    conv("conv2d_s3_p1_k2_uncovered_tail", "Stride 3, pad 1, 2x2 kernel on 8x8: gaps between windows and the last "
         "input row/column uncovered ((8+2-2) mod 3 = 2 > P).", 0, 1, 2, 8, 8, 2, 2, 3, 1)
    conv("conv2d_batch2_c3_rect_k2x3_p1", "Batch of 2, 3 input channels, 2 filters of 2x3, stride 1, pad 1: dW and db "
         "summed over the batch.", 2, 3, 2, 5, 6, 2, 3, 1, 1)
    conv("conv2d_k5_p2_same", "5x5 kernel with pad 2 as in the default network (same size out).", 0, 1, 2, 6, 6, 5, 5, 1, 2)
    conv("conv2d_batch3_s2_p2_k3x2", "Batch 3, stride 2, pad 2, 3x2 kernel, 2 channels.", 3, 2, 3, 5, 4, 3, 2, 2, 2)

    ties = torch.randint(-2, 3, (1, 2, 7, 7), generator=gen).double() / 4
    pool("maxpool_k3_s2_overlap_ties", "Overlapping 3x3 windows, stride 2, values from {-0.5..0.5} so windows hold "
         "ties: the first maximum in row-major order wins; overlapping windows add their gradients.",
         "maxpool2d", 0, 2, 7, 7, 3, 2, 0, x=ties)
    neg = -torch.randint(1, 17, (2, 1, 6, 5), generator=gen).double() / 8
    pool("maxpool_k3_s2_p1_padding_negative", "Pad 1 with all inputs negative: padding never wins; switches index the "
         "unpadded plane.", "maxpool2d", 2, 1, 6, 5, 3, 2, 1, x=neg)
    pool("maxpool_k3_s3_uncovered", "3x3 stride 3 on 8x8 (like maxpool(3) on 14x14): last rows/cols uncovered.",
         "maxpool2d", 0, 2, 8, 8, 3, 3, 0)
    pool("maxpool_k2_s1_overlap_batch", "2x2 stride 1, batch 2, ties allowed.", "maxpool2d", 2, 1, 4, 4, 2, 1, 0,
         x=torch.randint(-1, 2, (2, 1, 4, 4), generator=gen).double() / 2)
    pool("avgpool_k3_s2_p1_exclude_pad", "Average pooling, padding not counted in the divisor.",
         "avgpool2d", 2, 2, 5, 6, 3, 2, 1, incpad=False)
    pool("avgpool_k3_s2_p1_include_pad", "Average pooling, padding counted in the divisor (always 9).",
         "avgpool2d", 2, 2, 5, 6, 3, 2, 1, incpad=True)
    pool("avgpool_k2_s2", "Plain 2x2 average pooling on a 5x5 input (last row/col unused).",
         "avgpool2d", 0, 1, 5, 5, 2, 2, 0)

    x = grid((2, 2, 3, 3), -4, 4, 4)
    x.view(-1)[::3] = 0.0
    elementwise("relu_with_zeros", "Every third input is exactly 0: gradient 0 there.", "relu", F.relu, x)
    elementwise("leaky_relu_0.125_with_zeros", "Negative slope 0.125; at exactly 0 the slope applies to dY.",
                "leaky_relu", lambda t: torch.where(t > 0, t, 0.125 * t), x, {"negative_slope": 0.125})
    elementwise("tanh_nchw", "tanh with dX = dY(1 - Y^2).", "tanh", torch.tanh, grid((2, 1, 3, 4), -24, 24, 8))
    elementwise("sigmoid_nchw", "Logistic sigmoid including |x| up to 40.", "sigmoid", torch.sigmoid,
                torch.cat([grid((1, 1, 3, 4), -24, 24, 8), torch.tensor([-40.0, -20, 20, 40]).reshape(1, 1, 1, 4)
                           .expand(1, 1, 3, 4)], 0))

    dense("dense_chw", "Dense on one (2,3,3) sample flattened as c*H*W + h*W + w.", (2, 3, 3), 4, True)
    dense("dense_nk", "Dense on a batch of 3 vectors of 5: dW, db summed over the batch.", (3, 5), 4, False)

    softmax_ce("softmax_ce_extreme_logits", "Logits of +-1000 stay finite with log-sum-exp.",
               torch.tensor([[1000.0, -1000, 0, 999], [-1000, -1000, -1000, -1000], [1000, 1000, -1000, 0.5]]),
               torch.tensor([3, 1, 2]))
    softmax_ce("softmax_ce_batch4", "Mean over a batch of 4 with 10 classes: dlogits = (softmax - onehot)/4.",
               grid((4, 10), -24, 24, 8), torch.tensor([0, 9, 3, 3]))


if __name__ == "__main__":
    main()
