"""Neural Design Network (Lee et al., ECCV 2020): relation prediction, layout generation, refinement.

No official code exists; module shapes are reconstructed (see the card's "reconstructed" list).
Shapes: N = max_elements padded element slots, node 0 is the canvas, so graphs have N+1 nodes.
Inputs of `NeuralDesignNetwork.call` (a dict):
  categories (B, N) int32 in 1..num_categories (padding: any value, masked), mask (B, N) 0/1,
  loc_relations / size_relations (B, N+1, N+1) int32 partial relation matrices, 0 = unknown
  (official/evaluation/layout_relations.py vocabularies), z_relation (B, latent), z_layout (B, N, latent).
Outputs: boxes (B, N, 4) xywh in [0, 1] (zeros on padding), completed loc/size relations (B, N+1, N+1).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from official.evaluation.layout_relations import LOC_INVERSE, NUM_LOC, NUM_SIZE, SIZE_INVERSE
from research.generative.ndn.layers import TripletGraphConv, pair_mask_from

CANVAS_BOX = (0.5, 0.5, 1.0, 1.0)


class _GraphModule(layers.Layer):
    """Shared front of the three modules: node/edge embeddings and a stack of triplet convolutions."""

    def __init__(self, num_categories: int, dim: int, num_layers: int, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.node_embed = layers.Embedding(num_categories + 1, dim, name="node_embed")  # 0 = canvas
        self.loc_embed = layers.Embedding(NUM_LOC, dim // 2, name="loc_embed")
        self.size_embed = layers.Embedding(NUM_SIZE, dim - dim // 2, name="size_embed")
        # One attribute per block, not a list: TF checkpoints skip layers held in Keras-wrapped lists.
        self.num_layers = num_layers
        for i in range(num_layers):
            setattr(self, f"gconv_{i}", TripletGraphConv(dim, name=f"gconv_{i}"))

    def encode(self, node_cats, node_mask, loc, size, node_extra=None):
        """Runs the GCN stack; node_extra (B, N+1, dim) is added to the category embedding."""
        h = self.node_embed(node_cats)
        if node_extra is not None:
            h = h + node_extra
        h = h * ops.expand_dims(node_mask, -1)
        e = ops.concatenate([self.loc_embed(loc), self.size_embed(size)], axis=-1)
        pm = pair_mask_from(node_mask)
        for i in range(self.num_layers):
            h, e = getattr(self, f"gconv_{i}")(h, e, pm)
        return h, e


class RelationPredictor(layers.Layer):
    """G_p: a conditional VAE over complete relation graphs; predicts every unknown relation."""

    def __init__(self, num_categories, dim, num_layers, latent_dim, **kwargs):
        super().__init__(**kwargs)
        self.encoder = _GraphModule(num_categories, dim, num_layers, name="encoder")
        self.decoder = _GraphModule(num_categories, dim, num_layers, name="decoder")
        self.to_latent = layers.Dense(2 * latent_dim, name="to_latent")
        self.from_latent = layers.Dense(dim, name="from_latent")
        self.loc_head = layers.Dense(NUM_LOC, name="loc_head")
        self.size_head = layers.Dense(NUM_SIZE, name="size_head")

    def build(self, *shapes):
        self.built = True  # sub-layers build on first use


    def posterior(self, node_cats, node_mask, loc, size):
        """q(z | complete graph): masked mean of the encoder's node features -> (mu, logvar)."""
        h, _ = self.encoder.encode(node_cats, node_mask, loc, size)
        pooled = ops.sum(h, axis=1) / ops.maximum(ops.sum(node_mask, axis=1, keepdims=True), 1.0)
        mu, logvar = ops.split(self.to_latent(pooled), 2, axis=-1)
        return mu, logvar

    def call(self, node_cats, node_mask, loc, size, z):
        """Logits (B, N+1, N+1, 6) and (B, N+1, N+1, 4) for every ordered pair."""
        n = node_cats.shape[1]
        extra = ops.repeat(ops.expand_dims(self.from_latent(z), 1), n, axis=1)
        h, e = self.decoder.encode(node_cats, node_mask, loc, size, node_extra=extra)
        # Heads see the triplet (h_i, e_ij, h_j) of the last block, so its node update is trained too.
        pair = ops.concatenate([ops.repeat(ops.expand_dims(h, 2), n, axis=2), e,
                                ops.repeat(ops.expand_dims(h, 1), n, axis=1)], axis=-1)
        return self.loc_head(pair), self.size_head(pair)


