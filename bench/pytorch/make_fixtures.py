#!/usr/bin/env python3
"""PyTorch's answers for the ops and optimizers GenLab copies from it, written as one JSON fixture.

Every case is computed in float64 from inputs that are exactly representable in float32 (GenLab reads them as
float32), and records:
  * the inputs and the op's options,
  * the forward output y,
  * the gradient of sum(y * v) with respect to each input that takes one (v given),
  * where the op is twice differentiable, the gradient of sum_i sum(grad_i * u_i) with respect to those inputs,
    the first-order gradients taken with create_graph (u given).
Optimizer cases hold fixed parameters, a fixed sequence of gradients and the parameters after every step.

tests/Lab.Core.Tests/PyTorchFixtureTests.cs reads the file; it needs no torch. Regenerate with
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/pytorch/make_fixtures.py
"""

import json
import math
import os
import sys

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "Lab.Core.Tests", "Fixtures", "pytorch.json")

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)


def f32(t):
    """Rounds to float32 and back, so that GenLab's float32 inputs are exactly PyTorch's."""
    return t.float().double()


def randn(*shape, scale=1.0):
    return f32(torch.randn(tuple(shape)) * scale)


def uniform(lo, hi, *shape):
    return f32(lo + (hi - lo) * torch.rand(tuple(shape)))


def num(x):
    # JSON has no NaN or infinity: those are written as strings, which the C# side reads back.
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return 0
    return float(f"{x:.10g}")


def enc(t):
    t = t.detach().double().contiguous()
    return {"shape": list(t.shape), "data": [num(x) for x in t.reshape(-1).tolist()]}


def grads_of(fn, inputs, names, second_order, v=None):
    """Runs fn, then the first- and (optionally) second-order gradients described in the module's docstring."""
    leaves = {n: inputs[n].clone().requires_grad_(True) for n in names}
    args = {k: (leaves[k] if k in leaves else t) for k, t in inputs.items()}
    y = fn(**args)
    if v is None:
        v = randn(*y.shape)
    g = torch.autograd.grad((y * v).sum(), [leaves[n] for n in names], create_graph=second_order, allow_unused=True)
    g = [torch.zeros_like(leaves[n]) if gi is None else gi for n, gi in zip(names, g)]
    case = {"inputs": {k: enc(t) for k, t in inputs.items()}, "grad_inputs": names, "v": enc(v), "y": enc(y),
            "grads": {n: enc(gi) for n, gi in zip(names, g)}}
    if second_order:
        u = {n: randn(*leaves[n].shape) for n in names}
        s = sum((gi * u[n]).sum() for n, gi in zip(names, g))
        if s.requires_grad:
            g2 = torch.autograd.grad(s, [leaves[n] for n in names], allow_unused=True)
        else:
            g2 = [None] * len(names)  # the gradient does not depend on the inputs: second order is zero
        case["u"] = {n: enc(u[n]) for n in names}
        case["grad2"] = {n: enc(torch.zeros_like(leaves[n]) if gi is None else gi) for n, gi in zip(names, g2)}
    return case, args


CASES = []
nan = float("nan")


def add(name, op, options, fn, inputs, names, second_order=True, v=None, extra=None):
    case, args = grads_of(fn, inputs, names, second_order, v)
    case = {"name": name, "op": op, "options": options, **case}
    if extra is not None:
        case["extra"] = {k: enc(t) for k, t in extra(args).items()}
    CASES.append(case)


# --- conv2d -------------------------------------------------------------------------------------------------------

