"""Image geometry: augkit vs albumentations vs torchvision.transforms.v2, side by side.

Usage: python benchmarks/image_ops.py [--quick] [--json PATH]

Same random uint8 images for every library (a 224x224x3 set and a 512x512x3
set), the same operation and settings (bilinear, constant border 0, no
antialiasing), one thread everywhere (cv2.setNumThreads(1),
torch.set_num_threads(1), OMP_NUM_THREADS=1), every output made contiguous.
Libraries are interleaved call by call, each on its own copy of the images;
each image counts with its median time over the rounds (robust to a shared,
busy machine).

* augkit and albumentations take HxWxC numpy arrays (augkit: ``op(img, rng=g)``,
  albumentations: ``t(image=img)["image"]``).
* torchvision takes CxHxW uint8 tensors, its fast path; augkit's tensor path
  (grid_sample) is measured on the same tensors as "augkit (torch)".
* torchvision is measured only if it imports. PyPI's torchvision does not
  import beside the project's torch 2.13.0 CPU build (see DESIGN.md); the
  JSON then records that and why.

Writes a markdown table to stdout and JSON to benchmarks/results/image_ops.json
(``--quick``: a smoke run that writes JSON only where ``--json`` says).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout

GOALS = {  # (operation, competitor): minimum augkit / competitor ratio, from issue 5
    ("rotate", "albumentations"): 1.0,
    ("rotate", "torchvision"): 5.0,
    ("random_crop", "torchvision"): 1.0,
    ("horizontal_flip", "albumentations"): 1.0,
}


def _torchvision() -> tuple[Any, str | None]:
    try:
        import torchvision
        from torchvision.transforms import v2
    except Exception as exc:  # any import failure means "not measured", with the reason
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return None, (
            f"torchvision not measured: `import torchvision` failed with {type(exc).__name__}: "
            f"{first} (PyPI's torchvision does not import beside this project's torch "
            "2.13.0 CPU build, DESIGN.md)"
        )
    return (torchvision, v2), None


def _contig_np(x: Any) -> Any:
    return np.ascontiguousarray(x)


def build(op: str, side: int, tv: Any) -> dict[str, tuple[str, Callable[[Any], Any]]]:
    """Per library: (input kind, call returning a contiguous output) for one operation."""
    import albumentations as A
    import cv2

    from augkit.image import HorizontalFlip, RandomCrop, RandomResizedCrop, Rotate

    crop = side * 3 // 4
    g = np.random.default_rng(0)
    if op == "rotate":
        ours: Any = Rotate(30, interpolation="bilinear", border="constant", fill=0)
        alb: Any = A.Rotate(
            limit=30, interpolation=cv2.INTER_LINEAR, border_mode=cv2.BORDER_CONSTANT, fill=0, p=1.0
        )
    elif op == "random_crop":
        ours = RandomCrop(crop, copy=True)  # its contiguous-output mode (default: a view)
        alb = A.RandomCrop(crop, crop, p=1.0)
    elif op == "random_resized_crop":
        ours = RandomResizedCrop(224, interpolation="bilinear")
        alb = A.RandomResizedCrop(
            (224, 224),
            scale=(0.08, 1.0),
            ratio=(3 / 4, 4 / 3),
            interpolation=cv2.INTER_LINEAR,
            p=1.0,
        )
    elif op == "horizontal_flip":
        ours = HorizontalFlip()
        alb = A.HorizontalFlip(p=1.0)
    else:  # pragma: no cover
        raise ValueError(op)
    fns: dict[str, tuple[str, Callable[[Any], Any]]] = {
        "augkit": ("numpy", lambda im: _contig_np(ours(im, rng=g))),
        "albumentations": ("numpy", lambda im: _contig_np(alb(image=im)["image"])),
        "augkit (torch)": ("tensor", lambda t: ours(t, rng=g).contiguous()),
    }
    if tv is not None:
        _, v2 = tv
        from torchvision.transforms import InterpolationMode

        if op == "rotate":
            tvt: Any = v2.RandomRotation(30, interpolation=InterpolationMode.BILINEAR, fill=0)
        elif op == "random_crop":
            tvt = v2.RandomCrop(crop)
        elif op == "random_resized_crop":
            tvt = v2.RandomResizedCrop(
                224, interpolation=InterpolationMode.BILINEAR, antialias=False
            )
        else:
            tvt = v2.RandomHorizontalFlip(p=1.0)
        fns["torchvision"] = ("tensor", lambda t: tvt(t).contiguous())
    return fns


def measure(
    fns: dict[str, tuple[str, Callable[[Any], Any]]], inputs: dict[str, list[Any]], rounds: int
) -> dict[str, float]:
    """Images per second of each library on the same images.

    The machine these run on is shared, so libraries are interleaved call by
    call (in a rotating order): a burst of load hits all of them alike. Each
    image's time is its median over ``rounds``; images/s is the number of
    images over the sum of those medians.
    """
    names = list(fns)
    # Each library gets its own copy of the images: interleaved on shared
    # inputs, whichever library ran first on an image would pay the cache
    # misses of loading it and the next ones would find it in cache.
    own = {
        name: [x.copy() if isinstance(x, np.ndarray) else x.clone() for x in inputs[fns[name][0]]]
        for name in names
    }
    for name in names:  # warm-up: imports, caches, first-call costs
        for x in own[name][:4]:
            fns[name][1](x)
    n = len(next(iter(inputs.values())))
    times = {name: np.empty((rounds, n)) for name in names}
    clock = time.perf_counter
    for r in range(rounds):
        for i in range(n):
            shift = (r * n + i) % len(names)
            for name in names[shift:] + names[:shift]:
                fn = fns[name][1]
                x = own[name][i]
                t0 = clock()
                fn(x)
                times[name][r, i] = clock() - t0
    return {name: float(n / np.median(t, axis=0).sum()) for name, t in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few images, one round (smoke run)")
    parser.add_argument("--json", type=Path, default=None, help="where to write the JSON results")
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds (median per image)")
    args = parser.parse_args(argv)

    import cv2

    cv2.setNumThreads(1)
    import torch

    torch.set_num_threads(1)
    import albumentations

    tv, tv_note = _torchvision()
    if tv_note:
        print(tv_note)
    rounds = args.rounds or (1 if args.quick else 7)
    counts = {224: 8, 512: 4} if args.quick else {224: 300, 512: 60}
    rng = np.random.default_rng(2024)
    sets = {}
    for side, n in counts.items():
        arrays = [rng.integers(0, 256, (side, side, 3), dtype=np.uint8) for _ in range(n)]
        tensors = [torch.from_numpy(a).permute(2, 0, 1).contiguous() for a in arrays]
        sets[side] = {"numpy": arrays, "tensor": tensors}

    ops = ["rotate", "random_crop", "random_resized_crop", "horizontal_flip"]
    results = []
    for op in ops:
        for side in counts:
            speeds = measure(build(op, side, tv), sets[side], rounds)
            results.append(
                {
                    "op": op,
                    "size": f"{side}x{side}",
                    "n_images": counts[side],
                    "images_per_s": speeds,
                }
            )

    libs = ["augkit", "albumentations", "torchvision", "augkit (torch)"]
    lines = [
        "| operation | images | augkit | albumentations | torchvision | augkit (torch) | augkit / alb | augkit / tv | augkit (torch) / tv |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    goals = []
    for r in results:
        s = r["images_per_s"]
        cells = [f"{s[lib]:,.0f}" if lib in s else "not measured" for lib in libs]
        alb = s["augkit"] / s["albumentations"]
        tvr = s["augkit"] / s["torchvision"] if "torchvision" in s else None
        tvt = s["augkit (torch)"] / s["torchvision"] if "torchvision" in s else None
        r["ratios"] = {
            "augkit/albumentations": alb,
            "augkit/torchvision": tvr,
            "augkit_torch/torchvision": tvt,
        }
        lines.append(
            f"| {r['op']} | {r['size']} | {' | '.join(cells)} | {alb:.2f}x | "
            f"{'n/a' if tvr is None else f'{tvr:.2f}x'} | {'n/a' if tvt is None else f'{tvt:.2f}x'} |"
        )
        for (gop, comp), need in GOALS.items():
            if gop != r["op"]:
                continue
            ratio = alb if comp == "albumentations" else tvr
            goals.append(
                {
                    "op": gop,
                    "size": r["size"],
                    "vs": comp,
                    "goal": need,
                    "ratio": ratio,
                    "met": None if ratio is None else bool(ratio >= need),
                }
            )
    print(
        f"\nImage geometry, images/s (higher is better), one thread, median of {rounds} round(s) per image; "
        "numpy HxWx3 uint8 for augkit / albumentations, CxHxW uint8 tensors for torchvision "
        "and augkit (torch)\n"
    )
    print("\n".join(lines))
    print("\nGoals (issue 5):")
    for gl in goals:
        state = "not measured" if gl["met"] is None else ("met" if gl["met"] else "NOT met")
        ratio = "n/a" if gl["ratio"] is None else f"{gl['ratio']:.2f}x"
        print(
            f"- {gl['op']} {gl['size']} vs {gl['vs']}: >= {gl['goal']:.1f}x, got {ratio}: {state}"
        )

    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "rounds": rounds,
        "threads": "1 (cv2.setNumThreads(1), torch.set_num_threads(1), OMP_NUM_THREADS=1)",
        "python": platform.python_version(),
        "machine": " ".join(
            p for p in (platform.machine(), platform.processor(), f"{os.cpu_count()} cpus") if p
        ),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "albumentations": albumentations.__version__,
        "torch": torch.__version__,
        "torchvision": None if tv is None else tv[0].__version__,
        "torchvision_note": tv_note,
        "settings": "bilinear, constant border fill 0, rotate +-30 deg, crop 3/4 of the side, "
        "resized crop to 224x224 with scale (0.08, 1) ratio (3/4, 4/3) and no antialias, "
        "flip p=1; outputs made contiguous",
    }
    path = (
        args.json
        if args.json is not None
        else (None if args.quick else HERE / "results" / "image_ops.json")
    )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {"meta": meta, "results": results, "goals": goals, "table": "\n".join(lines)},
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
