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

from pipeline.errors import PipelineError
from pipeline.scoring.scorer import Scorer
from pipeline.settings import Settings
from pipeline.training.transcode import Encoding, write_h264
from pipeline.video import iter_frames, probe_video, sample_indices

REPO = Path(__file__).resolve().parent.parent

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


def fresh_process(path: Path) -> tuple[float, float, bool]:
    """A separate `python -m pipeline score` process on `path`: seconds from start to its
    result, its peak resident memory in MB, and whether it imported TensorFlow."""
    code = (
        "import runpy, sys; sys.argv = ['dfd', 'score', '--json', sys.argv[1]]\n"
        "try:\n    runpy.run_module('pipeline', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('tensorflow' in sys.modules, file=sys.stderr)"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(after, before) / 1024.0, done.stderr.strip().endswith("True")


def reference_scorer(settings: Settings) -> Scorer:
    """The same model and detector on the runtimes scoring used before TFLite: the Keras
    network and OpenCV's DNN module for BlazeFace (same features and boxes, more CPU)."""
    from pipeline.model.storage import load_detector

    shipped = Scorer.load(settings)
    keras_model = load_detector(shipped.settings.model_path, shipped.settings)
    keras_model.use_keras_encoder()
    scorer = Scorer(shipped.settings, keras_model, shipped.detector)
    if hasattr(scorer.detector, "use_runtime"):
        scorer.detector.use_runtime("opencv")
    return scorer


def runtimes(scorer: Scorer) -> str:
    network = "LiteRT" if type(scorer.model).__name__ == "LiteModel" else "Keras"
    detector = getattr(scorer.detector, "runtime", "n/a")
    return f"network {network}, encoder {scorer.model.encoder_status.runtime}, detector {detector}"


def bench_clip(scorers: dict[str, Scorer], path: Path, repeats: int) -> dict[str, dict[str, float]]:
    """Medians per scorer; every repeat runs decode-only and each scorer back to back, so a
    change in machine load hits all of them alike."""
    stages = ("decode", "detect", "model", "total")
    runs: dict[str, dict[str, list[float]]] = {name: {s: [] for s in stages} for name in scorers}
    decode_only_runs: list[float] = []
    for _ in range(repeats):
        decode_only_runs.append(decode_only(path, next(iter(scorers.values())).settings))
        for name, scorer in scorers.items():
            timings = scorer.score(path).timings
            for stage in stages:
                runs[name][stage].append(getattr(timings, stage))
    baseline = statistics.median(decode_only_runs)
    medians: dict[str, dict[str, float]] = {}
    for name in scorers:
        medians[name] = {stage: statistics.median(values) for stage, values in runs[name].items()}
        medians[name]["decode_only"] = baseline
        medians[name]["ratio"] = medians[name]["total"] / baseline
    return medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path, help="more clips to benchmark")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--detector", help="face detector (default: the settings' default)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocess")
    parser.add_argument("--no-reference", action="store_true", help="skip the Keras + OpenCV DNN reference rows")
    parser.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    args = parser.parse_args()

    settings = Settings().with_overrides(detector=args.detector, model_path=args.model)
    started = time.perf_counter()
    scorer = Scorer.load(settings)
    load_s = time.perf_counter() - started
    scorers = {"shipped": scorer}
    if not args.no_reference:
        scorers["reference"] = reference_scorer(settings)
    print(f"model {scorer.model.info.name} {scorer.model.info.version} loaded in {load_s:.2f} s; "
          f"detector {settings.detector}; {settings.frames} frames; cv2 threads {cv2.getNumThreads()}; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    for name, each in scorers.items():
        print(f"{name}: {runtimes(each)}")

    with tempfile.TemporaryDirectory() as tmp:
        generated = make_clips(Path(tmp))
        clips = [*generated, *args.clips]
        print(f"\nmedians over {args.repeats} runs, seconds; decode-only and every runtime measured in each run")
        print("| clip | runtimes | resolution | decode | detect | model | total | decode-only | total / decode-only |")
        print("|---|---|---|---|---|---|---|---|---|")
        for clip in clips:
            try:
                info = probe_video(clip, settings)
            except PipelineError as error:
                print(f"| {clip.name} | skipped: {error} |")
                continue
            for name, m in bench_clip(scorers, clip, args.repeats).items():
                stages = " | ".join(f"{m[key]:.3f}" for key in ("decode", "detect", "model", "total", "decode_only"))
                print(f"| {clip.name} | {name} | {info.resolution} | {stages} | {m['ratio']:.2f}x |")
        if not args.no_memory:
            clip = generated[0]
            # In process, a result is what `Scorer.score` returns: the stages above plus the evidence
            # read after them (provenance, keyframes); the fresh process is timed to the same result.
            walls = []
            for _ in range(3):
                began = time.perf_counter()
                scorer.score(clip)
                walls.append(time.perf_counter() - began)
            in_process = statistics.median(walls)
            seconds, peak, tensorflow = fresh_process(clip)
            print(
                f"\nfresh `python -m pipeline score` process on {clip.name}: {seconds:.2f} s from start to result "
                f"({seconds / in_process:.1f}x the {in_process:.3f} s of `Scorer.score` in process; budget 3x), "
                f"peak memory {peak:.0f} MB (budget 500 MB), TensorFlow {'imported' if tensorflow else 'not imported'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
