"""The part-aware cell: 2 input nodes, 3 intermediate nodes, output = channel concat (spec card "Method").

One class for both phases. `genotype=None` is the search cell: every intermediate node sums a `MixedOp`
over all its predecessors (9 edges, weighted by the caller's softmaxed alphas, one row per edge in
`genotypes.edge_sources()` order). With a genotype it is the derived cell: each intermediate node sums
the two chosen ops of its two chosen predecessors; nothing of the search (no MixedOp, no alpha) is in it,
so exporting a derived network exports only these discrete ops.

Inputs are preprocessed as in DARTS: ReLU-conv1x1-BN to `channels` (a factorized reduce for s0 when the
previous cell halved the resolution). In a reduction cell the edges leaving the input nodes have stride 2.
"""

from __future__ import annotations

import keras
from keras import ops

from official.core.base_model import BuiltByFirstCall, ZooLayer
from research.three_d.partaware_pose import genotypes as gt
from research.three_d.partaware_pose.ops import FactorizedReduce, MixedOp, ReLUConvBN, candidate_op


@keras.saving.register_keras_serializable(package="eccv20zoo")
class Cell(BuiltByFirstCall, ZooLayer):
    """(s0, s1) -> concat of the 3 intermediate nodes, (batch, H', W', 3 * channels).

    Args:
        channels: width of every node.
        reduction: halve the resolution (stride-2 edges from the input nodes).
        reduction_prev: s0 has twice the resolution of s1 (the previous cell reduced).
        genotype: 6 (op, from_node) edges (derived cell) or None (search cell of MixedOps).
        affine: BatchNorm scale/offset (False while searching, as DARTS).
        primitives: the search cell's candidate ops (alpha columns), `zero` first.
    """

    def __init__(self, channels: int, reduction: bool = False, reduction_prev: bool = False,
                 genotype: tuple | None = None, affine: bool = True, primitives: tuple = gt.PRIMITIVES, **kwargs):
        super().__init__(**kwargs)
        self.reduction = reduction
        self.genotype = None if genotype is None else gt.check_cell(genotype, f"{self.name}.genotype")
        self.pre0 = (FactorizedReduce(channels, affine, name="pre0") if reduction_prev
                     else ReLUConvBN(channels, 1, 1, affine, name="pre0"))
        self.pre1 = ReLUConvBN(channels, 1, 1, affine, name="pre1")
        if self.genotype is None:
            self.edges = [MixedOp(channels, self._stride(src), affine, primitives, name=f"edge{to}_{src}")
                          for to, src in gt.edge_sources()]
        else:
            self.edges = [candidate_op(op, channels, self._stride(src), affine, name=f"edge{i}_{op}")
                          for i, (op, src) in enumerate(self.genotype)]

    def _stride(self, src: int) -> int:
        return 2 if self.reduction and src < gt.INPUT_NODES else 1

    def call(self, s0, s1, weights=None, training=None):
        states = [self.pre0(s0, training=training), self.pre1(s1, training=training)]
        if self.genotype is None:
            if weights is None:
                raise ValueError(f"{self.name}: a search cell needs its op weights (NUM_EDGES, ops)")
            offset = 0
            for _ in range(gt.INTERMEDIATE_NODES):
                node = None
                for j, h in enumerate(states):
                    term = self.edges[offset + j](h, weights[offset + j], training=training)
                    node = term if node is None else node + term
                offset += len(states)
                states.append(node)
        else:
            for k in range(gt.INTERMEDIATE_NODES):
                pair = [(self.edges[i], self.genotype[i][1]) for i in (2 * k, 2 * k + 1)]
                states.append(pair[0][0](states[pair[0][1]], training=training)
                              + pair[1][0](states[pair[1][1]], training=training))
        return ops.concatenate(states[gt.INPUT_NODES:], axis=-1)
