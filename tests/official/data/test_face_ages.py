"""Face-age readers on fixtures written in the released formats: UTKFace names, CACD2000 names / lists,
the MORPH CSV; bad names, rows and files are counted and skipped; wrong paths / columns are one-line errors
naming the file and field; hashed splits are disjoint (by person for CACD). And the generated faces age."""

import os

import numpy as np
import pytest

from official.data import face_ages, synthetic_faces
from official.data.imagefolder import DatasetError


@pytest.fixture(scope="module")
def utk(tmp_path_factory):
    """The spec's fixture: 12 64x64 faces in UTKFace names, ages 1..90, 3 people; plus a name without the
    race field (kept), a name that does not parse, and a truncated JPEG."""
    root = str(tmp_path_factory.mktemp("utk"))
    rng = np.random.default_rng(0)
    ages = [1, 9, 17, 25, 33, 41, 49, 57, 65, 73, 81, 90]
    for i, age in enumerate(ages):
        synthetic_faces.draw_face(synthetic_faces.identity_traits(i % 3), age, 64, rng).save(
            os.path.join(root, synthetic_faces.file_name("utkface", age, i % 3, i)), quality=95)
    synthetic_faces.draw_face(synthetic_faces.identity_traits(0), 39, 64, rng).save(
        os.path.join(root, "39_1_20170116174525125.jpg.chip.jpg"))
    synthetic_faces.draw_face(synthetic_faces.identity_traits(0), 5, 64, rng).save(os.path.join(root, "face_x.jpg"))
    with open(os.path.join(root, "50_0_1_20170109150557335.jpg.chip.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 truncated")
    return root, ages


def test_utkface_names_parse_skip_and_decode(utk):
    root, ages = utk
    records = face_ages.read_records("utkface", root)
    assert records.skipped == 1  # face_x.jpg
    assert len(records) == 14 and set(records.identities) == {-1}
    assert sorted(records.ages) == sorted([*ages, 39.0, 50.0])
    from official.data import image_decode

    counter = image_decode.SkipCounter()
    batches = list(face_ages.face_dataset(records, False, 5, 32, counter=counter))
    images = np.concatenate([b["image"].numpy() for b in batches])
    got = np.concatenate([b["age"].numpy() for b in batches])
    assert images.shape == (13, 32, 32, 3) and images.min() >= -1 and images.max() <= 1
    assert counter.count == 1  # the truncated JPEG
    assert sorted(got.tolist()) == sorted([*ages, 39.0])
    # ages stay attached to their files: the generated hair greys with age (brighter top rows when old)
    top = images[:, 4:9, 12:20].mean(axis=(1, 2, 3))
    assert np.corrcoef(got[got >= 20], top[got >= 20])[0, 1] > 0.8
    train = next(iter(face_ages.face_dataset(records, True, 4, 32, seed=0)))
    assert train["image"].shape == (4, 32, 32, 3) and train["identity"].numpy().tolist() == [-1] * 4


def test_splits_are_disjoint_and_cover(utk):
    root, _ = utk
    every = face_ages.read_records("utkface", root, split="all")
    train = face_ages.read_records("utkface", root, split="train", test_fraction=0.3)
    test = face_ages.read_records("utkface", root, split="test", test_fraction=0.3)
    assert not set(train.paths) & set(test.paths) and sorted(train.paths + test.paths) == sorted(every.paths)
    assert 0 < len(test) < len(every)


def test_cacd_names_list_and_identity_split(tmp_path):
    names = ["14_Aaron_Johnson_0001.jpg", "15_Aaron_Johnson_0002.jpg", "62_Robert_De_Niro_0001.jpg",
             "23_Emma_Watson_0004.jpg", "bad_name.jpg"]
    with open(tmp_path / "list.txt", "w") as f:
        f.write("\n".join(names) + "\n")
    records = face_ages.cacd_records(str(tmp_path), str(tmp_path / "list.txt"))
    assert records.skipped == 1 and records.ages == [14.0, 15.0, 62.0, 23.0]
    assert records.identities == [0, 0, 2, 1]  # Aaron_Johnson, Emma_Watson, Robert_De_Niro sorted
    faces = tmp_path / "faces"
    synthetic_faces.write_faces(str(faces), "cacd", identities=10, per_identity=3, size=32)
    train = face_ages.read_records("cacd", str(faces), split="train")
    test = face_ages.read_records("cacd", str(faces), split="test")
    assert len(train) + len(test) == 30 and not set(train.identities) & set(test.identities)
    with pytest.raises(DatasetError, match=r"nothing\.txt: list file not found \(data\.list_file\)"):
        face_ages.read_records("cacd", str(faces), str(tmp_path / "nothing.txt"))


def test_morph_csv_rows_and_errors(tmp_path):
    csv_path = tmp_path / "morph.csv"
    csv_path.write_text("id_num,picture_num,dob,doa,race,gender,age,photo\n"
                        "003316,1,1/1/1960,1/1/2006,B,M,46,Album2/003316_1M46.JPG\n"
                        "003316,2,1/1/1960,1/1/2008,B,M,48,Album2/003316_2M48.JPG\n"
                        "000123,1,1/1/1980,1/1/2000,W,F,,Album2/000123_1F20.JPG\n"
                        "000007,1,1/1/1990,1/1/2007,W,F,17,Album2/000007_1F17.JPG\n")
    records = face_ages.morph_records(str(tmp_path), str(csv_path))
    assert records.skipped == 1 and records.ages == [46.0, 48.0, 17.0] and records.identities == [1, 1, 0]
    assert records.paths[0] == os.path.join(str(tmp_path), "Album2/003316_1M46.JPG")
    (tmp_path / "bad.csv").write_text("id,file,age\n1,a.jpg,3\n")
    with pytest.raises(DatasetError, match=r"bad\.csv: no column 'photo' for the file"):
        face_ages.morph_records(str(tmp_path), str(tmp_path / "bad.csv"))
    with pytest.raises(DatasetError, match=r"missing: image folder not found \(data\.path\)"):
        face_ages.read_records("utkface", str(tmp_path / "missing"))
    with pytest.raises(DatasetError, match="source: expected one of utkface, cacd, morph"):
        face_ages.read_records("fgnet", str(tmp_path))