def conv(name, x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    inputs = {"x": x, "weight": w}
    if b is not None:
        inputs["bias"] = b
    opts = {"stride": list(stride), "padding": padding if isinstance(padding, str) else list(padding),
            "dilation": list(dilation), "groups": groups}
    add(name, "conv2d", opts, lambda x, weight, bias=None: F.conv2d(x, weight, bias, stride, padding, dilation, groups),
        inputs, list(inputs))


conv("conv2d_asym_padding_stride", randn(2, 3, 7, 6), randn(4, 3, 3, 2), randn(4), stride=(2, 1), padding=(1, 0))
conv("conv2d_dilation_batch1", randn(1, 2, 8, 7), randn(3, 2, 3, 3), randn(3), padding=(2, 1), dilation=(2, 1))
conv("conv2d_dilation_stride", randn(2, 2, 9, 8), randn(2, 2, 2, 3), None, stride=(2, 3), padding=(1, 2), dilation=(3, 2))
conv("conv2d_groups2", randn(2, 4, 5, 5), randn(6, 2, 3, 3), randn(6), padding=(1, 1), groups=2)
conv("conv2d_depthwise_stride2", randn(2, 3, 6, 6), randn(6, 1, 3, 3), randn(6), stride=(2, 2), padding=(1, 1), groups=3)
conv("conv2d_stride_not_dividing", randn(1, 2, 7, 8), randn(2, 2, 3, 3), None, stride=(3, 3))
conv("conv2d_same_odd_nonsquare", randn(2, 2, 6, 5), randn(3, 2, 3, 5), randn(3), padding="same")
conv("conv2d_same_even_nonsquare", randn(1, 2, 6, 7), randn(2, 2, 2, 4), randn(2), padding="same")
conv("conv2d_groups_dilation_stride", randn(2, 4, 9, 8), randn(4, 2, 3, 2), randn(4), stride=(2, 1), padding=(2, 1),
     dilation=(2, 3), groups=2)
conv("conv2d_same_even_dilated", randn(1, 2, 7, 9), randn(2, 2, 4, 2), None, padding="same", dilation=(1, 3))

# --- conv_transpose2d ---------------------------------------------------------------------------------------------


def convt(name, x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), groups=1, dilation=(1, 1)):
    inputs = {"x": x, "weight": w}
    if b is not None:
        inputs["bias"] = b
    opts = {"stride": list(stride), "padding": list(padding), "output_padding": list(output_padding),
            "dilation": list(dilation), "groups": groups}
    add(name, "conv_transpose2d", opts,
        lambda x, weight, bias=None: F.conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation),
        inputs, list(inputs))


convt("convt_stride_padding_outpad", randn(2, 3, 3, 4), randn(3, 2, 3, 3), randn(2), stride=(2, 3), padding=(1, 0),
      output_padding=(1, 2))
convt("convt_dilation_batch1", randn(1, 2, 4, 3), randn(2, 3, 2, 3), randn(3), padding=(1, 1), dilation=(2, 1))
convt("convt_groups2", randn(2, 4, 3, 3), randn(4, 1, 3, 2), randn(2), stride=(2, 1), output_padding=(1, 0), groups=2)
convt("convt_outpad_below_dilation", randn(1, 2, 3, 3), randn(2, 2, 2, 2), None, padding=(1, 0), output_padding=(1, 1),
      dilation=(2, 2))
convt("convt_groups_dilation_per_axis", randn(1, 4, 3, 4), randn(4, 2, 2, 3), randn(4), stride=(3, 2), padding=(1, 2),
      output_padding=(2, 1), groups=2, dilation=(1, 2))
convt("convt_depthwise_stride", randn(2, 3, 3, 3), randn(3, 1, 3, 3), randn(3), stride=(2, 2), padding=(1, 1),
      output_padding=(1, 0), groups=3)

# --- pooling ------------------------------------------------------------------------------------------------------


def maxpool(name, x, kernel, stride=None, padding=(0, 0), dilation=(1, 1), ceil_mode=False, second_order=True):
    opts = {"kernel": list(kernel), "stride": None if stride is None else list(stride), "padding": list(padding),
            "dilation": list(dilation), "ceil_mode": ceil_mode}
    add(name, "max_pool2d", opts, lambda x: F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode),
        {"x": x}, ["x"], second_order)


def avgpool(name, x, kernel, stride=None, padding=(0, 0), ceil_mode=False, count_include_pad=True):
    opts = {"kernel": list(kernel), "stride": None if stride is None else list(stride), "padding": list(padding),
            "ceil_mode": ceil_mode, "count_include_pad": count_include_pad}
    add(name, "avg_pool2d", opts, lambda x: F.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad),
        {"x": x}, ["x"])


