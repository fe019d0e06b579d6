"""AVVP's config sections: LLP data (official/data/llp.py) and the `avvp` task (parsing thresholds)."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class LlpDataConfig(DataConfig):
    source: str = "llp"  # LLP layout (official/data/llp.py): ROOT/AVVP_*.csv + ROOT/feats/{vggish,res152,r2plus1d_18}/<id>.npy
    path: str = "llp"  # dataset root (the official repo's data/ folder with feats/ inside)
    split: str = "train"  # train (AVVP_train.csv) | val (AVVP_val_pd.csv) | test (AVVP_test_pd.csv)
    csv_name: str = ""  # another weak-label CSV under path instead of the split's ("" = the split's)
    audio_dir: str = "feats/vggish"  # VGGish (T, 128) .npy folder under path
    video_2d_dir: str = "feats/res152"  # ResNet-152 (8 T, 2048) .npy folder under path
    video_3d_dir: str = "feats/r2plus1d_18"  # R(2+1)D-18 (T, 512) .npy folder under path
    shuffle_buffer: int = 10_000  # training shuffle buffer (videos)


@dataclasses.dataclass
class AvvpTaskConfig(TaskConfig):
    name: str = "avvp"  # registered Task class (research/video/avvp/task.py)
    num_classes: int = 25  # LLP event classes
    threshold: float = 0.5  # main_avvp.eval: video-level and segment-level decisions at p >= 0.5
