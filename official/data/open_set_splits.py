"""The open-set known/unknown class splits of ARPL's `split.py` (`splits_2020`), shared by RPL and OpenHybrid.

Five splits per dataset (Neal et al. 2018 protocol; the lists are facts from iCGY96/ARPL `split.py`):
- MNIST, SVHN, CIFAR-10: 6 known classes, the other 4 unknown;
- CIFAR+10 / CIFAR+50: 4 known CIFAR-10 classes (the "cifar100" lists), unknown = 10 or 50 CIFAR-100
  classes (`cifar100-10` / `cifar100-50`), tested on CIFAR-100's test images;
- Tiny ImageNet: 20 known of 200, the other 180 unknown.
ARPL's `osr.py` runs item i = 0..4 on list entry [4 - i]; `known_unknown(dataset, item)` takes the same
item, so a result row i here and in the authors' CSV name the same classes. The known labels are
renumbered 0..K-1 in list order (`data.classes`, official/data/class_subset.py). scikit-learn's digits
(the small runs) are the same ten digits as MNIST and use MNIST's lists.
"""

from __future__ import annotations

SPLITS_2020: dict[str, list[list[int]]] = {
    "mnist": [[2, 4, 5, 9, 8, 3], [3, 2, 6, 9, 4, 0], [5, 8, 3, 2, 4, 6], [3, 7, 8, 4, 0, 5], [6, 3, 4, 9, 8, 2]],
    "svhn": [[5, 3, 7, 2, 8, 6], [3, 8, 7, 6, 2, 5], [8, 9, 4, 7, 2, 1], [3, 8, 2, 5, 0, 6], [4, 9, 2, 7, 1, 0]],
    "cifar10": [[0, 6, 4, 9, 1, 7], [7, 6, 4, 9, 0, 1], [1, 5, 7, 3, 9, 4], [8, 6, 1, 9, 0, 7], [2, 4, 1, 7, 9, 6]],
    "cifar100": [[4, 7, 9, 1], [6, 7, 1, 9], [9, 6, 1, 7], [6, 4, 9, 1], [1, 0, 9, 8]],
    "cifar100-10": [
        [30, 25, 1, 9, 8, 0, 46, 52, 49, 71],
        [41, 9, 49, 40, 73, 60, 48, 30, 95, 71],
        [8, 9, 49, 40, 73, 60, 48, 95, 30, 71],
        [95, 60, 30, 73, 46, 49, 68, 99, 8, 71],
        [33, 2, 3, 97, 46, 21, 64, 63, 88, 43],
    ],
    "cifar100-50": [
        [27, 94, 29, 77, 88, 26, 69, 48, 75, 5, 59, 93, 39, 57, 45, 40, 78, 20, 98, 47, 66, 70, 91, 76, 41,
         83, 99, 32, 53, 72, 2, 95, 21, 73, 84, 68, 35, 11, 55, 60, 30, 25, 1, 9, 8, 0, 46, 52, 49, 71],
        [65, 97, 86, 24, 45, 67, 2, 3, 91, 98, 79, 29, 62, 82, 33, 76, 0, 35, 5, 16, 54, 11, 99, 52, 85,
         1, 25, 66, 28, 84, 23, 56, 75, 46, 21, 72, 55, 68, 8, 69, 41, 9, 49, 40, 73, 60, 48, 30, 95, 71],
        [20, 83, 65, 97, 94, 2, 93, 16, 67, 29, 62, 33, 24, 98, 5, 86, 35, 54, 0, 91, 52, 66, 85, 84, 56,
         11, 1, 76, 25, 55, 21, 99, 72, 41, 23, 75, 28, 68, 69, 46, 8, 9, 49, 40, 73, 60, 48, 95, 30, 71],
        [92, 82, 77, 64, 5, 33, 62, 56, 70, 0, 20, 28, 67, 14, 84, 53, 91, 29, 85, 2, 52, 83, 75, 35, 11,
         21, 72, 98, 55, 1, 41, 76, 25, 66, 69, 9, 48, 54, 40, 23, 95, 60, 30, 73, 46, 49, 68, 99, 8, 71],
        [47, 6, 19, 0, 62, 93, 59, 65, 54, 70, 34, 55, 23, 38, 72, 76, 53, 31, 78, 96, 77, 27, 92, 18, 82,
         50, 98, 32, 1, 75, 83, 4, 51, 35, 80, 11, 74, 66, 36, 42, 33, 2, 3, 97, 46, 21, 64, 63, 88, 43],
    ],
    "tiny_imagenet": [
        [108, 147, 17, 58, 193, 123, 72, 144, 75, 167, 134, 14, 81, 171, 44, 197, 152, 66, 1, 133],
        [198, 161, 91, 59, 57, 134, 61, 184, 90, 35, 29, 23, 199, 38, 133, 19, 186, 18, 85, 67],
        [177, 0, 119, 26, 78, 80, 191, 46, 134, 92, 31, 152, 27, 60, 114, 50, 51, 133, 162, 93],
        [98, 36, 158, 177, 189, 157, 170, 191, 82, 196, 138, 166, 43, 13, 152, 11, 75, 174, 193, 190],
        [95, 6, 145, 153, 0, 143, 31, 23, 189, 81, 20, 21, 89, 26, 36, 170, 102, 177, 108, 169],
    ],
}

# dataset name -> (known list key, unknown list key or None = the complement, total classes)
OPEN_SET_DATASETS: dict[str, tuple[str, str | None, int]] = {
    "mnist": ("mnist", None, 10),
    "digits": ("mnist", None, 10),
    "svhn": ("svhn", None, 10),
    "cifar10": ("cifar10", None, 10),
    "cifar_plus10": ("cifar100", "cifar100-10", 100),
    "cifar_plus50": ("cifar100", "cifar100-50", 100),
    "tinyimagenet": ("tiny_imagenet", None, 200),
}
NUM_SPLITS = 5


def known_unknown(dataset: str, item: int = 0) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(known classes in label order, unknown classes) of ARPL run `item` (0-4) on `dataset`.

    For CIFAR+N the unknown classes are CIFAR-100 labels; elsewhere they are the dataset's classes not
    known, ascending.
    """
    if dataset not in OPEN_SET_DATASETS:
        raise ValueError(f"open-set dataset: expected one of {sorted(OPEN_SET_DATASETS)}, got {dataset!r}")
    if not 0 <= item < NUM_SPLITS:
        raise ValueError(f"open-set split item: expected 0..{NUM_SPLITS - 1}, got {item}")
    known_key, unknown_key, total = OPEN_SET_DATASETS[dataset]
    position = NUM_SPLITS - 1 - item  # osr.py: splits[dataset][len - i - 1]
    known = tuple(SPLITS_2020[known_key][position])
    if unknown_key is not None:
        return known, tuple(SPLITS_2020[unknown_key][position])
    return known, tuple(c for c in range(total) if c not in known)
