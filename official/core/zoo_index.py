"""THE one list of packages that register models, experiments and tasks.

Adding a model to the zoo = adding its package here. Each package's `__init__.py` imports its
`variants` and `experiments` modules (and its task, if it has one), which register themselves.
"""

from __future__ import annotations

import importlib

PACKAGES: tuple[str, ...] = (
    "official.tasks.image_classification",
    "official.vision.mobilenetv2",
    "official.vision.mobilenext",
    "official.tasks.detection",
    "official.vision.cpn",
    "official.tasks.keypoints",
    "official.vision.rsn",
    "official.tasks.mono3d",
    "official.vision.rtm3d",
    "official.vision.efficientnet",
    "official.training.autoaug_kd",
    "official.training.game_of_noise",
    "official.tasks.incremental_classification",
    "official.tasks.open_set",
    "official.vision.side_tuning",
    "official.training.side_tuning",
    "official.vision.resnet",
    "official.vision.proxybnn",
    "official.vision.mlp",
    "official.training.uniloss",
    "official.training.dsa",
    "official.training.gan.method",
    "official.training.gan.cyclegan",
    "official.tasks.image_translation",
    "official.vision.gan",
    "research.generative.forkgan.objective",
    "official.vision.rpl",
    "research.retrieval.exchnet",
    "research.open_set.openhybrid",
    "research.reid.isp",
    "research.reid.isp.task",
    "research.reid.isp.method",
    "research.generative.sketch2photo.task",
    "research.generative.daae.task",
    "research.generative.ndn.task",
    "research.generative.topogan.task",
    "research.three_d.conv_onet",
    "research.three_d.conv_onet.task",
    "official.tasks.point_classification",
    "official.vision.pointnet2",
    "official.training.pointmixup",
    "official.tasks.point_completion",
    "research.three_d.softpoolnet",
    "research.three_d.shapegf",
    "research.three_d.shapegf.task",
    "research.three_d.shapegf.method",
    "research.three_d.pointcontrast",
    "research.three_d.pointcontrast.task",
    "research.three_d.pointcontrast.method",
    "research.three_d.hmor",
    "research.three_d.hmor.task",
    "research.three_d.gesture_handpose",
    "research.three_d.gesture_handpose.task",
    "research.three_d.crowd3dpose",
    "research.three_d.crowd3dpose.task",
    "research.three_d.partaware_pose",
    "research.three_d.partaware_pose.task",
    "research.three_d.sizer",
    "research.three_d.sizer.task",
    "research.three_d.sizer.parser_task",
    "research.three_d.limp",
    "research.three_d.limp.task",
    "research.three_d.drv",
    "research.three_d.drv.task",
    "research.three_d.mask2cad.task",
    "research.generative.tsit",
    "research.generative.tsit.task",
    "research.generative.coco_funit",
    "research.generative.coco_funit.experiments",
    "research.generative.coco_funit.objective",
    "official.tasks.few_shot_translation",
    "research.video.avvp",
    "research.video.avvp.task",
    "research.video.ahernet.method",  # + its package (variants, experiments) and task
    "research.video.memdpc.task",
    "research.video.graphmem_vos.task",  # + its package (variants, experiments)
    "research.multimodal.tcgm.task",  # + its package (variants, experiments)
    "research.multimodal.tcgm.method",
    "research.geometry.s2dnet",
    "research.geometry.s2dnet.task",
    "research.multimodal.info_ground",
    "research.multimodal.info_ground.task",
    "research.geometry.topo_planning",
    "research.geometry.topo_planning.task",
)

_imported = False


class ZooImportError(ImportError):
    """A package of the index failed to import; the message names it."""


def import_all() -> None:
    """Imports every package of the index once; a failure names the package and the cause."""
    global _imported
    if _imported:
        return
    _imported = True
    for package in PACKAGES:
        try:
            importlib.import_module(package)
        except Exception as err:  # surface which package broke, with the original cause
            _imported = False
            raise ZooImportError(f"zoo package '{package}' failed to import: {err!r}") from err
