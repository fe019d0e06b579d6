"""The `forkgan` objective (`training.objective: forkgan`) on the shared adversarial step
(official/training/gan/trainer.py); the official TF1 graph is zhengziqiang/ForkGAN model.py.

Networks: G_A2B = the task's network (exported), G_B2A = a second ForkGenerator of the same config; one
domain classifier on codes; `n_d` independent 2-scale discriminators for each of 6 roles (translation,
reconstruction, refinement; for A and B). Per step, for (x_A, x_B):
    fake_B, rec_A, c_A = G_A2B.fork(x_A)      fake_A_, refine_B, c_fB = G_B2A.fork(fake_B)
    fake_A, rec_B, c_B = G_B2A.fork(x_B)      fake_B_, refine_A, c_fA = G_A2B.fork(fake_A)
Generator terms (LSGAN targets 1, each summed over the n_d copies): adversarial 0.5 (D_trans_A(fake_A) +
D_trans_B(fake_B)), 0.5 (D_refine_A(refine_A) + D_refine_B(refine_B)), 0.5 (D_rec_A(rec_A) + D_rec_B(rec_B));
cycle lambda (|x_A - fake_A_| + |x_B - fake_B_|); reconstruction lambda (|rec_A - x_A| + |rec_B - x_B|); code
mean|mean_ch c_A - mean_ch c_fB| + mean|mean_ch c_B - mean_ch c_fA|; domain 0.5 BCE(cls(c_fA), A) +
0.5 BCE(cls(c_fB), B). Discriminator-step terms: for each role and copy 0.5 (MSE(D(real), 1) + MSE(D(history
fake), 0)) for A plus B (real = x_A / x_B for every role), and the classifier's 0.25 (BCE(c_A, A) + BCE(c_B, B)
+ BCE(c_fB, A) + BCE(c_fA, B)) on the codes of the generator step (no gradient to G). The classifier is
stepped with the discriminators: it sees exactly what the official p_optim saw (same forward, its weights
unchanged by the G step); every D, the classifier and G are Adam with the same rate, so one optimizer per
player equals the official 14 (Adam's state is per variable and every group steps once per iteration).

Batch semantics of the classifier: the official graph averages its logits over batch AND space before the
BCE. Here the average is over the GLOBAL batch: under tf.distribute each replica all-gathers the per-image
logits (`ReplicaContext.all_gather`, whose gradient sums the replicas' upstream gradients back onto each
slice), so the loss and the update do not depend on the replica count. At the official batch 1 this is the
paper's per-image loss; at 8 GPUs x 1 image it averages 8 codes before the BCE (the YAML says so).
"""

from __future__ import annotations

import keras
from keras import ops

import research.generative.forkgan  # noqa: F401  (variants, experiments)
from official.losses import gan as gan_losses
from official.training.gan.method import register_objective
from official.training.gan.trainer import AdversarialTrainer
from research.generative.forkgan.networks import DomainClassifier, ForkGenerator, MultiScaleDiscriminator

ROLES = ("translation", "reconstruction", "refine")
LABEL_A, LABEL_B = (1.0, 0.0), (0.0, 1.0)


def l1(a, b):
    return ops.mean(ops.abs(ops.cast(a, "float32") - ops.cast(b, "float32")))


def code_loss(c_a, c_fb, c_b, c_fa):
    """mean |mean_ch(c_A) - mean_ch(c_fB)| + mean |mean_ch(c_B) - mean_ch(c_fA)| (official percep_loss)."""
    def term(x, y):
        return l1(ops.mean(ops.cast(x, "float32"), axis=-1), ops.mean(ops.cast(y, "float32"), axis=-1))

    return term(c_a, c_fb) + term(c_b, c_fa)


def domain_bce(logits, label):
    """Mean sigmoid cross-entropy of (1, 1, 1, 2) batch-averaged logits against a one-hot domain label."""
    target = ops.reshape(ops.convert_to_tensor(label, "float32"), (1, 1, 1, 2))
    x = ops.cast(logits, "float32")
    return ops.mean(ops.relu(x) - x * target + ops.log1p(ops.exp(-ops.abs(x))))


def global_batch_mean(logits):
    """(B, 1, 1, 2) per-image logits -> (1, 1, 1, 2) mean over the global batch (all replicas)."""
    if keras.backend.backend() == "tensorflow":  # tf.distribute; TF is imported here so JAX machines need none
        import tensorflow as tf

        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            logits = context.all_gather(logits, axis=0)
    return ops.mean(logits, axis=0, keepdims=True)


