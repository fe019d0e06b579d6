"""Flickr30k Entities on disk (BryanPlummer/flickr30k_entities annotations.zip): phrase grounding test data.

    ROOT/<split>.txt                 image ids, one per line (train / val / test)
    ROOT/Sentences/<image_id>.txt    one caption per line, phrases bracketed: `[/EN#18/people A man] in ...`
    ROOT/Annotations/<image_id>.xml  PASCAL-style: <size>, <object><name>18</name><bndbox><xmin>..</bndbox>
                                     (or <nobndbox>1</nobndbox> / <scene>1</scene>) per entity
Parsed as the authors' data/flickr/flickr30k_entities_utils.py facts: a sentence -> its words (brackets and
tags removed) and phrases {phrase, phrase_id, first_word_index, phrase_type}; boxes are 1-based inclusive
pixels, stored 0-based (each coordinate - 1). A missing file is a one-line PathNotFoundError; a malformed XML
or a sentence with an unclosed bracket is a Flickr30kFormatError naming the file and the field.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

from official.core.errors import PathNotFoundError, UserError


class Flickr30kFormatError(UserError, ValueError):
    """A Flickr30k Entities file that does not follow the layout; names the file and the field."""


def read_split(path: str) -> list[str]:
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: Flickr30k Entities split file does not exist")
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def parse_sentence(line: str, where: str = "sentence") -> dict:
    """`[/EN#1/people A man] walks` -> {"sentence": "A man walks", "phrases": [{first_word_index 0, ...}]}."""
    words, phrases, current = [], [], None
    for token in line.split():
        if current is None and token.startswith("["):
            parts = token[1:].split("/")
            if len(parts) < 3 or not parts[1].startswith("EN#"):
                raise Flickr30kFormatError(f"{where}: phrase tag {token!r} is not [/EN#<id>/<type>")
            current = {"first_word_index": len(words), "phrase_id": parts[1][3:], "phrase_type": parts[2:], "words": []}
            continue
        if current is not None:
            closes = token.endswith("]")
            word = token[:-1] if closes else token
            current["words"].append(word)
            words.append(word)
            if closes:
                phrases.append({"first_word_index": current["first_word_index"], "phrase": " ".join(current["words"]),
                                "phrase_id": current["phrase_id"], "phrase_type": current["phrase_type"]})
                current = None
        else:
            words.append(token)
    if current is not None:
        raise Flickr30kFormatError(f"{where}: phrase EN#{current['phrase_id']} has no closing ']'")
    return {"sentence": " ".join(words), "phrases": phrases}


def read_sentences(path: str) -> list[dict]:
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: Flickr30k Entities sentence file does not exist")
    with open(path, encoding="utf-8") as f:
        return [parse_sentence(line, f"{path}:{i + 1}") for i, line in enumerate(f.read().split("\n")) if line.strip()]


def read_annotations(path: str) -> dict:
    """{"boxes": {entity_id: [[x1, y1, x2, y2], ...]}, "scene": [...], "nobox": [...], "width", "height"}."""
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: Flickr30k Entities annotation file does not exist")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise Flickr30kFormatError(f"{path}: not valid XML ({err})") from err
    size = root.find("size")
    if size is None:
        raise Flickr30kFormatError(f"{path}: no <size> element")
    info: dict = {"boxes": {}, "scene": [], "nobox": []}
    for element in size:
        info[element.tag] = int(element.text)
    for obj in root.findall("object"):
        box = obj.find("bndbox")
        for name in obj.findall("name"):
            if box is not None:
                try:
                    coords = [int(box.find(k).text) - 1 for k in ("xmin", "ymin", "xmax", "ymax")]
                except (AttributeError, TypeError, ValueError) as err:
                    raise Flickr30kFormatError(f"{path}: object '{name.text}' has a bad <bndbox> ({err})") from err
                info["boxes"].setdefault(name.text, []).append(coords)
            else:
                if int(getattr(obj.find("nobndbox"), "text", 0) or 0) > 0:
                    info["nobox"].append(name.text)
                if int(getattr(obj.find("scene"), "text", 0) or 0) > 0:
                    info["scene"].append(name.text)
    return info


def write_sentence(phrases_and_words: list) -> str:
    """Items: plain words (str) or (entity_id, type, [words]) phrases -> one Sentences/<id>.txt line."""
    out = []
    for item in phrases_and_words:
        if isinstance(item, str):
            out.append(item)
        else:
            entity, kind, words = item
            out.append(f"[/EN#{entity}/{kind} " + " ".join(words) + "]")
    return " ".join(out)


def write_annotation(path: str, width: int, height: int, boxes: dict[str, list[list[int]]]) -> None:
    """Annotations/<id>.xml with 0-based boxes written 1-based, as the release stores them."""
    objects = "".join(
        f"<object><name>{entity}</name><bndbox><xmin>{b[0] + 1}</xmin><ymin>{b[1] + 1}</ymin>"
        f"<xmax>{b[2] + 1}</xmax><ymax>{b[3] + 1}</ymax></bndbox></object>"
        for entity, entity_boxes in boxes.items() for b in entity_boxes)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"<annotation><size><width>{width}</width><height>{height}</height><depth>3</depth></size>"
                f"{objects}</annotation>")