maxpool("maxpool_k3_s2_p1", randn(2, 2, 7, 6), (3, 3), (2, 2), (1, 1))
maxpool("maxpool_default_stride", randn(1, 2, 6, 4), (2, 2))
maxpool("maxpool_ceil_partial", randn(1, 2, 6, 6), (3, 3), (2, 2), ceil_mode=True)
maxpool("maxpool_ceil_last_window_in_padding", randn(1, 1, 5, 6), (2, 3), (2, 2), (1, 1), ceil_mode=True)
maxpool("maxpool_per_axis", randn(2, 2, 5, 6), (3, 2), (1, 2), (1, 0))
maxpool("maxpool_dilation", randn(1, 2, 6, 5), (2, 2), (1, 1), dilation=(2, 1))
maxpool("maxpool_dilation_padding_ceil", randn(1, 2, 8, 7), (3, 2), (2, 2), (1, 1), dilation=(2, 2), ceil_mode=True)
maxpool("maxpool_negative_border", -uniform(1, 2, 1, 1, 4, 4), (3, 3), (1, 1), (1, 1))
# Exact ties: small integers, so most windows hold their maximum more than once; the gradient goes to the first.
maxpool("maxpool_ties", f32(torch.randint(0, 3, (2, 2, 6, 6)).double()), (3, 3), (1, 1), (1, 1), second_order=False)
maxpool("maxpool_ties_stride2_ceil", f32(torch.randint(0, 2, (1, 2, 5, 5)).double()), (2, 2), (2, 2), ceil_mode=True,
        second_order=False)

# NaN wins a window, and (PyTorch's CPU kernel, val > max || isnan(val)) the window's last NaN takes the gradient.
maxpool("maxpool_nan", f32(torch.tensor([[[[1.0, nan, 2.0, 0.0], [nan, 3.0, 0.0, 5.0], [0.0, 1.0, 2.0, 3.0]]]])), (2, 2), (1, 1),
        second_order=False)

avgpool("avgpool_k3_s2_p1_incl", randn(2, 2, 7, 6), (3, 3), (2, 2), (1, 1))
avgpool("avgpool_k3_s2_p1_excl", randn(2, 2, 7, 6), (3, 3), (2, 2), (1, 1), count_include_pad=False)
avgpool("avgpool_ceil_incl", randn(1, 2, 6, 7), (3, 3), (2, 2), (1, 1), ceil_mode=True)
avgpool("avgpool_ceil_excl", randn(1, 2, 6, 7), (3, 3), (2, 2), (1, 1), ceil_mode=True, count_include_pad=False)
avgpool("avgpool_ceil_no_padding", randn(1, 2, 6, 5), (3, 2), (2, 2), ceil_mode=True)
avgpool("avgpool_ceil_last_window_in_padding", randn(1, 1, 5, 5), (2, 2), (2, 2), (1, 1), ceil_mode=True)
avgpool("avgpool_per_axis_ceil_excl", randn(2, 2, 5, 6), (2, 3), (1, 2), (1, 1), ceil_mode=True, count_include_pad=False)
avgpool("avgpool_per_axis_incl", randn(1, 3, 5, 7), (3, 2), (2, 1), (1, 1))

# --- batch norm ---------------------------------------------------------------------------------------------------


def batchnorm(name, x, training, momentum=0.1, eps=1e-5, affine=True):
    c = x.shape[1]
    inputs = {"x": x, "running_mean": randn(c, scale=0.5), "running_var": uniform(0.5, 2.0, c)}
    if affine:
        inputs["weight"] = randn(c)
        inputs["bias"] = randn(c)
    opts = {"training": training, "momentum": momentum, "eps": eps}
    saved = {}

    def fn(x, running_mean, running_var, weight=None, bias=None):
        rm, rv = running_mean.clone(), running_var.clone()
        saved["running_mean"], saved["running_var"] = rm, rv
        return F.batch_norm(x, rm, rv, weight, bias, training, momentum, eps)

    names = ["x", "weight", "bias"] if affine else ["x"]
    add(name, "batch_norm", opts, fn, inputs, names, extra=lambda args: dict(saved))


batchnorm("batchnorm_train_4d", randn(4, 3, 2, 2, scale=2.0) + 1.0, True)
batchnorm("batchnorm_train_2d_momentum", randn(5, 3), True, momentum=0.3, eps=1e-3)
batchnorm("batchnorm_train_no_affine", randn(3, 2, 3, 1), True, affine=False)
batchnorm("batchnorm_train_batch1", randn(1, 2, 3, 3), True, momentum=0.5)
batchnorm("batchnorm_eval", randn(3, 2, 2, 3), False)

# --- losses -------------------------------------------------------------------------------------------------------


def bce(name, p, t, weight=None, reduction="none", second_order=True):
    inputs = {"p": p, "t": t}
    if weight is not None:
        inputs["weight"] = weight
    add(name, "binary_cross_entropy", {"reduction": reduction},
        lambda p, t, weight=None: F.binary_cross_entropy(p, t, weight, reduction=reduction), inputs, ["p"], second_order)


