"""Every person: tracks of several faces, main one first, glimpses left out."""

from __future__ import annotations

from pipeline.faces.people import build_tracks, other_people
from pipeline.faces.track import select_main_track
from pipeline.faces.types import Box


def two_people(frames: int = 8) -> list[list[Box]]:
    left = [Box(50 + 2 * i, 100, 100, 100) for i in range(frames)]
    right = [Box(400 - 2 * i, 120, 80, 80) for i in range(frames)]
    detections = [[left[i], right[i]] for i in range(frames)]
    detections[3] = [left[3]]  # the second person looks away once
    return detections


def test_the_other_person_is_found_beside_the_main_face() -> None:
    detections = two_people()
    main = select_main_track(detections)
    assert all(box is not None and box.x < 200 for box in main)
    others = other_people(detections, main, max_people=4, min_frames=3)
    assert len(others) == 1
    assert others[0][3] is None and sum(box is not None for box in others[0]) == 7
    assert all(box is None or box.x > 300 for box in others[0])


def test_the_main_face_where_it_was_missed_is_not_another_person() -> None:
    detections = two_people()
    main = select_main_track(detections)
    main[5] = None  # the main track lost its face here, whole-frame detection still has it
    assert len(other_people(detections, main, max_people=4, min_frames=1)) == 1


def test_a_glimpsed_face_is_not_a_person() -> None:
    detections = two_people()
    detections[5] = [*detections[5], Box(600, 10, 60, 60)]
    main = select_main_track(detections)
    assert len(other_people(detections, main, max_people=4, min_frames=3)) == 1


def test_max_people_caps_the_list() -> None:
    detections = [[Box(100 * k, 50, 60, 60 - k) for k in range(7)] for _ in range(6)]
    assert len(build_tracks(detections)) == 7
    main = select_main_track(detections)
    assert len(other_people(detections, main, max_people=4, min_frames=3)) == 4
    assert other_people(detections, main, max_people=0, min_frames=3) == []


def test_no_faces_no_people() -> None:
    assert other_people([[], []], [None, None], max_people=4, min_frames=1) == []
