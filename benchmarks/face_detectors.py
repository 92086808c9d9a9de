"""Benchmark the registered face detectors on the shared labelled clips.

Why: the default detector is picked by measurement, not by taste. For every
detector this reports how often it finds a face on frames sampled the way the
scorer samples them, how long it takes per frame, whether that differs between
REAL and FAKE clips or between datasets, and two plausibility figures so that
a detector cannot win by firing on everything:

* ``agree_cons``: share of its detections whose largest box overlaps (IoU>0.3)
  a consensus box, i.e. a box on which at least two independent detector
  families (haar, blazeface*, mtcnn, dlib_hog, dlib_cnn) agree on that frame;
* ``agree_mtcnn``: the same against MTCNN's largest box, on frames MTCNN saw;
* ``multi``: share of frames with more than one box.

Slow detectors run on a fixed subset of clips, stratified by dataset and label
(see ``DEFAULT_SUBSETS``); the table says which rows did. Timing uses the
libraries' default thread settings for every detector (OpenCV's pool, dlib,
TensorFlow intra/inter-op defaults), one frame at a time, after one untimed
warm-up call; decode time is measured separately.

Usage::

    python -m benchmarks.face_detectors --data ../shared/data \
        --out artifacts/face_detectors.csv
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from pipeline.faces.base import DetectorUnavailableError, FaceDetector
from pipeline.faces.registry import create_detector
from pipeline.faces.types import Box

DEFAULT_DETECTORS = (
    "haar",
    "haar@320",
    "blazeface",
    "blazeface_full",
    "blazeface_back",
    "mtcnn",
    "dlib_hog",
    "dlib_cnn",
)
# Share of clips per stratum (dataset x label) for detectors too slow to run on all.
DEFAULT_SUBSETS = {
    "haar": 0.25,
    "blazeface_back": 0.34,
    "mtcnn": 0.12,
    "dlib_cnn": 0.01,
}
FAMILIES = {
    "haar": "haar",
    "blazeface": "blazeface",
    "blazeface_full": "blazeface",
    "blazeface_back": "blazeface",
    "mtcnn": "mtcnn",
    "dlib_hog": "dlib_hog",
    "dlib_cnn": "dlib_cnn",
}
IOU_AGREE = 0.3
DATASET_SHORT = {
    "FF++ c40": "c40",
    "FF++ c23": "c23",
    "FF++ c40 (DeepFakeDetection actors)": "dfd",
    "talking-head (other)": "th",
}


@dataclass(frozen=True)
class Clip:
    file: str
    label: str
    dataset: str


@dataclass
class Spec:
    """One benchmark row: a detector name at a given max_side."""

    key: str
    name: str
    max_side: int
    fraction: float = 1.0
    detector: FaceDetector | None = None
    error: str = ""
    failures: int = 0
    clips: set[str] = field(default_factory=set)


@dataclass
class FrameResult:
    boxes: list[Box]
    ms: float


def parse_specs(text: str, default_max_side: int, subsets: dict[str, float]) -> list[Spec]:
    """'haar,haar@320,blazeface' -> specs; '@N' overrides max_side for that row."""
    specs = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, _, side = item.partition("@")
        specs.append(
            Spec(
                key=item,
                name=name,
                max_side=int(side) if side else default_max_side,
                fraction=subsets.get(item, subsets.get(name, 1.0)),
            )
        )
    return specs


def parse_subsets(text: str) -> dict[str, float]:
    out = dict(DEFAULT_SUBSETS)
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, _, frac = item.partition("=")
        out[name] = float(frac)
    return out


def read_manifest(data: Path) -> list[Clip]:
    with open(data / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [Clip(r["file"], r["label"], r["dataset"]) for r in rows]


def stratified_subset(clips: Sequence[Clip], fraction: float) -> set[str]:
    """Evenly spaced clips (by name) inside each dataset x label stratum: fixed, not random."""
    if fraction >= 1.0:
        return {c.file for c in clips}
    strata: dict[tuple[str, str], list[str]] = defaultdict(list)
    for c in clips:
        strata[(c.dataset, c.label)].append(c.file)
    chosen: set[str] = set()
    for files in strata.values():
        files.sort()
        k = max(1, round(len(files) * fraction))
        chosen.update(files[int((i + 0.5) * len(files) / k)] for i in range(k))
    return chosen


def sample_frames(path: Path, count: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``count`` evenly spaced RGB frames, decoding sequentially (grab/retrieve).

    Seeking is avoided because it is slow and inexact on long-GOP H.264.
    """
    cap = cv2.VideoCapture(str(path))
    try:
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if total <= 0:
            return
        wanted = sorted({round(i) for i in np.linspace(0, total - 1, min(count, total))})
        want = set(wanted)
        for index in range(wanted[-1] + 1):
            if not cap.grab():
                break
            if index in want:
                ok, bgr = cap.retrieve()
                if ok:
                    yield index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