def bce_logits(name, x, t, weight=None, reduction="none"):
    inputs = {"x": x, "t": t}
    if weight is not None:
        inputs["weight"] = weight
    add(name, "binary_cross_entropy_with_logits", {"reduction": reduction},
        lambda x, t, weight=None: F.binary_cross_entropy_with_logits(x, t, weight, reduction=reduction), inputs, ["x"])


bce("bce_interior", uniform(0.05, 0.95, 3, 4), f32(torch.tensor([[0, 1, 0.5, 0.25]] * 3)))
bce("bce_exact_0_and_1", f32(torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.3, 1e-30])),
    f32(torch.tensor([0.0, 1.0, 1.0, 0.0, 0.5, 0.25, 1.0, 1.0])), second_order=False)
bce("bce_weight_mean", uniform(0.02, 0.98, 2, 3), f32(torch.tensor([[1.0, 0.0, 0.7], [0.0, 1.0, 0.2]])),
    weight=f32(torch.tensor([0.5, 2.0, 1.5])), reduction="mean")
bce("bce_tiny_p_clamped_log", f32(torch.tensor([1e-45, 1e-40, 1e-44, 3e-44])), f32(torch.tensor([1.0, 1.0, 1.0, 0.0])),
    second_order=False)
bce_logits("bce_logits_wide", f32(torch.tensor([[-30.0, -5.0, -0.5, 0.0], [0.5, 5.0, 30.0, 90.0], [-90.0, 1.0, -1.0, 2.0]])),
           f32(torch.tensor([[0.0, 1.0, 0.3, 1.0], [1.0, 0.0, 1.0, 0.0], [1.0, 0.5, 0.0, 1.0]])))
bce_logits("bce_logits_weight_mean", randn(3, 4, scale=3.0), uniform(0, 1, 3, 4), weight=uniform(0.5, 2, 4), reduction="mean")

# --- element-wise and reductions ----------------------------------------------------------------------------------

add("softplus_far", "softplus", {}, lambda x: F.softplus(x),
    {"x": f32(torch.tensor([-90.0, -40.0, -20.0, -1.0, 0.0, 1.0, 19.5, 20.5, 30.0]))}, ["x"])
