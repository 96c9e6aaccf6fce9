"""Bad inputs and bad parameters fail with errors that name the problem; imports stay lazy."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from augkit import Pipeline
from augkit.image import (
    CenterCrop,
    HorizontalFlip,
    ImageTargets,
    RandomCrop,
    RandomResizedCrop,
    Rotate,
    VerticalFlip,
)

ALL = [
    Rotate(),
    RandomCrop(2),
    CenterCrop(2),
    RandomResizedCrop(4),
    HorizontalFlip(),
    VerticalFlip(),
]


@pytest.mark.parametrize("op", ALL, ids=lambda o: o.name)
@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        (np.zeros(5, np.uint8), ValueError, "ndim=1"),
        (np.zeros((2, 3, 4, 5), np.uint8), ValueError, "ndim=4"),
        (np.zeros((0, 4), np.uint8), ValueError, "empty"),
        (np.zeros((4, 4, 0), np.uint8), ValueError, "empty"),
        (np.zeros((4, 4), np.complex64), TypeError, "complex64"),
        (np.zeros((4, 4), object), TypeError, "object"),
        (torch.zeros(1, 1, 1, 4, 4), ValueError, "ndim=5"),
        (torch.zeros(3, 0, 4), ValueError, "empty"),
        ([[1, 2], [3, 4]], TypeError, "got list"),
        ("image.png", TypeError, "got str"),
        (None, TypeError, "got NoneType"),
        (Image.new("I;16B", (4, 4)), TypeError, "mode 'I;16B'"),
    ],
)
def test_bad_images_are_rejected(op: Any, x: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        op(x, seed=0)
    with pytest.raises(error, match=match):
        op({"image": x}, seed=0)


def test_errors_raise_in_pipelines_too() -> None:
    with pytest.raises(ValueError, match="ndim"):
        Pipeline.sequence([Rotate()]).augment(np.zeros((1, 1, 1, 1)), seed=0)


@pytest.mark.parametrize("cls", [RandomCrop, CenterCrop])
def test_crop_larger_than_image_needs_pad_if_needed(cls: Any) -> None:
    img = np.zeros((5, 8, 3), np.uint8)
    with pytest.raises(
        ValueError, match=r"crop size 6x4 .* larger than the 5x8 image.*pad_if_needed"
    ):
        cls((6, 4))(img, seed=0)
    with pytest.raises(ValueError, match="pad_if_needed"):
        cls((6, 4)).validate_input(torch.zeros(3, 5, 8))
    assert cls((6, 4), pad_if_needed=True)(img, seed=0).shape == (6, 4, 3)
    # Replaying such a window on an op without padding fails clearly as well.
    with pytest.raises(ValueError, match="pad_if_needed"):
        cls((6, 4)).apply(img, {"top": -1, "left": 0, "height": 6, "width": 4})


@pytest.mark.parametrize(
    ("item", "match"),
    [
        ({"mask": np.zeros((4, 4))}, "'image'"),
        ({"image": np.zeros((4, 4)), "mask": np.zeros((4, 5))}, "mask.*4x5.*same height and width"),
        ({"image": np.zeros((4, 4)), "bboxes": [[0, 0, 5, 2]]}, r"bboxes\[0\].*outside the image"),
        ({"image": np.zeros((4, 4)), "bboxes": [[-1, 0, 2, 2]]}, r"bboxes\[0\].*outside"),
        ({"image": np.zeros((4, 4)), "bboxes": [[2, 0, 2, 2]]}, "zero or negative width"),
        ({"image": np.zeros((4, 4)), "bboxes": [[0, 0, float("nan"), 2]]}, "not finite"),
        ({"image": np.zeros((4, 4)), "bboxes": [[0, 0, 2]]}, "needs at least 4"),
        ({"image": np.zeros((4, 4)), "bboxes": np.zeros((2, 3))}, r"shape \(N, >=4\)"),
        ({"image": np.zeros((4, 4)), "keypoints": [[4.0, 1.0]]}, r"keypoints\[0\].*outside"),
        ({"image": np.zeros((4, 4)), "keypoints": [[1.0, float("inf")]]}, "not finite"),
        (
            {
                "image": np.zeros((4, 4)),
                "keypoints": [[1.0, 1.0]],
                "keypoints_visible": [True, False],
            },
            "one flag per keypoint",
        ),
    ],
)
def test_bad_items_are_rejected(item: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Rotate()(item, seed=0)


def test_bad_target_types() -> None:
    with pytest.raises(TypeError, match="bboxes"):
        HorizontalFlip()({"image": np.zeros((4, 4)), "bboxes": "0 0 1 1"})
    with pytest.raises(TypeError, match=r"bboxes\[0\]\[1\] must be a number"):
        HorizontalFlip()({"image": np.zeros((4, 4)), "bboxes": [[0, "a", 1, 1]]})


def test_yolo_and_coco_boxes_are_checked_in_their_own_format() -> None:
    img = np.zeros((10, 10))
    yolo = Pipeline.sequence([HorizontalFlip()], targets=ImageTargets(bbox_format="yolo"))
    with pytest.raises(ValueError, match=r"\(yolo\) lies outside"):
        yolo({"image": img, "bboxes": [[0.9, 0.5, 0.4, 0.2]]}, seed=0)
    with pytest.raises(ValueError, match=r"\(coco\) lies outside"):
        ImageTargets(bbox_format="coco").split({"image": img, "bboxes": [[5, 5, 6, 1]]})


def test_marked_keypoints_may_lie_outside() -> None:
    # An invisible keypoint is carried along, flag and all, wherever it lies.
    item = {"image": np.zeros((4, 4)), "keypoints": [[9.0, 1.0]], "keypoints_visible": [False]}
    out = HorizontalFlip()(item)
    assert out["keypoints"] == [[-6.0, 1.0]] and out["keypoints_visible"] == [False]


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Rotate(-5), ValueError, "degrees"),
        (lambda: Rotate((10, -10)), ValueError, "min <= max"),
        (lambda: Rotate(float("inf")), ValueError, "degrees"),
        (lambda: Rotate(interpolation="linear"), ValueError, "interpolation must be one of"),
        (lambda: Rotate(border="mirror"), ValueError, "border must be one of"),
        (lambda: Rotate(fill="black"), TypeError, "fill"),
        (lambda: Rotate(fill=[]), ValueError, "fill"),
        (lambda: Rotate(fill=float("nan")), ValueError, "fill"),
        (lambda: Rotate(expand=1), TypeError, "expand"),
        (lambda: Rotate(nan_policy="omit"), ValueError, "nan_policy"),
        (lambda: RandomCrop(0), ValueError, "size"),
        (lambda: RandomCrop((3, 4, 5)), ValueError, "size"),
        (lambda: RandomCrop(2.5), TypeError, "size"),
        (lambda: RandomCrop(3, pad_if_needed="yes"), TypeError, "pad_if_needed"),
        (lambda: RandomCrop(3, padding=-1), ValueError, "padding"),
        (lambda: RandomCrop(3, padding=(1, 2, 3)), ValueError, "padding"),
        (lambda: RandomCrop(3, padding=1.5), TypeError, "padding"),
        (lambda: CenterCrop(3, copy=None), TypeError, "copy"),
        (lambda: RandomResizedCrop(8, scale=(0.5, 1.5)), ValueError, "scale"),
        (lambda: RandomResizedCrop(8, scale=(0.0, 1.0)), ValueError, "scale"),
        (lambda: RandomResizedCrop(8, ratio=(2.0, 1.0)), ValueError, "ratio"),
        (lambda: RandomResizedCrop(8, interpolation="lanczos"), ValueError, "interpolation"),
        (lambda: Rotate(interp="nearest"), TypeError, "unexpected keyword argument 'interp'"),
        (lambda: ImageTargets(bbox_format="xyxy"), ValueError, "bbox_format must be one of"),
        (lambda: ImageTargets(bbox_format="voc"), ValueError, "'pascal_voc', 'coco', 'yolo'"),
        (lambda: ImageTargets(min_visibility=1.5), ValueError, r"min_visibility must be in \[0"),
        (lambda: ImageTargets(min_visibility=-0.1), ValueError, "min_visibility"),
        (lambda: ImageTargets(min_area=-1), ValueError, "min_area"),
        (lambda: ImageTargets(min_area=float("inf")), ValueError, "min_area"),
        (
            lambda: ImageTargets(keypoints="clip"),
            ValueError,
            "keypoints must be one of 'drop', 'mark'",
        ),
        (lambda: ImageTargets(label_fields=3), TypeError, "label_fields must be a list"),
        (lambda: ImageTargets(label_fields=["bboxes"]), ValueError, "label_fields may not name"),
        (lambda: ImageTargets(masks=["a", "a"]), ValueError, "more than once"),
        (lambda: ImageTargets(masks=["d"], passthrough=["d"]), ValueError, "both masks and"),
        (lambda: ImageTargets("coco", "yolo"), TypeError, "positional"),
    ],
)
def test_bad_parameters_are_rejected(make: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("op", ALL, ids=lambda o: o.name)
@pytest.mark.parametrize(
    ("moved", "value", "declared"),
    [
        ("bbox_format", "coco", "bbox_format='coco'"),
        ("min_visibility", 0.3, "min_visibility=0.3"),
        ("outside_keypoints", "mark", "keypoints='mark'"),
    ],
)
def test_target_parameters_moved_to_the_pipeline(
    op: Any, moved: str, value: Any, declared: str
) -> None:
    # Issue 10: box format, min_visibility and the keypoint policy are declared once,
    # on the pipeline; an operator that is given one says where it went.
    config = {k: v for k, v in op.get_config().items() if k != "size"}
    size = op.get_config().get("size")
    args = () if size is None else (size,)
    with pytest.raises(TypeError) as err:
        type(op)(*args, **config, **{moved: value})
    message = str(err.value)
    assert "declare targets once: Pipeline(..., targets=ImageTargets(" in message
    assert declared in message and type(op).__name__ in message


def test_fill_must_match_the_channels() -> None:
    with pytest.raises(ValueError, match="fill has 3 values but the image has 4 channel"):
        Rotate(fill=(1, 2, 3))(np.zeros((5, 5, 4), np.uint8), seed=0)
    with pytest.raises(ValueError, match="fill has 3 values but the image has 2 channel"):
        Rotate(fill=(1, 2, 3))(torch.zeros(2, 5, 5), seed=0)


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(0, 3), min_size=0, max_size=5))
def test_any_shape_either_works_or_raises_a_clear_error(shape: list[int]) -> None:
    x = np.zeros(shape, np.float32)
    for op in ALL:
        try:
            out = op(x, seed=0)
        except (ValueError, TypeError) as exc:
            assert str(exc)
        else:
            assert isinstance(out, np.ndarray) and out.ndim == x.ndim


def test_heavy_imports_wait_until_an_operator_is_used() -> None:
    code = (
        "import sys, numpy as np\n"
        "import augkit, augkit.image\n"
        "from augkit import Pipeline\n"
        "assert not {'cv2', 'torch', 'PIL'} & set(sys.modules), sorted(set(sys.modules) & {'cv2','torch','PIL'})\n"
        "from augkit.image import Rotate, RandomCrop\n"
        "RandomCrop(2)(np.zeros((4, 4), np.uint8), seed=0)\n"
        "assert 'cv2' not in sys.modules  # a crop is a slice\n"
        "Rotate(10)(np.zeros((4, 4), np.uint8), seed=0)\n"
        "assert 'cv2' in sys.modules and 'torch' not in sys.modules and 'PIL' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("op", ALL, ids=lambda o: o.name)
@pytest.mark.parametrize("shape", [(3, 16, 16), (1, 8, 9), (4, 5, 5), (3, 2, 40)])
def test_channels_first_numpy_arrays_are_refused(op: Any, shape: tuple[int, ...]) -> None:
    # Regression (issue 9): a (3, H, W) array was taken as an image 3 pixels high
    # with W channels. numpy images are HxWxC; the error says how to convert.
    x = np.zeros(shape, np.uint8)
    match = r"looks like CxHxW; numpy images are HxWxC.*np\.moveaxis\(x, 0, -1\)"
    with pytest.raises(ValueError, match=match):
        op(x, seed=0)
    with pytest.raises(ValueError, match=match):
        op({"image": x}, seed=0)
    with pytest.raises(ValueError, match=r"item\['mask'\].*looks like CxHxW"):
        op({"image": np.zeros(shape[1:], np.uint8), "mask": x}, seed=0)
    assert op(np.moveaxis(x, 0, -1), seed=0).ndim == 3


@pytest.mark.parametrize("op", ALL, ids=lambda o: o.name)
def test_channels_last_tensors_are_refused(op: Any) -> None:
    with pytest.raises(ValueError, match=r"looks like HxWxC; torch images are CxHxW.*permute"):
        op(torch.zeros(16, 16, 3), seed=0)
    assert op(torch.zeros(16, 16, 3).permute(2, 0, 1), seed=0).shape[0] == 3


@pytest.mark.parametrize(
    "shape",
    [(16, 16, 3), (3, 16, 4), (5, 16, 16), (2, 16, 16), (3, 3, 3), (4, 9, 4), (16, 16, 8)],
)
def test_unambiguous_arrays_are_taken_as_hxwxc(shape: tuple[int, ...]) -> None:
    # The rule refuses only a first axis of 1, 3 or 4 with a last axis longer than 4.
    x = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape)
    assert np.array_equal(HorizontalFlip()(x), x[:, ::-1])


def test_a_crop_to_few_rows_of_many_channels_is_refused_downstream() -> None:
    # The documented cost of the rule: a crop 1, 3 or 4 rows high of an image with
    # more than 4 channels is an array the next operator takes for CxHxW.
    six = np.zeros((10, 10, 6), np.float32)
    strip = CenterCrop((3, 8))(six)
    assert strip.shape == (3, 8, 6)
    with pytest.raises(ValueError, match="looks like CxHxW"):
        Pipeline.sequence([CenterCrop((3, 8)), HorizontalFlip()])(six, seed=0)
