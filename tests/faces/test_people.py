"""Every person: tracks of several faces, main one first, glimpses left out."""

from __future__ import annotations

from pipeline.faces.people import build_tracks, merge_detections, select_people
from pipeline.faces.track import select_main_track
from pipeline.faces.types import Box


def two_people(frames: int = 8) -> list[list[Box]]:
    left = [Box(50 + 2 * i, 100, 100, 100) for i in range(frames)]
    right = [Box(400 - 2 * i, 120, 80, 80) for i in range(frames)]
    detections = [[left[i], right[i]] for i in range(frames)]
    detections[3] = [left[3]]  # the second person looks away once
    return detections


def test_two_people_become_two_tracks_main_first() -> None:
    people = select_people(two_people(), max_people=5, min_frames=3)
    assert len(people) == 2
    assert all(box is not None and box.x < 200 for box in people[0])
    assert people[1][3] is None and sum(box is not None for box in people[1]) == 7
    assert people[0] == select_main_track(two_people())


def test_a_glimpsed_face_is_not_a_person() -> None:
    detections = two_people()
    detections[5] = [*detections[5], Box(600, 10, 60, 60)]
    assert len(select_people(detections, max_people=5, min_frames=3)) == 2


def test_max_people_caps_the_list() -> None:
    frames = 6
    detections = [[Box(100 * k, 50, 60, 60) for k in range(7)] for _ in range(frames)]
    assert len(build_tracks(detections)) == 7
    assert len(select_people(detections, max_people=5, min_frames=3)) == 5
    assert len(select_people(detections, max_people=1, min_frames=3)) == 1


def test_no_faces_no_people() -> None:
    assert select_people([[], []], max_people=5, min_frames=1) == []


def test_merge_keeps_new_faces_only() -> None:
    kept = [Box(100, 100, 80, 80)]
    merged = merge_detections(kept, [Box(102, 101, 80, 80), Box(400, 100, 80, 80)])
    assert merged == [kept[0], Box(400, 100, 80, 80)]
