"""Adversarial training shared by the GAN methods (`training.method: gan`).

TF-free on import, so that the networks' packages (which import `config`) load under JAX: the training
method and the objectives register from official/core/zoo_index.py (`official.training.gan.method`,
`official.training.gan.cyclegan`).
"""