def complete_relations(loc, size, loc_logits, size_logits, node_mask):
    """Keeps given relations, fills unknown ones with the argmax over known classes.

    The upper triangle (i < j) is decided and mirrored with the inverse relation, so the completed
    graph is consistent (left <-> right, top <-> bottom, smaller <-> larger).
    """
    n = loc.shape[1]
    upper = ops.cast(ops.triu(ops.ones((n, n)), k=1), "bool")
    pm = ops.cast(pair_mask_from(node_mask), "bool")

    def fill(given, logits, inverse):
        pred = ops.cast(ops.argmax(logits[..., 1:], axis=-1), "int32") + 1
        up = ops.where(given > 0, given, pred)
        low = ops.take(ops.convert_to_tensor(inverse), ops.transpose(up, (0, 2, 1)))
        full = ops.where(upper, up, low)
        return ops.where(pm, full, ops.zeros_like(full))

    return (fill(ops.cast(loc, "int32"), loc_logits, LOC_INVERSE),
            fill(ops.cast(size, "int32"), size_logits, SIZE_INVERSE))


class LayoutGenerator(layers.Layer):
    """G_l: places the elements one at a time (N static steps) from the graph and the boxes so far."""

    def __init__(self, num_categories, dim, num_layers, latent_dim, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.graph = _GraphModule(num_categories, dim, num_layers, name="graph")
        self.box_embed = layers.Dense(dim, name="box_embed")  # (box * placed, placed) -> dim
        self.to_latent = layers.Dense(2 * latent_dim, name="to_latent")  # q(z_k | h_k, box_k)
        self.box_hidden = layers.Dense(dim, activation="relu", name="box_hidden")
        self.box_out = layers.Dense(4, activation="sigmoid", name="box_out")

    def context(self, node_cats, node_mask, loc, size, boxes, placed):
        """Node features (B, N+1, dim) given boxes (B, N+1, 4) placed where placed (B, N+1) is 1."""
        p = ops.expand_dims(placed, -1)
        h, _ = self.graph.encode(node_cats, node_mask, loc, size,
                                 node_extra=self.box_embed(ops.concatenate([boxes * p, p], axis=-1)))
        return h

    def decode(self, h_k, z_k):
        return self.box_out(self.box_hidden(ops.concatenate([h_k, z_k], axis=-1)))

    def run(self, node_cats, node_mask, loc, size, z, gt_boxes=None):
        """All N steps. With gt_boxes (teacher forcing, training) z is replaced by the posterior sample
        mu + exp(logvar / 2) * z; returns boxes (B, N, 4) and the stacked (mu, logvar) (B, N, latent)."""
        n = node_cats.shape[1]
        batch = ops.shape(node_cats)[0]
        canvas = ops.broadcast_to(ops.convert_to_tensor(CANVAS_BOX, "float32"), (batch, 1, 4))
        boxes = ops.concatenate([canvas, ops.zeros((batch, n - 1, 4))], axis=1)
        if gt_boxes is not None:
            boxes = ops.concatenate([canvas, gt_boxes], axis=1)
        outs, mus, logvars = [], [], []
        index = np.arange(n)
        for k in range(1, n):  # element k - 1 is node k; the canvas (node 0) is always placed
            placed = ops.broadcast_to(ops.convert_to_tensor((index < k).astype("float32")), (batch, n))
            h_k = self.context(node_cats, node_mask, loc, size, boxes, placed)[:, k]
            z_k = z[:, k - 1]
            if gt_boxes is not None:
                mu, logvar = ops.split(self.to_latent(ops.concatenate([h_k, gt_boxes[:, k - 1]], -1)), 2, -1)
                mus.append(mu)
                logvars.append(logvar)
                z_k = mu + ops.exp(0.5 * logvar) * z_k
            box = self.decode(h_k, z_k)
            outs.append(box)
            if gt_boxes is None:
                onehot = ops.convert_to_tensor((index == k).astype("float32"))[None, :, None]
                boxes = boxes * (1.0 - onehot) + ops.expand_dims(box, 1) * onehot
        stats = (ops.stack(mus, 1), ops.stack(logvars, 1)) if gt_boxes is not None else None
        return ops.stack(outs, axis=1), stats


class LayoutRefiner(layers.Layer):
    """G_r: corrects a complete layout; boxes are moved in logit space so they stay inside [0, 1]."""

    def __init__(self, num_categories, dim, num_layers, **kwargs):
        super().__init__(**kwargs)
        self.graph = _GraphModule(num_categories, dim, num_layers, name="graph")
        self.box_embed = layers.Dense(dim, name="box_embed")
        self.delta = layers.Dense(4, name="delta")

    def build(self, *shapes):
        self.built = True  # sub-layers build on first use


    def call(self, node_cats, node_mask, loc, size, boxes):
        batch = ops.shape(boxes)[0]
        canvas = ops.broadcast_to(ops.convert_to_tensor(CANVAS_BOX, "float32"), (batch, 1, 4))
        nodes = ops.concatenate([canvas, boxes], axis=1)
        h, _ = self.graph.encode(node_cats, node_mask, loc, size, node_extra=self.box_embed(nodes))
        b = ops.clip(boxes, 1e-4, 1.0 - 1e-4)
        return ops.sigmoid(ops.log(b) - ops.log(1.0 - b) + self.delta(h[:, 1:]))


@keras.saving.register_keras_serializable(package="ndn")
class NeuralDesignNetwork(keras.Model):
    """The three NDN modules; `call` runs constrained inference (complete graph -> place -> refine)."""

    def __init__(self, num_categories: int = 13, max_elements: int = 9, dim: int = 128, num_layers: int = 5,
                 latent_dim: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.num_categories, self.max_elements = num_categories, max_elements
        self.dim, self.num_layers, self.latent_dim = dim, num_layers, latent_dim
        self.relation = RelationPredictor(num_categories, dim, num_layers, latent_dim, name="relation")
        self.generator = LayoutGenerator(num_categories, dim, num_layers, latent_dim, name="generator")
        self.refiner = LayoutRefiner(num_categories, dim, num_layers, name="refiner")
        # Build every sub-layer (the posterior encoders are not on the inference path) eagerly.
        self.train_forward(example_batch(self, batch=1))
        for layer in self._flatten_layers(include_self=True):
            layer.built = True  # modules are driven through helper methods, not __call__

    @staticmethod
    def graph_nodes(categories, mask):
        """Prepends the canvas node (category 0, always valid): (B, N) -> (B, N+1) ids and float mask."""
        batch = ops.shape(categories)[0]
        cats = ops.concatenate([ops.zeros((batch, 1), "int32"), ops.cast(categories, "int32")], axis=1)
        m = ops.cast(mask, "float32")
        cats = cats * ops.cast(ops.concatenate([ops.ones((batch, 1)), m], axis=1), "int32")
        return cats, ops.concatenate([ops.ones((batch, 1)), m], axis=1)

    def call(self, inputs, training=None):
        if "loc_full" in inputs:  # a training batch (fit): the teacher-forced pass of all three modules
            return self.train_forward(inputs)
        cats, node_mask = self.graph_nodes(inputs["categories"], inputs["mask"])
        loc, size = ops.cast(inputs["loc_relations"], "int32"), ops.cast(inputs["size_relations"], "int32")
        loc_logits, size_logits = self.relation(cats, node_mask, loc, size, inputs["z_relation"])
        loc_full, size_full = complete_relations(loc, size, loc_logits, size_logits, node_mask)
        boxes, _ = self.generator.run(cats, node_mask, loc_full, size_full, inputs["z_layout"])
        boxes = self.refiner(cats, node_mask, loc_full, size_full, boxes)
        boxes = boxes * ops.expand_dims(node_mask[:, 1:], -1)
        return {"boxes": boxes, "loc_relations": loc_full, "size_relations": size_full}

    def train_forward(self, batch: dict) -> dict:
        """Training pass of all three modules on real layouts (teacher forcing, posterior latents).

        batch: categories, mask, boxes (B, N, 4), loc/size_full and loc/size_partial (B, N+1, N+1), and the
        noise eps_relation (B, latent), eps_layout (B, N, latent), box_noise (B, N, 4) (the perturbation
        that the refiner learns to undo).
        """
        cats, node_mask = self.graph_nodes(batch["categories"], batch["mask"])
        loc_full, size_full = ops.cast(batch["loc_full"], "int32"), ops.cast(batch["size_full"], "int32")
        mu, logvar = self.relation.posterior(cats, node_mask, loc_full, size_full)
        z = mu + ops.exp(0.5 * logvar) * batch["eps_relation"]
        loc_logits, size_logits = self.relation(cats, node_mask, ops.cast(batch["loc_partial"], "int32"),
                                                ops.cast(batch["size_partial"], "int32"), z)
        gt = ops.cast(batch["boxes"], "float32")
        gen, (gen_mu, gen_logvar) = self.generator.run(cats, node_mask, loc_full, size_full,
                                                       batch["eps_layout"], gt_boxes=gt)
        noisy = ops.clip(gt + batch["box_noise"], 0.0, 1.0)
        refined = self.refiner(cats, node_mask, loc_full, size_full, noisy)
        return {"loc_logits": loc_logits, "size_logits": size_logits, "relation_mu": mu,
                "relation_logvar": logvar, "generated": gen, "layout_mu": gen_mu, "layout_logvar": gen_logvar,
                "refined": refined, "node_mask": node_mask}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """NDN's summed losses (research/generative/ndn/losses.py); the terms are tracked as metrics."""
        from research.generative.ndn.losses import ndn_losses

        terms = ndn_losses(y_pred, x, getattr(self, "kl_weight", 0.01))
        if not hasattr(self, "_term_trackers"):
            self._term_trackers = {k: keras.metrics.Mean(name=k) for k in terms if k != "loss"}
        for k, tracker in self._term_trackers.items():
            tracker.update_state(terms[k])
        return terms["loss"]

    def example_inputs(self, batch: int = 1) -> dict:
        """Inference inputs for the registry sweep (a subclassed model has no `model.inputs`)."""
        return example_inputs(self, batch)

    def get_config(self):
        return {**super().get_config(), "num_categories": self.num_categories, "max_elements": self.max_elements,
                "dim": self.dim, "num_layers": self.num_layers, "latent_dim": self.latent_dim}


def example_inputs(model: NeuralDesignNetwork, batch: int = 2, seed: int = 0) -> dict:
    """Random valid inputs (all relations unknown) for building, tests and export warmup."""
    rng = np.random.default_rng(seed)
    n = model.max_elements
    mask = (np.arange(n)[None] < rng.integers(1, n + 1, (batch, 1))).astype("float32")
    return {
        "categories": rng.integers(1, model.num_categories + 1, (batch, n)).astype("int32"),
        "mask": mask,
        "loc_relations": np.zeros((batch, n + 1, n + 1), "int32"),
        "size_relations": np.zeros((batch, n + 1, n + 1), "int32"),
        "z_relation": rng.normal(size=(batch, model.latent_dim)).astype("float32"),
        "z_layout": rng.normal(size=(batch, n, model.latent_dim)).astype("float32"),
    }


def example_batch(model: NeuralDesignNetwork, batch: int = 2, seed: int = 0) -> dict:
    """A random training batch with relations extracted from random boxes (numpy; for building/tests)."""
    from official.evaluation.layout_relations import relation_matrices

    rng = np.random.default_rng(seed)
    x = example_inputs(model, batch, seed)
    n = model.max_elements
    boxes = np.concatenate([rng.uniform(0.2, 0.8, (batch, n, 2)), rng.uniform(0.05, 0.3, (batch, n, 2))], -1)
    boxes = (boxes * x["mask"][..., None]).astype("float32")
    rel = [relation_matrices(b, m > 0) for b, m in zip(boxes, x["mask"], strict=True)]
    loc = np.stack([r[0] for r in rel]).astype("int32")
    size = np.stack([r[1] for r in rel]).astype("int32")
    return {"categories": x["categories"], "mask": x["mask"], "boxes": boxes, "loc_full": loc,
            "size_full": size, "loc_partial": loc * 0, "size_partial": size * 0,
            "eps_relation": x["z_relation"], "eps_layout": x["z_layout"],
            "box_noise": rng.normal(0, 0.05, (batch, n, 4)).astype("float32")}
