"""MemDPC (Han, Xie, Zisserman, ECCV 2020): memory-augmented dense predictive coding for video representations.

Importing the package registers its variants and experiments. The frame-folder clip reader is
official/data/video_frames.py.
"""

from research.video.memdpc import variants  # noqa: F401  (registration)
