"""`make bench`: how fast a clip is scored, next to how fast it merely decodes.

Scores a generated 10-s 720p clip (plus any clips given on the command line) several
times with the model loaded once, and prints the median of each stage. The baseline
is the decode-only time of the same sampled frames, measured in the same run, so the
ratio total / decode-only does not depend on how fast this machine happens to be.
Peak memory is read from a separate `python -m pipeline score` process.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.errors import PipelineError  # noqa: E402
from pipeline.scoring import Scorer  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.transcode import Encoding, write_h264  # noqa: E402
from pipeline.video import iter_frames, probe_video, sample_indices  # noqa: E402

WIDTH, HEIGHT, FPS, SECONDS = 1280, 720, 30.0, 10


def talking_head_frames():
    """A 10-s 720p talking-head stand-in: a face drifting over a textured background."""
    from skimage import data as skdata

    face = cv2.resize(skdata.astronaut(), (420, 420), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8), (0, 0), 3)
    for i in range(int(FPS * SECONDS)):
        frame = background.copy()
        x = int(300 + 200 * np.sin(i / 40))
        y = int(150 + 40 * np.cos(i / 25))
        frame[y : y + 420, x : x + 420] = face
        yield frame


def make_clips(folder: Path) -> list[Path]:
    """The same content twice: H.264 (what phones and platforms deliver) and MPEG-4 Part 2."""
    h264 = write_h264(folder / "generated_10s_720p_h264.mp4", talking_head_frames(), FPS, Encoding(crf=23))
    mp4v = folder / "generated_10s_720p_mp4v.mp4"
    writer = cv2.VideoWriter(str(mp4v), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    for frame in talking_head_frames():
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return [h264, mp4v]


def decode_only(path: Path, settings: Settings) -> float:
    """Seconds to decode the same sampled frames that scoring decodes (the baseline)."""
    started = time.perf_counter()
    info = probe_video(path, settings)
    indices = sample_indices(info.frame_count, settings.frames, fps=info.fps, sample_fps=settings.sample_fps)
    for _ in iter_frames(path, indices, info.fps):
        pass
    return time.perf_counter() - started


def peak_memory_mb(path: Path) -> float:
    """Peak resident memory of a separate CLI process scoring `path`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(
        [sys.executable, "-m", "pipeline", "score", "--json", str(path)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(after, before) / 1024.0


def bench_clip(scorer: Scorer, path: Path, repeats: int) -> dict[str, float]:
    runs: dict[str, list[float]] = {"decode": [], "detect": [], "model": [], "total": [], "decode_only": []}
    for _ in range(repeats):
        runs["decode_only"].append(decode_only(path, scorer.settings))
        timings = scorer.score(path).timings
        for stage in ("decode", "detect", "model", "total"):
            runs[stage].append(getattr(timings, stage))
    medians = {stage: statistics.median(values) for stage, values in runs.items()}
    medians["ratio"] = medians["total"] / medians["decode_only"]
    return medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path, help="more clips to benchmark")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--detector", help="face detector (default: the settings' default)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocess")
    parser.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    args = parser.parse_args()

    settings = Settings().with_overrides(detector=args.detector, model_path=args.model)
    started = time.perf_counter()
    scorer = Scorer.load(settings)
    load_s = time.perf_counter() - started
    print(f"model {scorer.model.info.name} {scorer.model.info.version} loaded in {load_s:.2f} s; "
          f"detector {settings.detector}; {settings.frames} frames; cv2 threads {cv2.getNumThreads()}; "
          f"{os.cpu_count()} CPUs")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        generated = make_clips(Path(tmp))
        clips = [*generated, *args.clips]
        print(f"\nmedians over {args.repeats} runs, seconds")
        print("| clip | resolution | decode | detect | model | total | decode-only | total / decode-only |")
        print("|---|---|---|---|---|---|---|---|")
        for clip in clips:
            try:
                info = probe_video(clip, settings)
            except PipelineError as error:
                print(f"| {clip.name} | skipped: {error} |")
                continue
            m = bench_clip(scorer, clip, args.repeats)
            print(f"| {clip.name} | {info.resolution} | {m['decode']:.3f} | {m['detect']:.3f} | {m['model']:.3f} "
                  f"| {m['total']:.3f} | {m['decode_only']:.3f} | {m['ratio']:.2f}x |")  # fmt: skip
        if not args.no_memory:
            peak = peak_memory_mb(generated[0])
            print(f"\npeak memory of `python -m pipeline score` on the generated clip: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
