"""`make bench`'s batch row: clips per second of `batch` with 1 and 2 local workers.

Scores the same 20 generated clips (4-s 720p H.264, each with its own background so no two
files are alike) once per worker count, on the local process pool. Two rates per run:
end to end (worker start and model load included, what a user waits for) and steady (clips
finished after every worker had loaded its model, over that time), and the scaling efficiency
(rate with N workers / (N x rate with 1)).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from pipeline.batch.local import LocalPool
from pipeline.batch.work import Task
from pipeline.settings import Settings
from pipeline.training.transcode import Encoding, write_h264

WIDTH, HEIGHT, FPS, SECONDS, CLIPS = 1280, 720, 30.0, 4, 20


def clip_frames(seed: int):
    from skimage import data as skdata

    face = cv2.resize(skdata.astronaut(), (400, 400), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(seed)
    background = cv2.GaussianBlur(rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8), (0, 0), 3)
    for i in range(int(FPS * SECONDS)):
        frame = background.copy()
        x, y = int(300 + 200 * np.sin((i + seed * 7) / 40)), int(150 + 40 * np.cos(i / 25))
        frame[y : y + 400, x : x + 400] = face
        yield frame


def make_clips(folder: Path, count: int) -> list[Path]:
    return [write_h264(folder / f"clip_{i:02d}.mp4", clip_frames(i), FPS, Encoding(crf=23)) for i in range(count)]


def run(paths: list[Path], workers: int, settings: Settings) -> dict[str, float]:
    """Rates of one batch run; every clip must get a verdict (an error line fails the bench)."""
    pool = LocalPool(settings, workers)
    started = time.time()
    finished: list[float] = []
    for record in pool.results(Task(str(p), str(i)) for i, p in enumerate(paths)):
        if record["verdict"] == "error":
            raise SystemExit(f"bench clip failed: {record['error']}")
        finished.append(time.time())
    ready = max(pool.ready_times())
    after = [t for t in finished if t > ready]
    return {
        "end_to_end": len(paths) / (finished[-1] - started),
        "steady": len(after) / (finished[-1] - ready) if after else float("nan"),
        "load_s": ready - started,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=CLIPS)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_clips(Path(tmp), args.clips)
        rows = {workers: run(paths, workers, settings) for workers in args.workers}
    base = rows[args.workers[0]]
    print(f"\nbatch, {args.clips} generated {SECONDS}-s 720p H.264 clips, local process pool")
    print("| workers | clips/s end to end | clips/s steady | worker start + model load | scaling (steady) |")
    print("|---|---|---|---|---|")
    for workers, row in rows.items():
        efficiency = row["steady"] / (workers / args.workers[0] * base["steady"])
        print(
            f"| {workers} | {row['end_to_end']:.2f} | {row['steady']:.2f} | {row['load_s']:.1f} s | "
            f"{row['steady'] / base['steady']:.2f}x ({100 * efficiency:.0f}% efficiency) |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