def largest(boxes: Sequence[Box]) -> Box | None:
    return max(boxes, key=lambda b: b.area) if boxes else None


def consensus_box(votes: dict[str, Box]) -> Box | None:
    """Box agreed by >= 2 detector families (IoU > 0.3), most support first."""
    best: tuple[int, float] = (1, 0.0)
    best_box = None
    for box in votes.values():
        fams: dict[str, float] = {}
        for key, other in votes.items():
            iou = box.iou(other)
            if iou > IOU_AGREE:
                fam = FAMILIES.get(key, key)
                fams[fam] = max(fams.get(fam, 0.0), iou)
        support = (len(fams), sum(fams.values()))
        if support > best:
            best, best_box = support, box
    return best_box


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def rate(hits: int, n: int) -> float:
    return hits / n if n else float("nan")


def fmt(v: float, spec: str = ".3f") -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def summarise(
    specs: Sequence[Spec],
    clips: Sequence[Clip],
    results: dict[tuple[str, int], dict[str, FrameResult]],
) -> list[dict[str, object]]:
    """One summary row per detector spec."""
    by_file = {c.file: c for c in clips}
    # Consensus voters: one spec per detector name, at the default max_side.
    voters: dict[str, str] = {}
    for s in specs:
        if s.detector is not None and s.name in FAMILIES and s.name not in voters:
            voters[s.name] = s.key
    voter_keys = set(voters.values())
    consensus: dict[tuple[str, int], Box | None] = {}
    for fk, per in results.items():
        votes = {}
        for key, fr in per.items():
            if key in voter_keys and (b := largest(fr.boxes)) is not None:
                votes[key.partition("@")[0]] = b
        consensus[fk] = consensus_box(votes)
    mtcnn_key = voters.get("mtcnn")

    rows = []
    for s in specs:
        row: dict[str, object] = {
            "detector": s.key,
            "max_side": s.max_side,
            "subset": "" if s.fraction >= 1.0 else f"{s.fraction:g} of clips/stratum",
        }
        if s.detector is None:
            row["note"] = s.error
            rows.append(row)
            continue
        ms: list[float] = []
        n = hits = multi = agree_c = agree_m = with_m = 0
        by: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        clip_rates: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for (file, idx), per in results.items():
            fr = per.get(s.key)
            if fr is None:
                continue
            clip = by_file[file]
            found = bool(fr.boxes)
            n += 1
            hits += found
            multi += len(fr.boxes) > 1
            ms.append(fr.ms)
            for group in (clip.label, DATASET_SHORT.get(clip.dataset, clip.dataset)):
                by[group][0] += found
                by[group][1] += 1
            clip_rates[file][0] += found
            clip_rates[file][1] += 1
            if not found:
                continue
            mine = largest(fr.boxes)
            assert mine is not None
            cb = consensus[(file, idx)]
            agree_c += cb is not None and mine.iou(cb) > IOU_AGREE
            if mtcnn_key and mtcnn_key in per and s.key != mtcnn_key:
                with_m += 1
                mb = largest(per[mtcnn_key].boxes)
                agree_m += mb is not None and mine.iou(mb) > IOU_AGREE
        row.update(
            clips=len(clip_rates),
            frames=n,
            det_rate=rate(hits, n),
            REAL=rate(*by["REAL"]),
            FAKE=rate(*by["FAKE"]),
            **{f"rate_{short}": rate(*by[short]) for short in DATASET_SHORT.values()},
            ms_median=statistics.median(ms) if ms else float("nan"),
            ms_p90=pct(ms, 90),
            agree_cons=rate(agree_c, hits),
            agree_mtcnn=rate(agree_m, with_m) if with_m else float("nan"),
            multi=rate(multi, n),
            clips_below_90=sum(1 for h, t in clip_rates.values() if h < 0.9 * t),
            note=f"{s.failures} frames raised" if s.failures else "",
        )
        rows.append(row)
    return rows


