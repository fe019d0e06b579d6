"""Topological channel grouping of a Keras functional model (DSA, Sec. 3.1; spec card Method 1).

Convolutions whose output channels meet in one tensor (residual additions), or that tie their input and
output channels (depthwise convs), must keep the same channels: they form one group with one keep ratio.
The official code (graph_utils.parse_model_components) finds the groups as connected components of the
autograd graph after cutting the edges into ordinary convs; here the same walk runs over the Keras graph
with a union-find over tensors' channel spaces. Two facts carry over from the official repo:

- the primal layer, whose filters' L1 norms rank the group's channels, is the group's first conv in
  topological order (PrimalComponents' default strategy "first");
- an option-A shortcut (DownsampleA: subsample, then zero channels) is an edge of the graph, so the
  residual streams of all stages fall into ONE component. Its streams have different widths, so a
  group here is a space of `channels` slots and each member covers the slots
  [offset, offset + width): ResNet-20's stream group has 64 slots, stage 1 (16 channels) covers
  [24, 40) and stage 2 (32 channels) [16, 48) (the zoo's ZeroPadShortcut pads C/2 on both sides). The
  primal is then the first member that covers every slot (stage 3's first conv).

Composite layers whose `call` holds convs (MobileNeXt's SandglassBlock) are expanded into their inner
layers, so the graph (`Op` list) is flat: every op is a stock Keras layer or a zero-preserving
channel-wise op. The image input and the model outputs (logits) are never pruned.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import keras
from keras import layers

from official.vision.backbones.resnet import ZeroPadShortcut
from official.vision.mobilenext.model import SandglassBlock

# Channel-wise layers that map a zero channel to zero (a masked channel stays masked through them).
_ZERO_PRESERVING = (
    layers.ReLU, layers.Dropout, layers.ZeroPadding2D, layers.MaxPooling2D, layers.AveragePooling2D,
    layers.GlobalAveragePooling2D, layers.GlobalMaxPooling2D, layers.Identity,
)
_ZERO_ACTIVATIONS = ("relu", "relu6", "linear")


@dataclasses.dataclass
class Op:
    """One node of the flat graph; its single output tensor is named like the op.

    kind: input | conv | depthwise | bn | dense | add | chanpad | same (zero-preserving channel-wise).
    layer: the model's own layer object (None for ops written inline in a block's call).
    make(name=None): a fresh stock layer of the same function (weightless ops: ReLU, padding, pooling, ...).
    pad: (before, after) zero channels of a chanpad (option A shortcut, which also subsamples by 2).
    """

    name: str
    kind: str
    inputs: tuple[str, ...]
    layer: Any = None
    make: Callable[..., keras.layers.Layer] | None = None
    pad: tuple[int, int] = (0, 0)
    channels: int = 0


@dataclasses.dataclass(frozen=True)
class ChannelGroup:
    """A set of convs sharing one channel mask.

    members: conv/depthwise op names whose output channels are this group (topological order).
    primal: the member whose filters' L1 norms give channel importance (covers every slot).
    norms: the BatchNormalization right after each member (aligned with members): the mask multiplies there.
    offsets, widths: member i's channels are the group's slots [offsets[i], offsets[i] + widths[i]).
    """

    index: int
    channels: int
    members: tuple[str, ...]
    primal: str
    norms: tuple[str, ...]
    offsets: tuple[int, ...] = ()
    widths: tuple[int, ...] = ()

    def ranges(self) -> list[tuple[int, int]]:
        """The distinct member slot ranges, narrowest first (nested for option-A ties)."""
        spans = sorted(set(zip(self.offsets, self.widths, strict=True)), key=lambda s: s[1])
        return [(o, o + w) for o, w in spans]


@dataclasses.dataclass
class GraphInfo:
    """The flat graph, its groups and, per tensor, (group index or None, slot offset)."""

    ops: list[Op]
    groups: list[ChannelGroup]
    space: dict[str, tuple[int | None, int]]
    output: str

    def op(self, name: str) -> Op:
        return self._by_name[name]

    def __post_init__(self):
        self._by_name = {o.name: o for o in self.ops}


def _fresh(layer: keras.layers.Layer) -> Callable[..., keras.layers.Layer]:
    return lambda name=None: type(layer).from_config(dict(layer.get_config(), name=name or layer.name))


def _expand_sandglass(block: SandglassBlock, x: str, add: Callable[..., str]) -> str:
    """The ops of SandglassBlock.call, one per inner layer or inline op."""
    if block.identity_divisor != 1 or block.reduce_bn is None:
        raise ValueError(f"{block.name}: DSA handles sandglass blocks with identity_divisor=1 and BatchNorm only")
    p = block.name
    y = x
    if block.dw1 is not None:
        y = add(f"{p}/dw1", "depthwise", (y,), block.dw1)
        y = add(f"{p}/dw1_bn", "bn", (y,), block.dw1_bn)
        y = add(f"{p}/dw1_relu", "same", (y,), make=lambda name=None: layers.ReLU(6.0, name=name))
    y = add(f"{p}/reduce", "conv", (y,), block.reduce)
    y = add(f"{p}/reduce_bn", "bn", (y,), block.reduce_bn)
    y = add(f"{p}/expand", "conv", (y,), block.expand)
    y = add(f"{p}/expand_bn", "bn", (y,), block.expand_bn)
    y = add(f"{p}/expand_relu", "same", (y,), make=lambda name=None: layers.ReLU(6.0, name=name))
    if block.dw2 is not None:
        if block.strides == 2:  # the block's symmetric ops.pad before the valid stride-2 depthwise
            y = add(f"{p}/dw2_pad", "same", (y,), make=lambda name=None: layers.ZeroPadding2D(1, name=name))
        y = add(f"{p}/dw2", "depthwise", (y,), block.dw2)
        y = add(f"{p}/dw2_bn", "bn", (y,), block.dw2_bn)
    if block.residual:
        y = add(f"{p}/add", "add", (y, x), make=lambda name=None: layers.Add(name=name))
    return y


def _kind(layer: keras.layers.Layer) -> str:
    if isinstance(layer, layers.InputLayer):
        return "input"
    if isinstance(layer, layers.DepthwiseConv2D):
        if layer.depth_multiplier != 1:
            raise ValueError(f"{layer.name}: DSA handles depthwise convs with depth_multiplier 1")
        return "depthwise"
    if isinstance(layer, layers.Conv2D) and not isinstance(layer, layers.Conv2DTranspose):
        if layer.groups != 1:
            raise ValueError(f"{layer.name}: DSA handles grouped convs only when depthwise")
        return "conv"
    if isinstance(layer, layers.BatchNormalization):
        return "bn"
    if isinstance(layer, layers.Dense):
        return "dense"
    if isinstance(layer, layers.Add):
        return "add"
    if isinstance(layer, _ZERO_PRESERVING) or (
        isinstance(layer, layers.Activation) and getattr(layer.activation, "__name__", "") in _ZERO_ACTIVATIONS
    ):
        return "same"
    raise ValueError(f"{layer.name}: {type(layer).__name__} is not supported by the DSA channel grouping")


def trace(model: keras.Model) -> tuple[list[Op], str]:
    """The model as a flat list of ops in topological order, and the name of its output op."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(f"{model.name}: DSA handles single-input, single-output models")
    ops: list[Op] = []
    names: set[str] = set()

    def add(name, kind, inputs, layer=None, make=None, pad=(0, 0)):
        if name in names:
            raise ValueError(f"{model.name}: layer {name} is called twice; DSA needs each layer called once")
        names.add(name)
        ops.append(Op(name, kind, tuple(inputs), layer, make, pad))
        return name

    tensor_name: dict[int, str] = {}
    for depth in sorted(model._nodes_by_depth, reverse=True):
        for node in model._nodes_by_depth[depth]:
            layer = node.operation
            inputs = [tensor_name[id(t)] for t in node.arguments.keras_tensors]
            if isinstance(layer, SandglassBlock):
                out = _expand_sandglass(layer, inputs[0], add)
            elif isinstance(layer, ZeroPadShortcut):
                out = add(layer.name, "chanpad", inputs, layer, pad=(layer.pad, layer.pad))
            else:
                kind = _kind(layer)
                out = add(layer.name, kind, inputs, layer, _fresh(layer) if kind in ("same", "add") else None)
            for t in node.outputs:
                tensor_name[id(t)] = out
    output = tensor_name[id(model.outputs[0])]
    _set_channels(ops, tuple(model.inputs[0].shape[1:]))
    return ops, output


