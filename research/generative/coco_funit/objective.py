"""The `coco_funit` objective on the shared adversarial step (imaginaire `trainers/funit.py`, COCO-FUNIT configs).

Per batch (content x with label l_x, style y with label l_y): trans = G(x, y), recon = G(x, x) (one generator
call on the concatenated batch: instance norm is per sample, so the halves equal two separate calls).
Generator terms: adversarial = gan_weight * 0.5 * (hinge_G(D(trans | l_y)) + hinge_G(D(recon | l_x))),
feature_matching = fm_weight * L1(feat(trans), feat(y)) on D's pooled 1024-d features (real side constant),
reconstruction = recon_weight * L1(recon, x) (weights 1, 1, 0.1).
Discriminator term: hinge relu(1 - D(y | l_y)) + relu(1 + D(trans | l_y)) (means).
The projection discriminator (discriminator.py) is built here from objective_args; the exported network is
the generator's average when training.ema_decay > 0 (COCO-FUNIT: 0.999).
"""

from __future__ import annotations

from keras import ops

from official.losses import gan as gan_losses
from official.training.gan.method import register_objective
from official.training.gan.trainer import AdversarialTrainer
from research.generative.coco_funit.discriminator import ProjectionDiscriminator


def l1(a, b):
    return ops.mean(ops.abs(ops.cast(a, "float32") - ops.cast(b, "float32")))


@register_objective("coco_funit")
class COCOFUNITObjective(AdversarialTrainer):
    GENERATOR_TERMS = ("adversarial", "feature_matching", "reconstruction")
    DISCRIMINATOR_TERMS = ("adversarial",)

    def __init__(self, network, config, trainer_config, schedule_args, image_shape, seed: int = 0,
                 num_classes: int = 149, d_filters: int = 64, d_max_filters: int = 1024, d_stages: int = 6,
                 gan_weight: float = 1.0, fm_weight: float = 1.0, recon_weight: float = 0.1, **kwargs):
        self.num_classes, self.d_filters, self.d_max_filters, self.d_stages = (int(num_classes), int(d_filters),
                                                                                int(d_max_filters), int(d_stages))
        self.gan_weight, self.fm_weight, self.recon_weight = float(gan_weight), float(fm_weight), float(recon_weight)
        self.d_loss, self.g_loss = gan_losses.adversarial_losses(config.gan_loss)
        super().__init__(network, config, trainer_config, schedule_args, image_shape, seed, **kwargs)

    def build_networks(self) -> None:
        self.discriminators["d"] = ProjectionDiscriminator(self.num_classes, self.d_filters, self.d_max_filters,
                                                           self.d_stages, self.image_shape[:2], name="discriminator")

    def call(self, inputs, training=False):
        return self.network({"content": inputs["content"], "style": inputs["style"]}, training=training)

    def translate_and_reconstruct(self, content, style, training):
        both = self.network({"content": ops.concatenate([content, content], 0),
                             "style": ops.concatenate([style, content], 0)}, training=training)
        n = ops.shape(content)[0]
        return both[:n], both[n:]

    def generator_losses(self, batch, training):
        x, y, lx, ly = batch["content"], batch["style"], batch["content_label"], batch["style_label"]
        trans, recon = self.translate_and_reconstruct(x, y, training)
        out = self.discriminators["d"]({"image": ops.concatenate([trans, recon, ops.cast(y, trans.dtype)], 0),
                                        "label": ops.concatenate([ly, lx, ly], 0)}, training=training)
        logits_trans, logits_recon, _ = ops.split(out["logits"], 3, axis=0)
        feat_trans, _, feat_real = ops.split(out["features"], 3, axis=0)
        terms = {
            "adversarial": self.gan_weight * 0.5 * (self.g_loss(logits_trans) + self.g_loss(logits_recon)),
            "feature_matching": self.fm_weight * gan_losses.feature_matching_loss([[feat_trans]], [[feat_real]]),
            "reconstruction": self.recon_weight * l1(recon, x),
        }
        return terms, {"trans": trans}

    def discriminator_losses(self, batch, fakes, step):
        y, ly = batch["style"], batch["style_label"]
        trans = fakes["trans"]
        out = self.discriminators["d"]({"image": ops.concatenate([ops.cast(y, trans.dtype), trans], 0),
                                        "label": ops.concatenate([ly, ly], 0)}, training=True)
        real, fake = ops.split(out["logits"], 2, axis=0)
        return {"adversarial": self.d_loss(real, fake)}
