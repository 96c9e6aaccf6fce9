"""augkit.image.functional: the pure layer under the operators (issue 10).

The operators' own tests (test_rotate, test_crops, test_differential, ...)
run through these functions; here: the operators are exactly one call into
them, the functions dispatch on every input kind, their examples run, and
importing them stays cheap.
"""

from __future__ import annotations

import doctest
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from augkit import item_rng
from augkit.image import (
    CenterCrop,
    HorizontalFlip,
    ImageTargets,
    RandomCrop,
    RandomResizedCrop,
    Rotate,
    VerticalFlip,
    _targets,
    targets,
)
from augkit.image import functional as F

from .helpers import apply_with, images, same, seeds, to_numpy


@pytest.mark.parametrize("module", [F, targets, _targets], ids=lambda m: m.__name__)
def test_docstring_examples_run(module: Any) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def _call(op: Any, x: Any, p: dict[str, Any]) -> Any:
    """The one functional call an operator's apply is."""
    if isinstance(op, Rotate):
        return F.rotate(
            x, p["angle"], op.interpolation, op.border, op.fill, op.expand, mask_fill=op.mask_fill
        )
    if isinstance(op, RandomResizedCrop):
        return F.resized_crop(
            x, p["top"], p["left"], p["height"], p["width"], op.size, op.interpolation
        )
    if isinstance(op, (RandomCrop, CenterCrop)):
        return F.crop(x, p["top"], p["left"], p["height"], p["width"], op.fill, copy=op.copy)
    return F.hflip(x) if isinstance(op, HorizontalFlip) else F.vflip(x)


OPS = [
    Rotate(40, interpolation="bicubic", border="reflect"),
    Rotate(40, fill=(3,), expand=True),
    RandomCrop(7, pad_if_needed=True, fill=2),
    CenterCrop((5, 9), copy=True),
    RandomResizedCrop((6, 11), interpolation="area"),
    HorizontalFlip(),
    VerticalFlip(),
]


@settings(max_examples=100, deadline=None)
@given(x=images(14, channels=(None, 1, 3)), op=st.sampled_from(OPS), seed=seeds)
def test_operators_are_one_functional_call(x: Any, op: Any, seed: int) -> None:
    if isinstance(op, CenterCrop):
        op = CenterCrop((5, 9), copy=True, pad_if_needed=True)
    p = op.sample_params(x, item_rng(seed))
    assert same(op.apply(x, p), _call(op, x, p))


def test_every_input_kind_keeps_its_kind() -> None:
    arr = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    kinds = [arr, torch.from_numpy(arr).permute(2, 0, 1), Image.fromarray(arr)]
    calls = [
        lambda x: F.rotate(x, 30),
        lambda x: F.crop(x, -1, 2, 3, 5),
        lambda x: F.resized_crop(x, 1, 1, 2, 3, (5, 4), "bicubic"),
        lambda x: F.resize(x, 8, "nearest"),
        F.hflip,
        F.vflip,
    ]
    for call in calls:
        outs = [call(x) for x in kinds]
        assert isinstance(outs[0], np.ndarray) and outs[0].dtype == np.uint8
        assert isinstance(outs[1], torch.Tensor) and outs[1].dtype == torch.uint8
        assert isinstance(outs[2], Image.Image) and outs[2].mode == "RGB"
        assert np.array_equal(np.asarray(outs[2]), outs[0])  # PIL = numpy, bit for bit
        chw = outs[1].permute(1, 2, 0).numpy().astype(int)
        assert np.abs(chw - outs[0].astype(int)).max() <= 1  # within the stated tolerance


def test_crop_is_a_view_inside_and_padded_outside() -> None:
    a = np.arange(20).reshape(4, 5)
    assert np.shares_memory(F.crop(a, 1, 1, 2, 2), a)
    assert not np.shares_memory(F.crop(a, 1, 1, 2, 2, copy=True), a)
    t = torch.from_numpy(a)
    assert F.crop(t, 0, 0, 2, 2).untyped_storage().data_ptr() == t.untyped_storage().data_ptr()
    padded = F.crop(a, -1, -1, 3, 3, fill=-5)
    assert padded.tolist() == [[-5, -5, -5], [-5, 0, 1], [-5, 5, 6]]
    assert F.crop(t, -1, -1, 3, 3, fill=-5).tolist() == padded.tolist()


def test_palette_images_are_resampled_with_nearest() -> None:
    img = Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).convert("P")
    img.putpalette(list(range(256)) * 3)
    out = F.rotate(img, 17, "bicubic")
    assert out.mode == "P" and set(np.unique(np.asarray(out))) <= set(range(64))


