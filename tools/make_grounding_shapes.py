"""Writes a synthetic weakly supervised grounding set in the real on-disk formats that info-ground reads.

Images hold 2-3 objects of distinct colours and shapes (8 shapes x 6 colours; "triangle" is two WordPiece
pieces, tri ##angle, so the word-to-piece mapping is exercised) plus three whole-image background regions. Each
region's 64-d "detector feature" = colour signature + shape signature + noise (the background: noise only; 5-6 regions, the model's 6 slots).
Layout under --out:
    bert/vocab.txt, bert/model.weights.h5            the fixture's vocabulary and a seeded random 2-layer BERT
    coco/annotations/captions_train2014.json         2 captions per training image ("a red square and a blue star")
    coco/annotations/noun_adj_tokens_train.json      colour and shape piece positions of each caption
    coco/bert_noun_negatives_train.{json,h5py}       one shape noun per caption and 3 absent shapes substituted:
                                                     (1 + 3, 32) BERT features at the noun's position
    coco/detections/train/{boxes,features}.hdf5      keyed by COCO_train2014_<12-digit id>
    flickr/{val,test}.txt, Sentences/, Annotations/, detections/{val,test}/   Flickr30k Entities format
Colour-shape pairs with (colour * 8 + shape) % 7 == 0 never appear in training images: test phrases include them.
    python -m tools.make_grounding_shapes --out=data/grounding_shapes      # 200 train / 20 val / 40 test images
"""

from __future__ import annotations

import json
import os

import numpy as np
from absl import app, flags

from official.core.file_io import atomic_directory
from official.data import flickr30k_entities
from official.data.region_features import write_region_features

FLAGS = flags.FLAGS
COLOURS = ("red", "green", "blue", "yellow", "purple", "orange")
SHAPES = ("square", "circle", "star", "heart", "cross", "ring", "diamond", "triangle")
SINGLE_PIECE = SHAPES[:7]
VOCAB = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "and", "next", "to", "with", "there", "is", ".",
         *COLOURS, *SINGLE_PIECE, "tri", "##angle")
TEMPLATES = (((), ("and",)), ((), ("next", "to")), (("there", "is"), ("with",)))  # words before / between the phrases
REGION_DIM, BERT = 64, dict(num_layers=2, num_heads=2, hidden_dim=32, intermediate_dim=64, max_sequence_length=32)
SIZE = 64
NEGATIVES = 3  # language-model substitutes per caption (7 single-piece shapes, at most 3 present: 4 always exist)


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output dataset root.")
    flags.DEFINE_integer("train", 200, "Training images (2 captions each, COCO captions format).")
    flags.DEFINE_integer("val", 20, "Validation images (2 sentences each, Flickr30k Entities format).")
    flags.DEFINE_integer("test", 40, "Test images (2 sentences each, Flickr30k Entities format).")
    flags.DEFINE_float("noise", 0.3, "Feature noise scale (signatures have unit norm x 2).")
    flags.DEFINE_integer("seed", 0, "Random seed (data and the BERT weights).")
    flags.DEFINE_bool("force", False, "Rewrite a complete set.")
    flags.mark_flag_as_required("out")


def held_out(colour: int, shape: int) -> bool:
    return (colour * len(SHAPES) + shape) % 7 == 0


