"""Genotypes: the discrete cells of the part-aware search space, stored as config data.

A cell (spec card "Method", from the IJCV figure caption) has 2 input nodes (0, 1), 3 intermediate
nodes (2, 3, 4) and an output node that concatenates the intermediate ones. A genotype of a cell is a
tuple of 6 edges `(op_name, from_node)`, two per intermediate node in node order: edges 2k and 2k+1
feed node k + 2. A `NetworkGenotype` is a dict with the backbone's "normal" and "reduce" cells and one
head cell per part group ("parts": a tuple of K cells), so a derived network is rebuilt from its config
alone, without the search.

`derive_cell` is DARTS' discretisation (quark0/darts `model_search.py` `genotype()`): per intermediate
node keep the 2 incoming edges whose strongest non-`zero` op weight is largest, and on each edge the
argmax op over the non-`zero` candidates; `zero` is never selected.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Candidate operations (spec card "Search space"; the list is unverified). Index order = alpha columns.
PRIMITIVES: tuple[str, ...] = (
    "zero",
    "skip_connect",
    "max_pool_3x3",
    "avg_pool_3x3",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
INPUT_NODES = 2
INTERMEDIATE_NODES = 3  # x3, x4, x5 of the IJCV figure (DARTS uses 4)
EDGES_PER_NODE = 2  # edges kept per intermediate node after discretisation


def edge_sources() -> list[tuple[int, int]]:
    """The search cell's edges as (to_node, from_node), in alpha-row order: node 2 <- 0, 1; node 3 <- 0..2; ..."""
    return [(INPUT_NODES + k, j) for k in range(INTERMEDIATE_NODES) for j in range(INPUT_NODES + k)]


NUM_EDGES = len(edge_sources())  # 2 + 3 + 4 = 9

# Hand-specified default genotype (no searched genotype was published): DARTS-V2-like cells cut to 3
# intermediate nodes, the reduction cell with pooling and skip paths; the five part cells differ so that
# each part's head is its own architecture (arms and legs wider receptive fields: dilated / 5x5 convs).
# Every entry is a guess (README "Known differences").
DEFAULT_GENOTYPE: dict[str, Any] = {
    "normal": (("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 1), ("skip_connect", 0),
               ("sep_conv_3x3", 2), ("dil_conv_3x3", 1)),
    "reduce": (("max_pool_3x3", 0), ("sep_conv_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
               ("sep_conv_5x5", 0), ("skip_connect", 2)),
    "parts": (
        (("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("skip_connect", 0), ("sep_conv_3x3", 2),
         ("dil_conv_3x3", 1), ("sep_conv_3x3", 3)),  # torso + head
        (("sep_conv_5x5", 0), ("dil_conv_3x3", 1), ("sep_conv_3x3", 2), ("skip_connect", 1),
         ("dil_conv_5x5", 3), ("sep_conv_3x3", 0)),  # right leg
        (("sep_conv_5x5", 0), ("dil_conv_3x3", 1), ("sep_conv_3x3", 2), ("skip_connect", 1),
         ("dil_conv_5x5", 3), ("sep_conv_3x3", 0)),  # left leg
        (("dil_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_5x5", 2), ("skip_connect", 0),
         ("sep_conv_3x3", 3), ("dil_conv_5x5", 1)),  # left arm
        (("dil_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_5x5", 2), ("skip_connect", 0),
         ("sep_conv_3x3", 3), ("dil_conv_5x5", 1)),  # right arm
    ),
}


def check_cell(cell: Any, where: str = "genotype") -> tuple[tuple[str, int], ...]:
    """A cell genotype as a tuple of (op, from_node) pairs, or ValueError naming the bad entry."""
    cell = tuple((str(op), int(src)) for op, src in cell)
    if len(cell) != EDGES_PER_NODE * INTERMEDIATE_NODES:
        raise ValueError(f"{where}: {len(cell)} edges, expected {EDGES_PER_NODE * INTERMEDIATE_NODES}")
    for i, (op, src) in enumerate(cell):
        node = INPUT_NODES + i // EDGES_PER_NODE
        if op not in PRIMITIVES or op == "zero":
            raise ValueError(f"{where}[{i}]: op {op!r} is not a candidate (zero cannot be derived)")
        if not 0 <= src < node:
            raise ValueError(f"{where}[{i}]: node {node} cannot read node {src}")
    return cell


def check_genotype(genotype: Any, num_parts: int) -> dict[str, Any]:
    """The normalised network genotype; ValueError naming the key when it does not fit `num_parts` heads."""
    for key in ("normal", "reduce", "parts"):
        if key not in genotype:
            raise ValueError(f"genotype: missing key {key!r}")
    parts = tuple(check_cell(c, f"genotype.parts[{i}]") for i, c in enumerate(genotype["parts"]))
    if len(parts) != num_parts:
        raise ValueError(f"genotype.parts: {len(parts)} part cells, expected {num_parts}")
    return {"normal": check_cell(genotype["normal"], "genotype.normal"),
            "reduce": check_cell(genotype["reduce"], "genotype.reduce"), "parts": parts}


def check_primitives(primitives: Any) -> tuple[str, ...]:
    """A search space's candidate list: a subset of PRIMITIVES starting with `zero` (alpha column 0)."""
    primitives = tuple(str(p) for p in primitives)
    if not primitives or primitives[0] != "zero" or any(p not in PRIMITIVES for p in primitives):
        raise ValueError(f"primitives: {primitives} must start with 'zero' and be drawn from {PRIMITIVES}")
    return primitives


def derive_cell(weights: Any, primitives: Any = PRIMITIVES) -> tuple[tuple[str, int], ...]:
    """The discrete cell of one (NUM_EDGES, len(primitives)) matrix of op weights (softmaxed alphas).

    Per intermediate node: rank its incoming edges by their best non-`zero` weight, keep the top 2
    (ties: the lower source node), and put the argmax non-`zero` op on each, as DARTS does.
    """
    weights = np.asarray(weights, dtype=np.float64)
    primitives = check_primitives(primitives)
    if weights.shape != (NUM_EDGES, len(primitives)):
        raise ValueError(f"derive_cell: weights of shape {weights.shape}, expected {(NUM_EDGES, len(primitives))}")
    zero = primitives.index("zero")
    candidates = np.delete(np.arange(len(primitives)), zero)
    cell, start = [], 0
    for k in range(INTERMEDIATE_NODES):
        n_in = INPUT_NODES + k
        rows = weights[start:start + n_in][:, candidates]
        strength = rows.max(axis=1)
        keep = sorted(np.argsort(-strength, kind="stable")[:EDGES_PER_NODE])
        for src in keep:
            cell.append((primitives[int(candidates[int(np.argmax(rows[src]))])], int(src)))
        start += n_in
    return tuple(cell)


def derive_genotype(normal: Any, reduce: Any, parts: Any, primitives: Any = PRIMITIVES) -> dict[str, Any]:
    """The network genotype of softmaxed alphas: backbone normal/reduce cells and one cell per part."""
    return {"normal": derive_cell(normal, primitives), "reduce": derive_cell(reduce, primitives),
            "parts": tuple(derive_cell(p, primitives) for p in parts)}
