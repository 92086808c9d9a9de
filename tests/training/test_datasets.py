import json
from pathlib import Path

import pytest

from pipeline.errors import DataError
from pipeline.training.datasets import check_group_split, load_clips


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_manifest_with_clips_folder_labels_and_groups(tmp_path: Path):
    _touch(tmp_path / "clips" / "a.mp4")
    _touch(tmp_path / "clips" / "b.mp4")
    (tmp_path / "manifest.csv").write_text(
        "file,label,split,group,method\na.mp4,REAL,train,g1,original\nb.mp4,FAKE,val,g2,Wav2Lip\n"
    )
    clips = load_clips(tmp_path)
    assert [(c.path.name, c.label, c.split, c.group, c.method) for c in clips] == [
        ("a.mp4", 0, "train", "g1", "original"),
        ("b.mp4", 1, "val", "g2", "Wav2Lip"),
    ]
    assert clips[0].path.exists()


def test_manifest_without_split_splits_by_group(tmp_path: Path):
    rows = "".join(f"c{i}.mp4,{'FAKE' if i % 2 else 'REAL'},grp{i // 4}\n" for i in range(40))
    (tmp_path / "m.csv").write_text("file,label,group\n" + rows)
    clips = load_clips(tmp_path / "m.csv")
    check_group_split(clips)  # never raises: a group always lands on one side
    assert {c.split for c in clips} == {"train", "val"}


def test_bad_manifest_is_a_clear_error(tmp_path: Path):
    (tmp_path / "m.csv").write_text("name,kind\na,b\n")
    with pytest.raises(DataError, match="file,label"):
        load_clips(tmp_path / "m.csv")
    (tmp_path / "m2.csv").write_text("file,label\na.mp4,MAYBE\n")
    with pytest.raises(DataError, match="MAYBE"):
        load_clips(tmp_path / "m2.csv")


def test_leaking_group_is_refused(tmp_path: Path):
    (tmp_path / "m.csv").write_text("file,label,split,group\na.mp4,REAL,train,g\nb.mp4,FAKE,val,g\n")
    with pytest.raises(DataError, match="both train and val"):
        check_group_split(load_clips(tmp_path / "m.csv"))


def test_faceforensics_layout_groups_source_and_target(tmp_path: Path):
    _touch(tmp_path / "original_sequences/youtube/c23/videos/000.mp4")
    _touch(tmp_path / "original_sequences/youtube/c23/videos/003.mp4")
    _touch(tmp_path / "original_sequences/youtube/c23/videos/777.mp4")
    _touch(tmp_path / "manipulated_sequences/Deepfakes/c23/videos/000_003.mp4")
    _touch(tmp_path / "manipulated_sequences/Face2Face/c23/videos/003_000.mp4")
    clips = {c.path.name + c.method: c for c in load_clips(tmp_path)}
    assert clips["000_003.mp4Deepfakes"].label == 1
    assert clips["000.mp4original"].label == 0
    assert clips["000.mp4original"].group == clips["003.mp4original"].group == clips["003_000.mp4Face2Face"].group
    assert clips["777.mp4original"].group != clips["000.mp4original"].group
    check_group_split(list(clips.values()))


def test_dfdc_metadata_layout(tmp_path: Path):
    part = tmp_path / "dfdc_train_part_0"
    part.mkdir()
    (part / "metadata.json").write_text(
        json.dumps({"r.mp4": {"label": "REAL"}, "f.mp4": {"label": "FAKE", "original": "r.mp4"}})
    )
    clips = {c.path.name: c for c in load_clips(tmp_path)}
    assert clips["f.mp4"].label == 1 and clips["r.mp4"].label == 0
    assert clips["f.mp4"].group == clips["r.mp4"].group


def test_missing_data_is_a_clear_error(tmp_path: Path):
    with pytest.raises(DataError, match="no such"):
        load_clips(tmp_path / "absent")
    with pytest.raises(DataError, match="no manifest"):
        load_clips(tmp_path)