def _image(rng, signatures, noise: float, train: bool, distractors: int = 3):
    """Objects [(colour, shape, box)] in distinct quadrants + boxes (N, 4) and features (N, 64) (background last)."""
    while True:
        k = int(rng.integers(2, 4))
        colours, shapes = rng.permutation(len(COLOURS))[:k], rng.permutation(len(SHAPES))[:k]
        if not train or not any(held_out(c, s) for c, s in zip(colours, shapes, strict=True)):
            break
    objects = []
    for (c, s), cell in zip(zip(colours, shapes, strict=True), rng.permutation(4)[:k], strict=True):
        w, h = rng.integers(10, 28, 2)
        x0 = (cell % 2) * 32 + int(rng.integers(0, 32 - w))
        y0 = (cell // 2) * 32 + int(rng.integers(0, 32 - h))
        objects.append((int(c), int(s), [x0, y0, x0 + int(w) - 1, y0 + int(h) - 1]))
    colour_sig, shape_sig = signatures
    feats = [colour_sig[c] + shape_sig[s] + noise * rng.normal(size=REGION_DIM) for c, s, _ in objects]
    boxes = [o[2] for o in objects]
    for _ in range(distractors):  # background detections: noise features, whole-image boxes (IoU < 0.2 with any object)
        feats.append(noise * rng.normal(size=REGION_DIM))
        boxes.append([0, 0, SIZE - 1, SIZE - 1])
    order = rng.permutation(len(boxes)).tolist()  # detections in no particular order
    return objects, np.asarray(boxes, np.float32)[order], np.asarray(feats, np.float32)[order]


def _phrase(c: int, s: int) -> list[str]:
    return ["a", COLOURS[c], SHAPES[s]]


def write_grounding_shapes(out: str, train: int = 200, val: int = 20, test: int = 40, noise: float = 0.3,
                           seed: int = 0) -> str:
    import keras

    from research.multimodal.info_ground import text

    rng = np.random.default_rng(seed)
    unit = rng.normal(size=(len(COLOURS) + len(SHAPES), REGION_DIM))
    unit = 2.0 * unit / np.linalg.norm(unit, axis=1, keepdims=True)
    signatures = (unit[:len(COLOURS)], unit[len(COLOURS):])
    with atomic_directory(out, f"grounding_shapes seed={seed} train={train} val={val} test={test}") as tmp:
        os.makedirs(os.path.join(tmp, "bert"))
        with open(os.path.join(tmp, "bert", "vocab.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(VOCAB) + "\n")
        keras.utils.set_random_seed(seed)
        bert = text.build_text_encoder(len(VOCAB), **BERT)
        bert.save_weights(os.path.join(tmp, "bert", "model.weights.h5"))
        tok = text.CaptionTokenizer(list(VOCAB), BERT["max_sequence_length"])
        _write_coco(tmp, train, rng, signatures, noise, tok, bert)
        for split, n, start in (("val", val, 1_000_000), ("test", test, 2_000_000)):
            _write_flickr(tmp, split, n, start, rng, signatures, noise)
    return out


def _features(tok, bert, captions: list[str]) -> np.ndarray:
    ids, mask, _ = tok.encode(captions)
    return np.asarray(bert.predict({"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": mask},
                                   verbose=0, batch_size=256)["sequence_output"])


def _write_coco(root: str, n: int, rng, signatures, noise: float, tok, bert) -> None:
    coco = os.path.join(root, "coco")
    os.makedirs(os.path.join(coco, "annotations"))
    images, annotations, nouns, regions, negatives, neg_captions = [], [], [], {}, {}, []
    for i in range(n):
        image_id = i + 1
        name = f"COCO_train2014_{image_id:012d}"
        objects, boxes, feats = _image(rng, signatures, noise, train=True)
        regions[name] = (boxes, feats)
        images.append({"id": image_id, "file_name": f"{name}.jpg", "width": SIZE, "height": SIZE})
        for j in range(2):
            a, b = rng.permutation(len(objects))[:2]
            before, between = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
            words = [*before, *_phrase(*objects[a][:2]), *between, *_phrase(*objects[b][:2])]
            caption = " ".join(words)
            cap_id = image_id * 10 + j
            annotations.append({"id": cap_id, "image_id": image_id, "caption": caption})
            pieces = tok.word_token_indices(caption)
            targets = [w for w, word in enumerate(words) if word in COLOURS or word in SHAPES]
            nouns.append({"image_id": image_id, "cap_id": cap_id, "token_ids": [p for w in targets for p in pieces[w]]})
            shape_words = [w for w, word in enumerate(words) if word in SINGLE_PIECE]
            if not shape_words:
                continue  # no single-piece noun: no negatives (neg_valid 0), as captions the authors found none for
            noun = shape_words[0]
            present = {SHAPES[o[1]] for o in objects}
            subs = [s for s in SINGLE_PIECE if s not in present]
            subs = [subs[k] for k in rng.permutation(len(subs))[:NEGATIVES]]
            negatives.setdefault(str(image_id), {})[str(cap_id)] = {"negs": {str(pieces[noun][0]): subs}}
            neg_captions.append((f"{image_id}_{cap_id}_{pieces[noun][0]}", pieces[noun][0],
                                 [caption] + [" ".join(words[:noun] + [s] + words[noun + 1:]) for s in subs]))
    _dump(os.path.join(coco, "annotations", "captions_train2014.json"), {"images": images, "annotations": annotations})
    _dump(os.path.join(coco, "annotations", "noun_adj_tokens_train.json"), nouns)
    _dump(os.path.join(coco, "bert_noun_negatives_train.json"), negatives)
    import h5py

    feats = _features(tok, bert, [c for _, _, caps in neg_captions for c in caps]) if neg_captions else None
    with h5py.File(os.path.join(coco, "bert_noun_negatives_train.h5py"), "w") as f:
        for k, (key, position, caps) in enumerate(neg_captions):
            f.create_dataset(key, data=feats[k * len(caps):(k + 1) * len(caps), position].astype(np.float32))
    write_region_features(os.path.join(coco, "detections", "train"), regions)


def _write_flickr(root: str, split: str, n: int, start: int, rng, signatures, noise: float) -> None:
    flickr = os.path.join(root, "flickr")
    for sub in ("Sentences", "Annotations"):
        os.makedirs(os.path.join(flickr, sub), exist_ok=True)
    ids, regions = [], {}
    for i in range(n):
        image_id = str(start + i)
        objects, boxes, feats = _image(rng, signatures, noise, train=False)
        regions[image_id] = (boxes, feats)
        ids.append(image_id)
        lines = []
        for _ in range(2):
            a, b = rng.permutation(len(objects))[:2]
            before, between = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
            # the article stays outside the bracket: a phrase is its colour and shape words
            items = [*before, "a", (a + 1, "other", _phrase(*objects[a][:2])[1:]), *between, "a",
                     (b + 1, "other", _phrase(*objects[b][:2])[1:])]
            lines.append(flickr30k_entities.write_sentence(items))
        with open(os.path.join(flickr, "Sentences", f"{image_id}.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        flickr30k_entities.write_annotation(os.path.join(flickr, "Annotations", f"{image_id}.xml"), SIZE, SIZE,
                                            {str(k + 1): [o[2]] for k, o in enumerate(objects)})
    with open(os.path.join(flickr, f"{split}.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(ids) + "\n")
    write_region_features(os.path.join(flickr, "detections", split), regions)


def _dump(path: str, payload) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f)


def main(argv: list[str]) -> None:
    del argv
    marker = os.path.join(FLAGS.out, ".complete")
    if os.path.exists(marker) and not FLAGS.force:
        print(f"{FLAGS.out}: complete set present (--force rewrites it)")
        return
    write_grounding_shapes(FLAGS.out, FLAGS.train, FLAGS.val, FLAGS.test, FLAGS.noise, FLAGS.seed)
    print(f"wrote {FLAGS.out}")


if __name__ == "__main__":
    define_flags()
    app.run(main)
