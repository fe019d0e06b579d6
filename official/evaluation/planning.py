"""Graph-planning metrics (numpy): next-hop accuracy, path accuracy PAcc_L, and rollout success / SPL.

Accuracy and PAcc follow learning_to_plan/train.py (spec card topo_planning.md "Metrics"): a node is correct
when argmax of its logits equals optimal_actions[i, target]; PAcc_L restricts to nodes whose path length to
the target is >= L, as sum(correct * mask) / (sum(mask) + 1e-8). `PlanningMetrics` pools those sums over a
whole set (the authors average per-batch ratios; equal for equal-sized batches with the same masks).

Success / SPL measure a next-hop table as a planner: from every start node other than the target, follow
the table (re-planning at each node gives the same table: the inputs do not change) for at most N hops on
the TRUE graph; a hop along a non-edge, a stay, or running out of hops is a failure. SPL =
success * l / max(p, l) with l the shortest true-graph distance and p the length travelled (Anderson et
al. 2018). This is a graph-level stand-in for the paper's simulator navigation (README "Known differences").
"""

from __future__ import annotations

import numpy as np

MIN_LENGTHS = (2, 3, 4, 5, 6)  # PAcc_2 .. PAcc_6 (train.py: num_paccs = 5)


def action_accuracy(logits, actions, node_mask=None) -> float:
    """Share of (real) nodes whose argmax over next nodes equals the optimal action."""
    correct = np.argmax(np.asarray(logits), -1) == np.asarray(actions)
    mask = np.ones(correct.shape, bool) if node_mask is None else np.asarray(node_mask) > 0.5
    return float(np.sum(correct & mask) / max(np.sum(mask), 1))


def path_accuracy(logits, actions, path_lengths, min_length: int, node_mask=None) -> float:
    """train.py's paccuracy: sum(correct * mask) / (sum(mask) + 1e-8), mask = path length >= min_length."""
    correct = np.argmax(np.asarray(logits), -1) == np.asarray(actions)
    mask = np.asarray(path_lengths) >= min_length
    if node_mask is not None:
        mask &= np.asarray(node_mask) > 0.5
    return float(np.sum(correct * mask) / (np.sum(mask) + 1e-8))


def rollout(next_hop, target: int, start: int, adjacency, lengths, max_hops: int) -> tuple[bool, float]:
    """(reached, length travelled) following `next_hop` (N,) from `start` on the true `adjacency`."""
    node, travelled = start, 0.0
    for _ in range(max_hops):
        if node == target:
            return True, travelled
        nxt = int(next_hop[node])
        if nxt < 0 or nxt == node or adjacency[node, nxt] < 0.5:
            return False, travelled
        travelled += float(lengths[node, nxt])
        node = nxt
    return node == target, travelled


def rollout_scores(next_hop, target: int, adjacency, lengths, shortest, node_mask=None) -> tuple[list, list]:
    """Per start node (real, not the target): success in {0, 1} and SPL, for one graph and target."""
    n = len(next_hop)
    real = np.ones(n, bool) if node_mask is None else np.asarray(node_mask) > 0.5
    success, spl = [], []
    for start in range(n):
        if start == target or not real[start]:
            continue
        ok, travelled = rollout(next_hop, target, start, adjacency, lengths, int(real.sum()))
        best = float(shortest[start])
        success.append(float(ok))
        spl.append(float(ok) * best / max(travelled, best, 1e-12))
    return success, spl


class PlanningMetrics:
    """Accumulates accuracy, PAcc_L and the rollout success / SPL of one or more planners over batches."""

    def __init__(self, planners: tuple[str, ...] = ("planner",)):
        self.correct = 0.0
        self.nodes = 0.0
        self.pacc = {m: [0.0, 0.0] for m in MIN_LENGTHS}
        self.rollouts = {p: ([], []) for p in planners}
        self.graphs = 0

    def update_accuracy(self, logits, actions, path_lengths, node_mask) -> None:
        """Batch (B, N, N) logits against (B, N) optimal actions / path lengths / node mask."""
        correct = np.argmax(np.asarray(logits), -1) == np.asarray(actions)
        real = np.asarray(node_mask) > 0.5
        self.correct += float(np.sum(correct & real))
        self.nodes += float(np.sum(real))
        for m in MIN_LENGTHS:
            mask = (np.asarray(path_lengths) >= m) & real
            self.pacc[m][0] += float(np.sum(correct * mask))
            self.pacc[m][1] += float(np.sum(mask))
        self.graphs += len(correct)

    def update_rollouts(self, planner: str, next_hop, target, adjacency, lengths, shortest, node_mask) -> None:
        """Batch next-hop tables (B, N) of `planner` rolled out on the true graphs (B, N, N)."""
        success, spl = self.rollouts[planner]
        for b in range(len(next_hop)):
            s, p = rollout_scores(np.asarray(next_hop[b]), int(target[b]), np.asarray(adjacency[b]),
                                  np.asarray(lengths[b]), np.asarray(shortest[b]), np.asarray(node_mask[b]))
            success += s
            spl += p

    def result(self) -> dict[str, float]:
        out = {"action_accuracy": self.correct / max(self.nodes, 1.0)}
        for m, (hit, total) in self.pacc.items():
            out[f"pacc_{m}"] = hit / (total + 1e-8)
        for planner, (success, spl) in self.rollouts.items():
            out[f"{planner}_success"] = float(np.mean(success)) if success else 0.0
            out[f"{planner}_spl"] = float(np.mean(spl)) if spl else 0.0
        out["graphs"] = float(self.graphs)
        return out
