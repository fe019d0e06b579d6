"""The masked network of DSA: the model's own layers with a gate after the BN of every grouped conv.

The mask multiplies the BN output (official MaskedConvBNReLU: conv -> BN -> x m -> ReLU); all members of a
group share one gate instance (one mask). The graph is replayed from official/training/dsa/graph.py with
the original layer objects, so the masked model's weights ARE the original model's (training one trains
the other). A member of an option-A tied group covers the slots [offset, offset + width) of the
group's C_g slots: its BN output is zero-padded to C_g channels, gated, and sliced back.
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from official.core.base_model import ZooLayer
from official.training.dsa.graph import ChannelGroup, Op, analyse, run_ops
from official.training.dsa.prune import ChannelPad


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ChannelSlice(ZooLayer):
    """x[..., start:stop]: a member's own channels out of its group's slot space."""

    def __init__(self, start: int, stop: int, **kwargs):
        super().__init__(**kwargs)
        self.start, self.stop = int(start), int(stop)

    def call(self, x):
        return x[..., self.start : self.stop]

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.stop - self.start)


class _Renamed(keras.layers.Layer):
    """Calls a block's inner layer under a unique name (a functional model needs unique names; MobileNeXt's
    blocks all have a "dw1"). The inner layer and its weights are the model's own."""

    def __init__(self, inner: keras.layers.Layer, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def call(self, x, training=None):
        return self.inner(x, training=training)

    def compute_output_shape(self, input_shape):
        return self.inner.compute_output_shape(input_shape)


def masked_model(
    model: keras.Model,
    groups: list[ChannelGroup],
    make_gate: Callable[[ChannelGroup, keras.layers.Layer], keras.layers.Layer],
) -> keras.Model:
    """`model` rebuilt from its own layers with `make_gate(group, primal_layer)` called once per group and
    its gate applied after every BN in group.norms."""
    info = analyse(model)
    if [g.members for g in info.groups] != [g.members for g in groups]:
        raise ValueError(f"{model.name}: the groups do not belong to this model")
    gates = {g.index: make_gate(g, info.op(g.primal).layer) for g in groups}
    after_norm = {
        norm: (g, offset, width)
        for g in groups
        for norm, offset, width in zip(g.norms, g.offsets, g.widths, strict=True)
    }

    def call(o: Op, args):
        tag = o.name.replace("/", "_")
        if o.layer is None:
            layer = o.make(tag)
        elif "/" in o.name:  # an inner layer of a composite block
            layer = _Renamed(o.layer, name=tag)
        else:
            layer = o.layer
        y = layer(args if o.kind == "add" else args[0])
        if o.name in after_norm:
            g, offset, width = after_norm[o.name]
            gate = gates[g.index]
            if width == g.channels:
                return gate(y)
            y = ChannelPad(offset, g.channels - offset - width, name=f"{tag}_to_slots")(y)
            return ChannelSlice(offset, offset + width, name=f"{tag}_from_slots")(gate(y))
        return y

    source = model.inputs[0]
    inputs = keras.Input(shape=tuple(source.shape[1:]), name=source.name)
    return keras.Model(inputs, run_ops(info, inputs, call), name=f"{model.name}_masked")
