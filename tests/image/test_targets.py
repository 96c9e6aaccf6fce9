"""Boxes and keypoints move with the pixels: render them into a mask, transform both, compare.

Box format, min_visibility and the keypoint policy come from the
ImageTargets the item is read with (``apply_with``), never from the operator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import Pipeline, item_rng
from augkit.image import (
    CenterCrop,
    HorizontalFlip,
    ImageTargets,
    RandomCrop,
    RandomResizedCrop,
    Rotate,
    VerticalFlip,
)

from .helpers import apply_with, operators, seeds


@st.composite
def scenes(draw: Any) -> tuple[int, int, list[int], tuple[int, int]]:
    """Image size, one integer pascal_voc box and one integer keypoint inside it."""
    H = draw(st.integers(6, 40))
    W = draw(st.integers(6, 40))
    x0 = draw(st.integers(0, W - 1))
    x1 = draw(st.integers(x0 + 1, W))
    y0 = draw(st.integers(0, H - 1))
    y1 = draw(st.integers(y0 + 1, H))
    kx = draw(st.integers(0, W - 1))
    ky = draw(st.integers(0, H - 1))
    return H, W, [x0, y0, x1, y1], (kx, ky)


exact_ops = st.one_of(
    st.builds(
        lambda h, w, p: RandomCrop((h, w), pad_if_needed=p),
        st.integers(1, 50),
        st.integers(1, 50),
        st.just(True),
    ),
    st.builds(
        lambda h, w: CenterCrop((h, w), pad_if_needed=True), st.integers(1, 50), st.integers(1, 50)
    ),
    st.just(HorizontalFlip()),
    st.just(VerticalFlip()),
    st.builds(
        lambda q, e: Rotate((q, q), expand=e), st.sampled_from([90, 180, 270, -90]), st.booleans()
    ),
)


def _bbox_of(mask: np.ndarray) -> list[float] | None:
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return None
    return [float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1)]


@settings(max_examples=300, deadline=None)
@given(scene=scenes(), op=exact_ops, seed=seeds)
def test_boxes_and_keypoints_follow_pixels_exactly(scene: Any, op: Any, seed: int) -> None:
    # Crops, flips and quarter turns move whole pixels: the rendered box must be the
    # transformed box, and the keypoint's pixel must sit exactly at the moved keypoint.
    H, W, box, (kx, ky) = scene
    if isinstance(op, Rotate) and not op.expand and H != W and op.degrees[0] % 180:
        return  # a quarter turn of a non-square image without expand is not a pixel permutation
    box_mask = np.zeros((H, W), np.uint8)
    box_mask[box[1] : box[3], box[0] : box[2]] = 1
    kp_img = np.zeros((H, W), np.uint8)
    kp_img[ky, kx] = 1
    item = {"image": kp_img, "mask": box_mask, "bboxes": [[*box, "thing"]], "keypoints": [[kx, ky]]}
    out = op(item, seed=seed)
    rendered = _bbox_of(out["mask"])
    if rendered is None:
        assert out["bboxes"] == []
    else:
        assert len(out["bboxes"]) == 1
        assert out["bboxes"][0][:4] == pytest.approx(rendered, abs=1e-9)
        assert out["bboxes"][0][4] == "thing"
    ys, xs = np.nonzero(out["image"])
    if len(xs) == 0:
        assert out["keypoints"] == []
    else:
        assert out["keypoints"] == [[pytest.approx(float(xs[0])), pytest.approx(float(ys[0]))]]


@settings(max_examples=250, deadline=None)
@given(
    scene=scenes(),
    angle=st.floats(-180, 180),
    expand=st.booleans(),
    on_tensor=st.booleans(),
)
def test_rotated_box_encloses_the_rotated_pixels(
    scene: Any, angle: float, expand: bool, on_tensor: bool
) -> None:
    H, W, box, _ = scene
    mask = np.zeros((H, W), np.uint8)
    mask[box[1] : box[3], box[0] : box[2]] = 1
    m: Any = torch.from_numpy(mask) if on_tensor else mask
    op = Rotate((angle, angle), expand=expand)
    out = op({"image": m, "mask": m, "bboxes": [box]}, seed=0)
    rendered = _bbox_of(np.asarray(out["mask"]))
    if rendered is None:
        # No pixel centre is left inside the rotated box. Its axis-aligned envelope
        # may still touch the image (a known limit of axis-aligned boxes), so there
        # is nothing to compare.
        return
    assert len(out["bboxes"]) == 1
    got = out["bboxes"][0]
    # Mask pixels are those whose centre falls inside the rotated box, so they lie
    # within half a pixel of the box; the box's corners are wedges, which the
    # nearest pixel centre can miss by up to about 1.5 pixels. (Once clipped, an
    # axis-aligned box also covers image area the tilted box never reached.)
    assert got[0] <= rendered[0] + 0.5 + 1e-6 and got[1] <= rendered[1] + 0.5 + 1e-6
    assert got[2] >= rendered[2] - 0.5 - 1e-6 and got[3] >= rendered[3] - 0.5 - 1e-6
    # Nothing clipped: the box is also tight around the pixels. Not a hair off a
    # quarter turn, though: the expanded canvas is then a pixel larger, every source
    # position sits on a tie between two pixels, and a thin box may keep one pixel.
    near_quarter = abs((angle + 45) % 90 - 45) < 1e-3
    if expand and not near_quarter:
        assert got[0] >= rendered[0] - 2.0 and got[1] >= rendered[1] - 2.0
        assert got[2] <= rendered[2] + 2.0 and got[3] <= rendered[3] + 2.0


@settings(max_examples=200, deadline=None)
@given(
    H=st.integers(8, 40),
    W=st.integers(8, 40),
    data=st.data(),
    angle=st.floats(-180, 180),
)
def test_rotated_keypoint_stays_on_its_pixels(H: int, W: int, data: Any, angle: float) -> None:
    kx = data.draw(st.integers(1, W - 2))
    ky = data.draw(st.integers(1, H - 2))
    blob = np.zeros((H, W), np.uint8)
    blob[ky - 1 : ky + 2, kx - 1 : kx + 2] = 1
    out = Rotate((angle, angle), expand=True)(
        {"image": blob, "mask": blob, "keypoints": [(kx, ky)]}, seed=0
    )
    ys, xs = np.nonzero(out["mask"])
    (px, py) = out["keypoints"][0]
    # expand=True keeps the whole blob: its centroid is where the keypoint went.
    assert abs(xs.mean() - px) < 0.75 and abs(ys.mean() - py) < 0.75


@settings(max_examples=200, deadline=None)
@given(scene=scenes(), seed=seeds, size=st.tuples(st.integers(4, 60), st.integers(4, 60)))
def test_resized_crop_moves_boxes_and_keypoints_with_pixels(
    scene: Any, seed: int, size: tuple[int, int]
) -> None:
    H, W, box, (kx, ky) = scene
    mask = np.zeros((H, W), np.uint8)
    mask[box[1] : box[3], box[0] : box[2]] = 1
    dot = np.zeros((H, W), np.uint8)
    dot[ky, kx] = 1
    op = RandomResizedCrop(size, scale=(0.3, 1.0), interpolation="nearest")
    out = op({"image": dot, "mask": mask, "bboxes": [box], "keypoints": [[kx, ky]]}, seed=seed)
    rendered = _bbox_of(out["mask"])
    if rendered is not None and out["bboxes"]:
        b = out["bboxes"][0]
        # Nearest resize picks output pixels whose centres map into the box.
        assert all(abs(g - r) <= 1.0 + 1e-6 for g, r in zip(b, rendered))
    ys, xs = np.nonzero(out["image"])
    if len(xs) and out["keypoints"]:
        px, py = out["keypoints"][0]
        # The pixel's copies are centred on the moved keypoint (half a pixel for ties).
        assert abs(xs.mean() - px) <= 0.5 + 1e-6 and abs(ys.mean() - py) <= 0.5 + 1e-6


@settings(max_examples=200, deadline=None)
@given(scene=scenes(), fmt=st.sampled_from(["coco", "yolo"]), op=exact_ops, seed=seeds)
def test_box_formats_agree_with_pascal_voc(scene: Any, fmt: str, op: Any, seed: int) -> None:
    H, W, (x0, y0, x1, y1), _ = scene
    img = np.zeros((H, W), np.uint8)
    conv = {
        "coco": [x0, y0, x1 - x0, y1 - y0],
        "yolo": [(x0 + x1) / 2 / W, (y0 + y1) / 2 / H, (x1 - x0) / W, (y1 - y0) / H],
    }[fmt]
    pv = apply_with(ImageTargets(), op, {"image": img, "bboxes": [[x0, y0, x1, y1]]}, seed=seed)
    ot = apply_with(ImageTargets(bbox_format=fmt), op, {"image": img, "bboxes": [conv]}, seed=seed)
    assert len(pv["bboxes"]) == len(ot["bboxes"])
    if pv["bboxes"]:
        oh, ow = pv["image"].shape[:2]
        a, b, c, d = pv["bboxes"][0]
        want = {
            "coco": [a, b, c - a, d - b],
            "yolo": [(a + c) / 2 / ow, (b + d) / 2 / oh, (c - a) / ow, (d - b) / oh],
        }[fmt]
        assert ot["bboxes"][0] == pytest.approx(want, abs=1e-9)


def test_min_visibility_drops_boxes_that_are_mostly_cut_off() -> None:
    img = np.zeros((10, 20), np.uint8)
    boxes = [[0, 0, 10, 10, "a"], [8, 0, 18, 10, "b"], [12, 2, 20, 4, "c"]]
    # The crop keeps columns 0..9: box a fully, box b 20%, box c not at all.
    crop = CenterCrop((10, 10))
    strict = ImageTargets(min_visibility=0.5)
    item = {"image": img, "bboxes": boxes}
    p = {"top": 0, "left": 0, "height": 10, "width": 10}
    assert [b[4] for b in crop.apply(item, p)["bboxes"]] == ["a", "b"]
    assert apply_with(strict, crop, item, p)["bboxes"] == [[0.0, 0.0, 10.0, 10.0, "a"]]
    assert crop.apply(item, p)["bboxes"][1][:4] == [8.0, 0.0, 10.0, 10.0]  # clipped


def test_keypoints_leaving_the_image_are_dropped_or_marked() -> None:
    img = np.zeros((10, 10), np.uint8)
    kps = [[1.0, 1.0, "in"], [8.0, 8.0, "out"]]
    p = {"top": 0, "left": 0, "height": 5, "width": 5}
    dropped = CenterCrop(5).apply({"image": img, "keypoints": kps}, p)
    assert dropped["keypoints"] == [[1.0, 1.0, "in"]] and "keypoints_visible" not in dropped
    mark = ImageTargets(keypoints="mark")
    marked = apply_with(mark, CenterCrop(5), {"image": img, "keypoints": kps}, p)
    assert marked["keypoints"] == kps and marked["keypoints_visible"] == [True, False]
    # A later operator keeps the flag even if the point comes back into view.
    back = apply_with(mark, Rotate((180, 180), expand=True), marked, {"angle": 180.0})
    assert back["keypoints_visible"] == [True, False]
    assert back["keypoints"][0][:2] == [3.0, 3.0]


def test_array_targets_stay_arrays_and_keep_extra_columns() -> None:
    img = np.zeros((10, 10), np.uint8)
    boxes = np.array([[1, 2, 4, 6, 7], [0, 0, 1, 1, 3]], dtype=np.int64)
    kps = np.array([[1.0, 2.0, 0.5]], dtype=np.float32)
    out = HorizontalFlip()({"image": img, "bboxes": boxes, "keypoints": kps})
    assert isinstance(out["bboxes"], np.ndarray) and out["bboxes"].dtype == np.float64
    assert out["bboxes"].tolist() == [[6, 2, 9, 6, 7], [9, 0, 10, 1, 3]]
    assert out["keypoints"].dtype == np.float32 and out["keypoints"].tolist() == [[8.0, 2.0, 0.5]]
    empty = VerticalFlip()({"image": img, "bboxes": np.zeros((0, 4)), "keypoints": []})
    assert empty["bboxes"].shape == (0, 4) and empty["keypoints"] == []


def test_dict_items_in_a_pipeline_without_key() -> None:
    rng = np.random.default_rng(0)
    items = [
        {
            "image": rng.integers(0, 255, (20, 24, 3)).astype(np.uint8),
            "mask": rng.integers(0, 3, (20, 24)).astype(np.uint8),
            "bboxes": [[2, 3, 10, 12, "x"]],
            "keypoints": [[5.0, 6.0]],
            "id": i,
        }
        for i in range(4)
    ]
    ops = [Rotate(20), RandomCrop(16), HorizontalFlip()]
    with pytest.raises(ValueError, match=r"unknown key\(s\) 'id'.*passthrough"):
        Pipeline.sequence(ops).augment(items[0], seed=5)  # "id" is not declared
    pipe = Pipeline.sequence(ops, targets=ImageTargets(passthrough=["id"]))
    outs, traces = pipe.augment_batch(items, seed=5, return_traces=True)
    for i, (item, out) in enumerate(zip(items, outs)):
        alone = pipe.augment(item, seed=5, index=i)
        assert alone["id"] == i and np.array_equal(alone["image"], out["image"])
        assert np.array_equal(alone["mask"], out["mask"]) and alone["bboxes"] == out["bboxes"]
        replay = pipe.replay(item, traces[i])
        assert replay["keypoints"] == out["keypoints"]
        assert out["image"].shape == (16, 16, 3) and out["mask"].shape == (16, 16)
    assert item_rng(5) is not None


# --------------------------------------------------------------------------- visibility flags


def test_flips_keep_keypoints_an_earlier_step_marked_invisible() -> None:
    # Regression (issue 9): the flip dropped the two marked keypoints and reset the
    # flags, turning 5 keypoints flagged [T, T, F, F, T] into 3 all-True ones.
    img = np.zeros((20, 20), np.uint8)
    kps = [[9.0, 9.0, "a"], [10.0, 8.0, "b"], [0.0, 0.0, "c"], [19.0, 19.0, "d"], [8.0, 11.0, "e"]]
    rotate = Rotate((40, 40))
    mark = ImageTargets(keypoints="mark")
    pipe = Pipeline.sequence([rotate, HorizontalFlip()], targets=mark)
    out = pipe({"image": img, "keypoints": kps}, seed=0)
    assert out["keypoints_visible"] == [True, True, False, False, True]
    rotated = apply_with(mark, rotate, {"image": img, "keypoints": kps}, {"angle": 40.0})
    assert [k[2] for k in out["keypoints"]] == ["a", "b", "c", "d", "e"]
    for flipped, before in zip(out["keypoints"], rotated["keypoints"]):
        assert flipped[:2] == pytest.approx([19.0 - before[0], before[1]])


@pytest.mark.parametrize("cls", [HorizontalFlip, VerticalFlip])
def test_flips_under_a_mark_policy_flag_their_keypoints(cls: Any) -> None:
    # Regression (issue 9): HorizontalFlip(outside_keypoints="mark") was a TypeError.
    # Since issue 10 the policy is declared once, on the pipeline's ImageTargets.
    item = {"image": np.zeros((6, 8)), "keypoints": [[1.0, 2.0]], "bboxes": [[1, 1, 2, 3]]}
    spec = ImageTargets(keypoints="mark", min_visibility=0.5, bbox_format="coco")
    out = Pipeline.sequence([cls()], targets=spec)(item, seed=0)
    assert out["keypoints_visible"] == [True] and len(out["bboxes"]) == 1
    assert "keypoints_visible" not in cls()(item)  # "drop" adds no flags of its own


@st.composite
def flagged_items(draw: Any) -> tuple[dict[str, Any], list[bool]]:
    """An image with keypoints (x, y, id), some flagged invisible and lying anywhere."""
    H, W = draw(st.integers(4, 30)), draw(st.integers(4, 30))
    n = draw(st.integers(0, 8))
    flags = [draw(st.booleans()) for _ in range(n)]
    kps = []
    for i, visible in enumerate(flags):
        if visible:
            x, y = draw(st.integers(0, W - 1)), draw(st.integers(0, H - 1))
        else:
            x, y = draw(st.integers(-50, 80)), draw(st.integers(-50, 80))
        kps.append([float(x), float(y), i])
    item = {"image": np.zeros((H, W), np.uint8), "keypoints": kps, "keypoints_visible": flags}
    return item, flags


@settings(max_examples=200, deadline=None)
@given(
    scene=flagged_items(),
    op=operators(),
    policy=st.sampled_from(["drop", "mark"]),
    seed=seeds,
)
def test_every_operator_carries_keypoint_flags(scene: Any, op: Any, policy: str, seed: int) -> None:
    item, flags = scene
    out = apply_with(ImageTargets(keypoints=policy), op, item, seed=seed)
    ids = [k[2] for k in out["keypoints"]]
    visible = out["keypoints_visible"]
    assert len(visible) == len(ids) and ids == sorted(ids)  # aligned, order kept
    hidden = [i for i, f in enumerate(flags) if not f]
    assert all(i in ids and not visible[ids.index(i)] for i in hidden)  # never dropped
    h, w = out["image"].shape[:2]
    for (x, y, _), v in zip(out["keypoints"], visible):
        inside = -0.5 - 1e-6 <= x <= w - 0.5 + 1e-6 and -0.5 - 1e-6 <= y <= h - 0.5 + 1e-6
        assert not v or inside  # a visible keypoint is inside the image
    if policy == "mark":
        assert ids == list(range(len(flags)))


@pytest.mark.parametrize(
    ("op", "spec"),
    [
        (Rotate((30, 30), expand=True), ImageTargets()),
        (CenterCrop((6, 7), pad_if_needed=True), ImageTargets()),
        (RandomResizedCrop((9, 5)), ImageTargets()),
        (HorizontalFlip(), ImageTargets(bbox_format="coco")),
        (VerticalFlip(), ImageTargets(keypoints="mark")),
    ],
    ids=lambda o: getattr(o, "name", ""),
)
def test_tensor_boxes_and_keypoints_come_back_as_tensors(op: Any, spec: ImageTargets) -> None:
    # Regression (issue 9): torch tensors were refused as boxes ("bboxes must be ...").
    boxes = [[1.0, 2.0, 4.0, 6.0, 7.0], [0.0, 0.0, 9.0, 9.0, 3.0]]
    kps = [[1.0, 2.0, 0.5], [8.0, 8.0, 1.5]]
    listed = apply_with(
        spec, op, {"image": np.zeros((10, 10)), "bboxes": boxes, "keypoints": kps}, seed=2
    )
    item = {
        "image": torch.zeros(3, 10, 10),
        "bboxes": torch.tensor(boxes, dtype=torch.float32),
        "keypoints": torch.tensor(kps, dtype=torch.float64),
        "keypoints_visible": torch.tensor([True, True]),
    }
    out = apply_with(spec, op, item, seed=2)
    assert isinstance(out["bboxes"], torch.Tensor) and out["bboxes"].dtype == torch.float32
    assert isinstance(out["keypoints"], torch.Tensor) and out["keypoints"].dtype == torch.float64
    assert np.allclose(out["bboxes"].numpy(), np.array(listed["bboxes"]), atol=1e-5)
    assert out["keypoints"].tolist() == listed["keypoints"]
    # The flags come back in the container they came in (issue 10).
    visible = out["keypoints_visible"]
    assert isinstance(visible, torch.Tensor) and visible.dtype == torch.bool
    assert visible.tolist() == [True] * len(listed["keypoints"])
    # Integer tensors come back as float64, as integer arrays do.
    ints = apply_with(
        spec, op, {"image": item["image"], "bboxes": torch.tensor(boxes).long()}, seed=2
    )["bboxes"]
    assert ints.dtype == torch.float64
