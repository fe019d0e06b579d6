"""CycleGAN's history of generated images: discriminators see fakes from earlier steps too.

Per image of a batch (Shrivastava et al. 2017; CycleGAN's ImagePool): while the history is not full the
image is stored and used; afterwards, with probability 1/2 a random stored image is used and replaced by
the new one, else the new one is used. Under tf.distribute every replica keeps its own history (the
variables are synchronised on read, so replicas never overwrite each other's images; a checkpoint saves
the first replica's). Randomness is stateless, from (step, replica, image index), so a resumed run draws
what an uninterrupted one would.
"""

from __future__ import annotations

import tensorflow as tf


class ImageHistory(tf.Module):
    def __init__(self, size: int, image_shape: tuple[int, ...], seed: int = 0, name: str = "image_history"):
        super().__init__(name=name)
        self.size = int(size)
        self.seed = int(seed)
        with tf.init_scope():
            kwargs = dict(trainable=False, synchronization=tf.VariableSynchronization.ON_READ,
                          aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
            self.images = tf.Variable(tf.zeros((max(self.size, 1), *image_shape)), name="images", **kwargs)
            self.count = tf.Variable(0, dtype=tf.int32, name="count", **kwargs)

    def _put(self, slot, image):
        return self.images.assign(tf.tensor_scatter_nd_update(self.images.read_value(), [[slot]], image[None]))

    def query(self, images: tf.Tensor, step) -> tf.Tensor:
        """The batch the discriminator sees instead of `images` (a no-op when size is 0)."""
        if self.size <= 0:
            return images
        context = tf.distribute.get_replica_context()
        replica = context.replica_id_in_sync_group if context is not None else 0
        step = tf.cast(step, tf.int32)
        images = tf.cast(images, self.images.dtype)
        if images.shape[0] is None:
            raise ValueError("image history: the batch size must be static (batch with drop_remainder=True)")
        out = []
        for i in range(images.shape[0]):
            image = images[i]
            seed = tf.stack([step, tf.cast(replica, tf.int32) * 65536 + i + self.seed * 4096])
            draw = tf.random.stateless_uniform([2], seed)

            def store(image=image):
                with tf.control_dependencies([self._put(self.count, image)]):
                    with tf.control_dependencies([self.count.assign_add(1)]):
                        return tf.identity(image)

            def swap(image=image, draw=draw):
                slot = tf.minimum(tf.cast(draw[1] * self.size, tf.int32), self.size - 1)
                old = tf.identity(tf.gather(self.images.read_value(), slot))
                with tf.control_dependencies([old]):
                    with tf.control_dependencies([self._put(slot, image)]):
                        return tf.identity(old)

            def keep(image=image, draw=draw):
                return tf.cond(draw[0] > 0.5, swap, lambda: tf.identity(image))

            out.append(tf.cond(self.count < self.size, store, keep))
        return tf.stack(out)