def test_bad_arguments_name_the_allowed_values() -> None:
    a = np.zeros((4, 4))
    with pytest.raises(ValueError, match="interpolation must be one of 'nearest', 'bilinear'"):
        F.rotate(a, 10, "linear")
    with pytest.raises(ValueError, match="border must be one of"):
        F.rotate(a, 10, border="mirror")
    with pytest.raises(ValueError, match="'area'"):
        F.resized_crop(a, 0, 0, 2, 2, 4, "lanczos")
    with pytest.raises(TypeError, match=r"numpy array .* PIL image .* torch tensor"):
        F.hflip([[1, 2]])


def test_matrices_move_boxes_as_the_kernels_move_pixels() -> None:
    # A box rendered into a mask and the box moved by the operation's matrix agree.
    hw = (9, 13)
    mask = np.zeros(hw, np.uint8)
    mask[2:6, 3:8] = 1
    box = [[3.0, 2.0, 8.0, 6.0]]
    cases = [
        (F.hflip(mask), F.hflip_matrix(hw)),
        (F.vflip(mask), F.vflip_matrix(hw)),
        (F.rotate(mask, 90, "nearest", expand=True), F.rotate_matrix(90, hw, expand=True)),
        (F.crop(mask, 1, 2, 6, 8), F.crop_matrix(1, 2, 6, 8)),
        (
            F.resized_crop(mask, 1, 2, 6, 8, (12, 16), "nearest"),
            F.resized_crop_matrix(1, 2, 6, 8, (12, 16)),
        ),
    ]
    for moved, (matrix, out_hw) in cases:
        assert moved.shape == out_hw
        rows, cols = np.nonzero(moved)
        rendered = [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
        kept, keep = F.affine_boxes(box, matrix, hw, out_hw)
        assert keep.tolist() == [True] and kept[0].tolist() == pytest.approx(rendered)


def test_functional_calls_move_a_target_item() -> None:
    item = {
        "image": np.zeros((8, 10, 3), np.uint8),
        "mask": np.eye(8, 10, dtype=np.uint8),
        "bboxes": [[1, 1, 4, 5, "a"]],
        "keypoints": [[2.0, 3.0]],
        "labels": ["a"],
    }
    value, _, put = ImageTargets(label_fields=["labels"]).split(item)
    out = put(F.crop(F.hflip(value), 0, 0, 8, 8, mask_fill=9))
    assert out["bboxes"] == [[6.0, 1.0, 8.0, 5.0, "a"]] and out["labels"] == ["a"]
    assert out["keypoints"] == [[7.0, 3.0]] and out["mask"].shape == (8, 8)
    assert np.array_equal(out["mask"], np.eye(8, 10, dtype=np.uint8)[:, ::-1][:, :8])
    gone = put(F.crop(value, 6, 6, 2, 4))
    assert gone["bboxes"] == [] and gone["labels"] == [] and gone["keypoints"] == []


def test_batched_rotation_of_tensors_needs_one_shape() -> None:
    ts = [torch.rand(3, 8, 8), torch.rand(3, 8, 9)]
    assert F._rotate_tensors(ts, [10.0, 20.0], "bilinear", "constant", 0.0) is None
    same_shape = [torch.rand(3, 8, 8), torch.rand(3, 8, 8)]
    out = F._rotate_tensors(same_shape, [10.0, 20.0], "bilinear", "constant", 0.0)
    assert out is not None
    for t, a, o in zip(same_shape, [10.0, 20.0], out):
        assert torch.equal(o, F.rotate(t, a))


def test_importing_the_functional_layer_loads_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "import augkit.image.functional, augkit.image.targets\n"
        "heavy = {'cv2', 'torch', 'PIL'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_tensors_and_targets_stay_on_the_gpu() -> None:
    dev = torch.device("cuda")
    item = {
        "image": torch.rand(3, 32, 40, device=dev),
        "mask": torch.zeros(32, 40, dtype=torch.uint8, device=dev),
        "bboxes": torch.tensor([[1.0, 2.0, 30.0, 20.0], [35.0, 25.0, 40.0, 32.0]], device=dev),
        "labels": torch.tensor([7, 8], device=dev),
        "keypoints": torch.tensor([[3.0, 4.0]], device=dev),
    }
    spec = ImageTargets(label_fields=["labels"], min_visibility=0.5)
    for op in OPS:
        out = apply_with(spec, op, item, seed=3)
        for key in ("image", "mask", "bboxes", "labels", "keypoints"):
            assert out[key].device.type == "cuda", (op, key)
        assert len(out["bboxes"]) == len(out["labels"])
        cpu = apply_with(spec, op, {k: v.cpu() for k, v in item.items()}, seed=3)
        assert torch.equal(out["labels"].cpu(), cpu["labels"])
        assert np.allclose(to_numpy(out["bboxes"]), to_numpy(cpu["bboxes"]), atol=1e-4)