@register_objective("forkgan")
class ForkGANObjective(AdversarialTrainer):
    GENERATOR_TERMS = ("adv_translation", "adv_refine", "adv_reconstruction", "cycle", "reconstruction", "code",
                       "domain")
    DISCRIMINATOR_TERMS = (*ROLES, "classifier")

    def __init__(self, network, config, trainer_config, schedule_args, image_shape, seed: int = 0,
                 lambda_l1: float = 10.0, code_weight: float = 1.0, domain_weight: float = 1.0, n_d: int = 2,
                 d_filters: int = 32, d_levels: int = 4, d_scales: int = 2, cls_filters: int = 32, **kwargs):
        if not isinstance(network, ForkGenerator):
            raise ValueError(f"objective forkgan needs a ForkGenerator (forkgan_* model), got {type(network).__name__}")
        self.lambda_l1, self.code_weight, self.domain_weight = float(lambda_l1), float(code_weight), float(domain_weight)
        self.n_d, self.d_filters, self.d_levels, self.d_scales = int(n_d), int(d_filters), int(d_levels), int(d_scales)
        self.cls_filters = int(cls_filters)
        self.d_loss, self.g_loss = gan_losses.adversarial_losses(config.gan_loss)
        super().__init__(network, config, trainer_config, schedule_args, image_shape, seed, **kwargs)

    def build_networks(self) -> None:
        net = self.network
        reverse = ForkGenerator.from_config({**net.get_config(), "name": "generator_b2a"})
        reverse(ops.zeros((1, *net.input_shape[1:])))
        self.generators["b2a"] = reverse
        size, channels = tuple(net.input_shape[1:3]), net.input_shape[-1]
        self.discriminators["classifier"] = DomainClassifier(tuple(net.encoder.output_shape[1:]), self.cls_filters,
                                                             name="percep")
        for i in range(self.n_d):
            for role in ROLES:
                for domain in "ab":
                    key = f"{i}_{role}_{domain}"
                    self.discriminators[key] = MultiScaleDiscriminator(channels, self.d_filters, self.d_levels,
                                                                       self.d_scales, size, name=f"d{key}")
        for role in ("fake", "rec", "refine"):
            for domain in "ab":
                self.add_history(f"{role}_{domain}")

    def _judge(self, role: str, domain: str, images, training):
        """Sum over the n_d copies of the generator's LSGAN term on `images`."""
        return ops.sum(ops.stack([self.g_loss(self.discriminators[f"{i}_{role}_{domain}"](images, training=training))
                                  for i in range(self.n_d)]))

    def classify(self, code, training):
        return global_batch_mean(self.discriminators["classifier"](code, training=training))

    def generator_losses(self, batch, training):
        g_a2b, g_b2a = self.network, self.generators["b2a"]
        x_a, x_b = batch["a"], batch["b"]
        fake_b, rec_a, c_a = g_a2b.fork(x_a, training=training)
        fake_a_, refine_b, c_fb = g_b2a.fork(fake_b, training=training)
        fake_a, rec_b, c_b = g_b2a.fork(x_b, training=training)
        fake_b_, refine_a, c_fa = g_a2b.fork(fake_a, training=training)
        terms = {
            "adv_translation": 0.5 * (self._judge("translation", "a", fake_a, training)
                                      + self._judge("translation", "b", fake_b, training)),
            "adv_refine": 0.5 * (self._judge("refine", "b", refine_b, training)
                                 + self._judge("refine", "a", refine_a, training)),
            "adv_reconstruction": 0.5 * (self._judge("reconstruction", "a", rec_a, training)
                                         + self._judge("reconstruction", "b", rec_b, training)),
            "cycle": self.lambda_l1 * (l1(x_a, fake_a_) + l1(x_b, fake_b_)),
            "reconstruction": self.lambda_l1 * (l1(rec_a, x_a) + l1(rec_b, x_b)),
            "code": self.code_weight * code_loss(c_a, c_fb, c_b, c_fa),
            "domain": self.domain_weight * (0.5 * domain_bce(self.classify(c_fa, training), LABEL_A)
                                            + 0.5 * domain_bce(self.classify(c_fb, training), LABEL_B)),
        }
        fakes = {"fake_a": fake_a, "fake_b": fake_b, "rec_a": rec_a, "rec_b": rec_b, "refine_a": refine_a,
                 "refine_b": refine_b, "c_a": c_a, "c_b": c_b, "c_fa": c_fa, "c_fb": c_fb}
        return terms, fakes

    def discriminator_losses(self, batch, fakes, step):
        real = {"a": batch["a"], "b": batch["b"]}
        sources = {"translation": "fake", "reconstruction": "rec", "refine": "refine"}
        samples = {(role, d): self.from_history(f"{sources[role]}_{d}", fakes[f"{sources[role]}_{d}"], step)
                   for role in ROLES for d in "ab"}
        terms = {}
        for role in ROLES:
            total = []
            for i in range(self.n_d):
                for d in "ab":
                    disc = self.discriminators[f"{i}_{role}_{d}"]
                    total.append(self.d_loss(disc(real[d], training=True), disc(samples[role, d], training=True)))
            terms[role] = ops.sum(ops.stack(total))
        cls = lambda code: self.classify(code, True)  # noqa: E731
        terms["classifier"] = 0.25 * (domain_bce(cls(fakes["c_a"]), LABEL_A) + domain_bce(cls(fakes["c_b"]), LABEL_B)
                                      + domain_bce(cls(fakes["c_fb"]), LABEL_A) + domain_bce(cls(fakes["c_fa"]), LABEL_B))
        return terms

    @property
    def refiner(self):
        """G_B2A, whose reconstruction decoder applied to G_A2B(x) gives the refined output refine_B."""
        return self.generators["b2a"]