add("mean_empty_1d", "mean", {}, lambda x: x.mean(), {"x": torch.zeros(0)}, ["x"], second_order=False)
add("mean_empty_2d", "mean", {}, lambda x: x.mean(), {"x": torch.zeros(2, 0)}, ["x"], second_order=False)
add("relu_nan_zero", "relu", {}, torch.relu, {"x": torch.tensor([-1.0, 0.0, -0.0, nan, 2.0])}, ["x"], False,
    v=torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
add("leaky_relu_nan_zero", "leaky_relu", {"negative_slope": 0.2}, lambda x: F.leaky_relu(x, 0.2),
    {"x": torch.tensor([-1.0, 0.0, -0.0, nan, 2.0])}, ["x"], False, v=torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
add("abs_nan_zero", "abs", {}, torch.abs, {"x": torch.tensor([-2.0, 0.0, -0.0, nan, 3.0])}, ["x"], False,
    v=torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
add("clamp_bounds_nan", "clamp", {"min": -1.0, "max": 1.0}, lambda x: torch.clamp(x, -1.0, 1.0),
    {"x": torch.tensor([-2.0, -1.0, 0.5, 1.0, 2.0, nan])}, ["x"], False, v=torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
mm_a = torch.tensor([1.0, 2.0, nan, 3.0, nan, -1.0])
mm_b = torch.tensor([1.0, 1.0, 0.0, nan, nan, 4.0])
mm_v = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
add("maximum_ties_nan", "maximum", {}, lambda a, b: torch.maximum(a, b), {"a": mm_a, "b": mm_b}, ["a", "b"], False, v=mm_v)
add("minimum_ties_nan", "minimum", {}, lambda a, b: torch.minimum(a, b), {"a": mm_a, "b": mm_b}, ["a", "b"], False, v=mm_v)
am_x = torch.tensor([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [1.0, nan, 5.0, nan], [-1.0, -4.0, nan, -2.0]])
add("amax_dim1_ties_nan", "amax", {"dim": 1}, lambda x: torch.amax(x, 1), {"x": am_x}, ["x"], False,
    v=torch.tensor([1.0, 2.0, 3.0, 4.0]))
add("amax_dim1_ties", "amax", {"dim": 1}, lambda x: torch.amax(x, 1), {"x": am_x[:2].clone()}, ["x"], False,
    v=torch.tensor([1.0, 2.0]))
add("amin_dim0_ties", "amin", {"dim": 0}, lambda x: torch.amin(x, 0),
    {"x": torch.tensor([[1.0, -3.0, 2.0], [1.0, -3.0, 0.0], [1.0, 5.0, -1.0]])}, ["x"], False, v=torch.tensor([1.0, 2.0, 3.0]))
add("max_all_ties", "max_all", {}, lambda x: torch.max(x), {"x": torch.tensor([[1.0, 4.0, 2.0], [4.0, 0.0, 4.0]])}, ["x"],
    False, v=torch.tensor(2.0))
add("max_all_nan", "max_all", {}, lambda x: torch.max(x), {"x": torch.tensor([[1.0, nan, 2.0], [4.0, nan, 4.0]])}, ["x"],
    False, v=torch.tensor(2.0))

# --- optimizers ---------------------------------------------------------------------------------------------------

OPT_PARAMS = [randn(5), randn(2, 3)]
# Shrinking gradients, so that v falls and AMSGrad's running maximum matters.
OPT_GRADS = [[randn(*p.shape, scale=s) for p in OPT_PARAMS] for s in (2.0, 1.0, 0.5, 0.3, 0.1)]


def optimizer(name, kind, options):
    ps = [p.clone().requires_grad_(True) for p in OPT_PARAMS]
    torch_cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop}[kind]
    opt = torch_cls(ps, **options)
    trajectory = []
    for grads in OPT_GRADS:
        for p, g in zip(ps, grads):
            p.grad = g.clone()
        opt.step()
        trajectory.append([enc(p) for p in ps])
    CASES.append({"name": name, "op": "optim_" + kind, "options": options, "params": [enc(p) for p in OPT_PARAMS],
                  "step_grads": [[enc(g) for g in grads] for grads in OPT_GRADS], "trajectory": trajectory})


optimizer("sgd_plain_weight_decay", "sgd", {"lr": 0.1, "weight_decay": 0.1})
optimizer("sgd_momentum_dampening", "sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5})
optimizer("sgd_momentum_dampening_wd", "sgd", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.05})
optimizer("sgd_nesterov_wd", "sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01})
optimizer("sgd_momentum", "sgd", {"lr": 0.1, "momentum": 0.9})
optimizer("adam_default", "adam", {"lr": 0.01})
optimizer("adam_l2_betas", "adam", {"lr": 0.01, "betas": [0.8, 0.9], "weight_decay": 0.1})
optimizer("adam_amsgrad", "adam", {"lr": 0.01, "betas": [0.8, 0.9], "amsgrad": True})
optimizer("adam_amsgrad_l2", "adam", {"lr": 0.02, "betas": [0.9, 0.95], "amsgrad": True, "weight_decay": 0.05, "eps": 1e-6})
optimizer("adamw_default", "adamw", {"lr": 0.01})
optimizer("adamw_amsgrad_wd", "adamw", {"lr": 0.01, "betas": [0.8, 0.9], "weight_decay": 0.05, "amsgrad": True})
optimizer("rmsprop_default", "rmsprop", {"lr": 0.01})
optimizer("rmsprop_alpha_momentum", "rmsprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5})
optimizer("rmsprop_wd", "rmsprop", {"lr": 0.01, "alpha": 0.95, "weight_decay": 0.1})
optimizer("rmsprop_centered", "rmsprop", {"lr": 0.01, "alpha": 0.9, "centered": True})
optimizer("rmsprop_centered_momentum_wd", "rmsprop", {"lr": 0.01, "alpha": 0.9, "centered": True, "momentum": 0.9,
                                                      "weight_decay": 0.01, "eps": 1e-6})

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump({"generator": "bench/pytorch/make_fixtures.py", "torch": torch.__version__, "cases": CASES}, f,
              separators=(",", ":"), allow_nan=False)
    f.write("\n")
print(f"{len(CASES)} cases, {os.path.getsize(OUT) / 1e6:.2f} MB -> {os.path.normpath(OUT)}", file=sys.stderr)