TABLE_COLUMNS = [
    ("detector", "detector", None),
    ("max_side", "max_side", "d"),
    ("clips", "clips", "d"),
    ("frames", "frames", "d"),
    ("det_rate", "rate", ".3f"),
    ("REAL", "REAL", ".3f"),
    ("FAKE", "FAKE", ".3f"),
    ("rate_c40", "c40", ".3f"),
    ("rate_c23", "c23", ".3f"),
    ("rate_dfd", "dfd", ".3f"),
    ("rate_th", "talk", ".3f"),
    ("ms_median", "ms med", ".1f"),
    ("ms_p90", "ms p90", ".1f"),
    ("agree_cons", "agree cons", ".3f"),
    ("agree_mtcnn", "agree mtcnn", ".3f"),
    ("multi", ">1 box", ".3f"),
    ("clips_below_90", "clips<90%", "d"),
    ("subset", "subset", None),
]


def markdown(rows: Sequence[dict[str, object]]) -> str:
    head = "| " + " | ".join(h for _, h, _ in TABLE_COLUMNS) + " |"
    sep = "|" + "|".join("---" if f is None else "---:" for _, _, f in TABLE_COLUMNS) + "|"
    lines = [head, sep]
    for row in rows:
        cells = []
        for key, _, spec in TABLE_COLUMNS:
            value = row.get(key, "")
            if key == "subset" and row.get("note"):
                value = f"{value} {row['note']}".strip()
            if spec is None or value == "" or value is None:
                cells.append(str(value if value is not None else ""))
            else:
                cells.append(fmt(value, spec))  # type: ignore[arg-type]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def thread_note() -> str:
    tf_note = "TensorFlow not loaded"
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        intra = tf.config.threading.get_intra_op_parallelism_threads()
        inter = tf.config.threading.get_inter_op_parallelism_threads()
        tf_note = f"TF intra/inter-op threads {intra}/{inter} (0 = default)"
    return (
        f"cv2 {cv2.__version__} threads={cv2.getNumThreads()} (default), {tf_note}, "
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("artifacts/face_detectors.csv"))
    parser.add_argument("--frames-out", type=Path, default=None, help="per-frame CSV (default: <out>_frames.csv)")
    parser.add_argument(
        "--detectors", default=",".join(DEFAULT_DETECTORS), help="comma list; NAME@SIDE sets max_side for that row"
    )
    parser.add_argument("--subset", default="", help="NAME=FRACTION,... overrides DEFAULT_SUBSETS (1 = all clips)")
    parser.add_argument("--frames", type=int, default=32, help="frames sampled per clip")
    parser.add_argument("--max-side", type=int, default=640)
    parser.add_argument("--min-face-fraction", type=float, default=0.06)
    parser.add_argument("--limit", type=int, default=0, help="first N clips only (smoke runs)")
    args = parser.parse_args(argv)

    manifest, clip_dir = args.data / "manifest.csv", args.data / "clips"
    if not manifest.is_file() or not clip_dir.is_dir():
        print(f"data folder {args.data} (manifest.csv + clips/) not found; nothing to benchmark.", file=sys.stderr)
        return 0
    clips = [c for c in read_manifest(args.data) if (clip_dir / c.file).is_file()]
    if args.limit:
        clips = clips[: args.limit]
    if not clips:
        print(f"no clips found under {clip_dir}; nothing to benchmark.", file=sys.stderr)
        return 0

    specs = parse_specs(args.detectors, args.max_side, parse_subsets(args.subset))
    for s in specs:
        try:
            s.detector = create_detector(s.name, max_side=s.max_side, min_face_fraction=args.min_face_fraction)
        except (DetectorUnavailableError, ValueError) as exc:
            s.error = f"unavailable: {exc}"
            print(f"skip {s.key}: {exc}", file=sys.stderr)
        s.clips = stratified_subset(clips, s.fraction)
    live = [s for s in specs if s.detector is not None]
    load_start = os.getloadavg()

    results: dict[tuple[str, int], dict[str, FrameResult]] = {}
    decode_ms: list[float] = []
    warmed: set[str] = set()
    t_start = time.perf_counter()
    for ci, clip in enumerate(clips, 1):
        t0 = time.perf_counter()
        frames = list(sample_frames(clip_dir / clip.file, args.frames))
        if frames:
            decode_ms.append((time.perf_counter() - t0) * 1000 / len(frames))
        for s in live:
            if clip.file not in s.clips:
                continue
            det = s.detector
            assert det is not None
            if s.key not in warmed and frames:
                det.detect(frames[0][1])  # untimed: lazy init, graph tracing
                warmed.add(s.key)
            for idx, frame in frames:
                t1 = time.perf_counter()
                try:
                    boxes = det.detect(frame)
                except Exception as exc:  # keep a long run alive; reported in the notes
                    s.failures += 1
                    print(f"{s.key} failed on {clip.file}#{idx}: {exc!r}", file=sys.stderr)
                    boxes = []
                ms = (time.perf_counter() - t1) * 1000
                results.setdefault((clip.file, idx), {})[s.key] = FrameResult(boxes, ms)
        if ci % 10 == 0 or ci == len(clips):
            el = time.perf_counter() - t_start
            print(
                f"[{ci}/{len(clips)}] {el:.0f}s elapsed, ~{el / ci * (len(clips) - ci):.0f}s left",
                file=sys.stderr,
                flush=True,
            )

    rows = summarise(specs, clips, results)
    load_end = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    frames_out = args.frames_out or args.out.with_name(args.out.stem + "_frames.csv")
    with open(frames_out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "frame", "detector", "n_boxes", "x", "y", "w", "h", "score", "ms"])
        for (file, idx), per in results.items():
            for key, fr in per.items():
                b = largest(fr.boxes)
                xywh = b.as_list() if b else ["", "", "", ""]
                score = f"{b.score:.3f}" if b else ""
                writer.writerow([file, idx, key, len(fr.boxes), *xywh, score, f"{fr.ms:.2f}"])

    print(markdown(rows))
    print()
    print(
        f"{len(clips)} clips, {args.frames} frames/clip sampled by sequential grab/retrieve; "
        f"decode {statistics.median(decode_ms):.1f} ms/sampled frame median "
        f"(p90 {pct(decode_ms, 90):.1f}); wall {time.perf_counter() - t_start:.0f} s."
    )
    print(f"Threads: {thread_note()}. Load average at start/end: {load_start[0]:.2f}/{load_end[0]:.2f}.")
    print(
        "rate = frames with >=1 face; agree cons/mtcnn = share of detections whose largest box "
        "has IoU>0.3 with the consensus (>=2 detector families) / MTCNN's largest box; "
        "clips<90% = clips where under 90% of sampled frames had a face."
    )
    print(f"CSV: {args.out}  per-frame: {frames_out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