def _set_channels(ops: list[Op], input_shape: tuple[int, ...]) -> None:
    for o, shape in output_shapes(ops, input_shape).items():
        next(p for p in ops if p.name == o).channels = int(shape[-1])


def output_shapes(ops: list[Op], input_shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """Every op's output shape (without batch) for one input size, from the layers' output specs."""
    specs: dict[str, Any] = {}
    for o in ops:
        if o.kind == "input":
            specs[o.name] = keras.KerasTensor((1, *input_shape))
            continue
        args = [specs[i] for i in o.inputs]
        if o.kind == "chanpad":
            b, h, w, c = args[0].shape
            specs[o.name] = keras.KerasTensor((b, (h + 1) // 2, (w + 1) // 2, c + sum(o.pad)))
            continue
        layer = o.layer if o.layer is not None else o.make()
        spec = layer.compute_output_spec(args if o.kind == "add" else args[0])
        specs[o.name] = keras.KerasTensor(tuple(spec.shape))
    return {k: tuple(int(d) for d in v.shape[1:]) for k, v in specs.items()}


class _Spaces:
    """Union-find over tensors with channel offsets: channel c of a tensor is slot c + offset of its root."""

    def __init__(self):
        self.parent: dict[str, str] = {}
        self.offset: dict[str, int] = {}

    def add(self, name: str) -> None:
        self.parent[name], self.offset[name] = name, 0

    def find(self, name: str) -> tuple[str, int]:
        total, node = 0, name
        while self.parent[node] != node:
            total += self.offset[node]
            node = self.parent[node]
        self.parent[name], self.offset[name] = node, total  # path compression
        return node, total

    def tie(self, a: str, b: str, shift: int) -> None:
        """Channel c of a is channel c + shift of b."""
        ra, oa = self.find(a)
        rb, ob = self.find(b)
        if ra == rb:
            if oa != shift + ob:
                raise ValueError(f"{a} and {b}: inconsistent channel ties (offsets {oa} vs {shift + ob})")
            return
        self.parent[ra], self.offset[ra] = rb, shift + ob - oa


def analyse(model: keras.Model) -> GraphInfo:
    """Traces the model and forms its prunable channel groups."""
    ops, output = trace(model)
    spaces = _Spaces()
    fixed: set[str] = {output}
    for o in ops:
        spaces.add(o.name)
        if o.kind == "input":
            fixed.add(o.name)
        elif o.kind in ("bn", "same", "depthwise"):  # depthwise: output channel c is input channel c
            spaces.tie(o.name, o.inputs[0], 0)
        elif o.kind == "add":
            for i in o.inputs:
                spaces.tie(i, o.name, 0)
        elif o.kind == "chanpad":
            spaces.tie(o.inputs[0], o.name, o.pad[0])
        elif o.kind == "dense":
            fixed.add(o.name)
    by_root: dict[str, list[str]] = {}
    for o in ops:
        by_root.setdefault(spaces.find(o.name)[0], []).append(o.name)
    by_name = {o.name: o for o in ops}
    consumers: dict[str, list[str]] = {o.name: [] for o in ops}
    for o in ops:
        for i in o.inputs:
            consumers[i].append(o.name)

    groups: list[ChannelGroup] = []
    space: dict[str, tuple[int | None, int]] = {}
    for tensors in by_root.values():
        low = min(spaces.find(t)[1] for t in tensors)
        high = max(spaces.find(t)[1] + by_name[t].channels for t in tensors)
        members = [t for t in tensors if by_name[t].kind in ("conv", "depthwise")]
        norms = [_norm_after(m, consumers, by_name) for m in members]
        bns = {t for t in tensors if by_name[t].kind == "bn"}
        prunable = (
            not fixed.intersection(tensors)
            and any(by_name[m].kind == "conv" for m in members)
            and all(n is not None for n in norms)
            and bns == set(norms)  # a BN outside the members would turn masked zeros into its shift
        )
        if not prunable:
            for t in tensors:
                space[t] = (None, 0)
            continue
        offsets = tuple(spaces.find(m)[1] - low for m in members)
        widths = tuple(by_name[m].channels for m in members)
        primal = next(m for m, w in zip(members, widths, strict=True) if w == high - low)
        groups.append(ChannelGroup(-1, high - low, tuple(members), primal, tuple(norms), offsets, widths))
        for t in tensors:
            space[t] = (len(groups) - 1, spaces.find(t)[1] - low)
    position = {o.name: i for i, o in enumerate(ops)}
    order = sorted(range(len(groups)), key=lambda g: position[groups[g].members[0]])
    renumber = {old: new for new, old in enumerate(order)}
    groups = [dataclasses.replace(groups[old], index=new) for new, old in enumerate(order)]
    space = {t: (None if g is None else renumber[g], off) for t, (g, off) in space.items()}
    for g in groups:
        _check_nested(g)
    return GraphInfo(ops, groups, space, output)


def _norm_after(member: str, consumers: dict[str, list[str]], by_name: dict[str, Op]) -> str | None:
    """The BatchNormalization that is the member's only consumer (where the mask multiplies), or None."""
    after = consumers[member]
    if len(after) == 1 and by_name[after[0]].kind == "bn":
        return after[0]
    return None


def _check_nested(group: ChannelGroup) -> None:
    ranges = group.ranges()
    for (a0, a1), (b0, b1) in zip(ranges, ranges[1:], strict=False):
        if not (b0 <= a0 and a1 <= b1) or (b1 - b0) % (a1 - a0):
            raise ValueError(
                f"group of {group.primal}: member channel ranges {ranges} are not nested multiples "
                "(only option-A style ties are supported)"
            )


def channel_groups(model: keras.Model) -> list[ChannelGroup]:
    """The prunable channel groups of `model` in topological order (of their first member)."""
    return analyse(model).groups


def run_ops(info: GraphInfo, inputs, call: Callable[[Op, list], Any]) -> Any:
    """Replays the flat graph on `inputs` (the image tensor), `call(op, args)` giving each op's output;
    returns the output op's tensor."""
    values: dict[str, Any] = {}
    for o in info.ops:
        values[o.name] = inputs if o.kind == "input" else call(o, [values[i] for i in o.inputs])
    return values[info.output]
