"""ExchNet's `training` section: the alternating optimisation's weights and schedule (Sec. 3.4).

Values the paper's scans do not show are ADSH's (gamma 200, the sampled subset) or the spec's
recommendations, flagged in the card.
"""

from __future__ import annotations

import dataclasses

from official.core.config import TaskConfig, TrainingMethodConfig


@dataclasses.dataclass
class ExchNetTrainingConfig(TrainingMethodConfig):
    method: str = "exchnet"
    gamma: float = 200.0  # quantisation weight of ||V_idx - tanh(h)||^2 in the loss and the DCC step (ADSH's default; unverified for ExchNet)
    spatial_loss: str = "min_overlap"  # attention spatial-diversity loss: min_overlap | hellinger | none (Eqs. 5-6, form unverified)
    spatial_weight: float = 1.0  # weight of the spatial-diversity loss (unverified)
    channel_loss: str = "cosine"  # part-feature channel-diversity loss: cosine | none (Eq. 7, form unverified)
    channel_weight: float = 1.0  # lambda, weight of the channel-diversity loss (unverified)
    keep_prob: float = 0.5  # probability that a part keeps its own feature (Eq. 8: Bernoulli(0.5)); 1.0 = no exchange
    dcc_sample: int = 2000  # database items whose codes U feed each DCC step and anchor update (ADSH's m; 0 = all)
    dcc_sweeps: int = 1  # passes over the q bits per DCC step (ADSH: 1)
    anchor_momentum: float = 0.0  # anchors C <- momentum C + (1 - momentum) class mean of the part features (0: replace)
    eval_batch_size: int = 64  # batch of the inference passes of the DCC / anchor step


@dataclasses.dataclass
class RetrievalTaskConfig(TaskConfig):
    name: str = "hashing_retrieval"  # registered Task class
    num_classes: int = 200  # classes of the training database (anchors C: classes x parts x C')
    precision_ks: tuple[int, ...] = (10, 100)  # precision@k reported beside mAP
    topk: int = 0  # mAP over the top k of the ranking (0 = the full ranking, the spec's protocol)
