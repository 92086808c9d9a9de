"""How small a real face can be before the default detector loses it, with and without tiles.

Why: wide shots (a panel, a street interview, a DFDC-style room) show faces at 6-12% of the
frame height. Shrunk to BlazeFace's square input such a face is a few pixels, so the two
full-frame passes miss it and the clip abstains. `BlazeFaceAutoDetector` then searches
overlapping tiles; this measures what that buys on the real faces of ../shared/data.

For one frame of every clip (the middle one) whose face the detector finds, the frame is
shrunk so the face is a given share of the height and pasted in the centre of a grey frame of
the original size, a picture-in-picture wide shot. A hit is a box overlapping the shrunk
original box (IoU > 0.3); any other box is a false one. Rows compare the full-frame passes
alone (before) with the whole detector (after, tiles included), and give the median time per
frame and the cost on a faceless frame, where every pass runs.

Usage::

    python -m benchmarks.small_faces --data ../shared/data --out artifacts/small_faces.csv
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

import numpy as np

from pipeline.faces.blazeface import BlazeFaceAutoDetector
from pipeline.faces.registry import create_detector
from pipeline.faces.types import Box
from pipeline.training.transcode import WIDE_SHOT_BACKGROUND, picture_in_picture
from pipeline.video import iter_frames, probe_video

FACE_SHARES = (0.06, 0.08, 0.10, 0.12, 0.15)
HIT_IOU = 0.3


def middle_frame(path: Path) -> np.ndarray | None:
    info = probe_video(path)
    frame = next(iter_frames(path, [info.frame_count // 2], info.fps), None)
    return None if frame is None else frame.rgb


def wide_shot(frame: np.ndarray, box: Box, share: float) -> tuple[np.ndarray, Box] | None:
    """The frame shrunk so its face is `share` of the height, centred on grey; None if it would grow."""
    scale = share * frame.shape[0] / box.h
    if scale >= 1.0:
        return None
    canvas, x0, y0 = picture_in_picture(frame, scale, frame.shape[:2])
    return canvas, Box(box.x * scale + x0, box.y * scale + y0, box.w * scale, box.h * scale)


def timed(find, frame: np.ndarray) -> tuple[list[Box], float]:
    start = time.perf_counter()
    boxes = find(frame)
    return boxes, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    from pipeline.training.datasets import load_clips

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("artifacts/small_faces.csv"))
    parser.add_argument("--limit", type=int, default=0, help="first N clips only (smoke runs)")
    args = parser.parse_args(argv)
    if not (args.data / "manifest.csv").is_file():
        print(f"skipped: {args.data / 'manifest.csv'} not found")
        return 0

    detector = create_detector("blazeface_auto")
    assert isinstance(detector, BlazeFaceAutoDetector)
    before = detector.detect_full_frame

    clips = load_clips(args.data)[: args.limit or None]
    tallies = {
        (share, name): {"hits": 0, "false": 0, "seconds": []} for share in FACE_SHARES for name in ("before", "after")
    }
    frames_used = 0
    faceless_seconds: dict[str, list[float]] = {"before": [], "after": []}
    for clip in clips:
        frame = middle_frame(Path(clip.path))
        if frame is None:
            continue
        found = detector.detect(frame)
        if not found:
            continue
        frames_used += 1
        for name, find in (("before", before), ("after", detector.detect)):
            faceless_seconds[name].append(timed(find, np.full_like(frame, WIDE_SHOT_BACKGROUND))[1])
        for share in FACE_SHARES:
            shot = wide_shot(frame, found[0], share)
            if shot is None:
                continue
            canvas, expected = shot
            for name, find in (("before", before), ("after", detector.detect)):
                boxes, seconds = timed(find, canvas)
                tally = tallies[share, name]
                tally["seconds"].append(seconds)
                hit = any(b.iou(expected) > HIT_IOU for b in boxes)
                tally["hits"] += hit
                tally["false"] += sum(b.iou(expected) <= HIT_IOU for b in boxes)

    rows = []
    for (share, name), tally in tallies.items():
        seen = len(tally["seconds"])
        rows.append({
            "face_share": share,
            "detector": f"blazeface_auto {name}",
            "frames": seen,
            "found_pct": round(100 * tally["hits"] / seen, 1) if seen else None,
            "false_boxes": tally["false"],
            "median_ms": round(1000 * statistics.median(tally["seconds"]), 1) if seen else None,
        })  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{frames_used} clips with a face in their middle frame, of {len(clips)}")
    print("| face height / frame height | passes | frames | found | false boxes | median ms/frame |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['face_share']:.2f} | {row['detector']} | {row['frames']} | {row['found_pct']}% | "
            f"{row['false_boxes']} | {row['median_ms']} |"
        )
    for name, seconds in faceless_seconds.items():
        if seconds:
            print(f"faceless frame, {name}: median {1000 * statistics.median(seconds):.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
