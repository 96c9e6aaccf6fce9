"""ImageTargets (issue 10): image targets declared once, on the pipeline.

The spec is validated and serialisable; the lens converts an item once into
a canonical TargetItem and back, in the user's format and containers; label
fields follow the boxes that survive; unknown keys are errors.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import numpy as np
import pytest
import torch

from augkit import ConfigError, Identity, Pipeline
from augkit.base import BaseAugmenter
from augkit.image import (
    CenterCrop,
    HorizontalFlip,
    ImageTargets,
    RandomCrop,
    RandomResizedCrop,
    Rotate,
    TargetItem,
    VerticalFlip,
)
from augkit.image import functional as F
from augkit.items import values_equal
from augkit.registry import lens_from_dict

from .helpers import apply_with

# --------------------------------------------------------------------------- the example


def test_coco_boxes_through_a_crop_and_a_flip() -> None:
    # Issue 10: CenterCrop(bbox_format="coco") then HorizontalFlip() turned the coco box
    # [10, 10, 100, 100] of a 240x320 image into [200, 0, 300, 90]: the flip read the
    # crop's coco output as pascal_voc. Declared once, every step sees one format.
    item = {"image": np.zeros((240, 320, 3), np.uint8), "bboxes": [[10, 10, 100, 100]]}
    pipe = Pipeline.sequence(
        [CenterCrop((200, 300)), HorizontalFlip()], targets=ImageTargets(bbox_format="coco")
    )
    # The crop starts at (top 20, left 10): the box is [0, 0, 100, 90] in pascal_voc,
    # mirrored in the 300-wide crop [200, 0, 300, 90], in coco [200, 0, 100, 90].
    assert pipe(item, seed=0)["bboxes"] == [[200.0, 0.0, 100.0, 90.0]]
    yolo = [[60 / 320, 60 / 240, 100 / 320, 100 / 240]]  # the same box
    out = pipe.with_item(targets=ImageTargets(bbox_format="yolo"))(
        {"image": item["image"], "bboxes": yolo}, seed=0
    )
    assert out["bboxes"][0] == pytest.approx([250 / 300, 45 / 200, 100 / 300, 90 / 200])


def test_operators_refuse_a_box_format_with_the_migration() -> None:
    with pytest.raises(TypeError, match=r"targets=ImageTargets\(bbox_format='coco'\)"):
        CenterCrop((200, 300), bbox_format="coco")


# --------------------------------------------------------------------------- label fields


def _drop_two() -> tuple[dict[str, Any], Any, dict[str, Any]]:
    """A 10x20 image, three boxes; a crop to columns 0..9 keeps "a" and "b", drops "c"."""
    boxes = [[0, 0, 10, 10], [8, 0, 18, 10], [12, 2, 20, 4]]
    window = {"top": 0, "left": 0, "height": 10, "width": 10}
    return {"image": np.zeros((10, 20), np.uint8), "bboxes": boxes}, CenterCrop((10, 10)), window


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["a", "b", "c"], ["a"]),
        (("a", "b", "c"), ("a",)),
        (np.array([1, 2, 3], np.int16), np.array([1], np.int16)),
        (np.array([[1, 1], [2, 2], [3, 3]]), np.array([[1, 1]])),
        (torch.tensor([1, 2, 3]), torch.tensor([1])),
    ],
    ids=["list", "tuple", "numpy", "numpy-2d", "tensor"],
)
def test_label_fields_follow_the_boxes_that_survive(labels: Any, expected: Any) -> None:
    item, crop, window = _drop_two()
    spec = ImageTargets(label_fields=["labels", "scores"], min_visibility=0.5)
    out = apply_with(spec, crop, {**item, "labels": labels, "scores": [0.9, 0.8, 0.7]}, window)
    assert out["bboxes"] == [[0.0, 0.0, 10.0, 10.0]]
    assert type(out["labels"]) is type(labels) and values_equal(out["labels"], expected)
    assert out["scores"] == [0.9]
    if isinstance(labels, np.ndarray):
        assert out["labels"].dtype == labels.dtype


def test_label_fields_of_a_tensor_stay_on_its_device() -> None:
    item, crop, window = _drop_two()
    labels = torch.tensor([4, 5, 6])
    out = apply_with(ImageTargets(label_fields="labels"), crop, {**item, "labels": labels}, window)
    assert out["labels"].device == labels.device and out["labels"].tolist() == [4, 5]


def test_labels_in_a_pipeline_stay_aligned_over_several_steps() -> None:
    rng = np.random.default_rng(0)
    boxes = [[int(x), int(y), int(x) + 6, int(y) + 6] for x, y in rng.integers(0, 34, (12, 2))]
    item = {"image": np.zeros((40, 40), np.uint8), "bboxes": boxes, "labels": list(range(12))}
    spec = ImageTargets(label_fields=["labels"], min_visibility=0.4)
    pipe = Pipeline.sequence([Rotate(40), RandomCrop(24), HorizontalFlip()], targets=spec)
    for seed in range(20):
        out = pipe(item, seed=seed)
        assert len(out["bboxes"]) == len(out["labels"])
        assert out["labels"] == sorted(out["labels"])  # order kept
    # A label field without boxes must be empty, and one of the wrong length is refused.
    with pytest.raises(ValueError, match="label field 'labels' has 11 entries but the item has 12"):
        pipe({**item, "labels": list(range(11))}, seed=0)
    with pytest.raises(TypeError, match="label field"):
        pipe({**item, "labels": "abc"}, seed=0)


def test_keypoint_label_fields_follow_the_keypoints() -> None:
    item = {
        "image": np.zeros((10, 10), np.uint8),
        "keypoints": [[1.0, 1.0], [8.0, 8.0], [2.0, 3.0]],
        "names": ["eye", "tail", "nose"],
    }
    window = {"top": 0, "left": 0, "height": 5, "width": 5}
    drop = apply_with(ImageTargets(keypoint_label_fields=["names"]), CenterCrop(5), item, window)
    assert drop["names"] == ["eye", "nose"] and len(drop["keypoints"]) == 2
    spec = ImageTargets(keypoint_label_fields=["names"], keypoints="mark")
    mark = apply_with(spec, CenterCrop(5), item, window)
    assert mark["names"] == item["names"] and mark["keypoints_visible"] == [True, False, True]


def test_extra_columns_and_label_fields_agree() -> None:
    item, crop, window = _drop_two()
    rows = [[*b, f"row{i}"] for i, b in enumerate(item["bboxes"])]
    spec = ImageTargets(label_fields=["labels"])
    out = apply_with(spec, crop, {**item, "bboxes": rows, "labels": ["a", "b", "c"]}, window)
    assert [r[4] for r in out["bboxes"]] == ["row0", "row1"] and out["labels"] == ["a", "b"]


# --------------------------------------------------------------------------- min_area


def test_min_area_drops_small_boxes_after_each_step() -> None:
    item = {"image": np.zeros((10, 20), np.uint8), "bboxes": [[0, 0, 10, 10], [8, 0, 12, 10]]}
    window = {"top": 0, "left": 0, "height": 10, "width": 10}
    # After the crop the second box is 2x10 = 20 pixels.
    keep = apply_with(ImageTargets(min_area=20), CenterCrop((10, 10)), item, window)
    assert keep["bboxes"] == [[0.0, 0.0, 10.0, 10.0], [8.0, 0.0, 10.0, 10.0]]
    drop = apply_with(ImageTargets(min_area=20.5), CenterCrop((10, 10)), item, window)
    assert drop["bboxes"] == [[0.0, 0.0, 10.0, 10.0]]
    # In a resized crop the area counts in output pixels: 2x10 scaled by 3 is 180.
    rrc = RandomResizedCrop((30, 30))
    p = {**window, "fallback": False}
    assert len(apply_with(ImageTargets(min_area=180), rrc, item, p)["bboxes"]) == 2
    assert len(apply_with(ImageTargets(min_area=181), rrc, item, p)["bboxes"]) == 1


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("boxes", "did you mean 'bboxes'"),
        ("bbox", "did you mean 'bboxes'"),
        ("keypoint", "did you mean 'keypoints'"),
        ("label", "passthrough=['label']"),
        ("class_ids", "label_fields=['class_ids']"),
        ("depth", ""),
    ],
)
def test_unknown_keys_are_errors_that_name_the_known_ones(key: str, hint: str) -> None:
    spec = ImageTargets(label_fields=["labels"], passthrough=["id"])
    item = {"image": np.zeros((4, 4)), "labels": [], key: [[0, 0, 1, 1]]}
    with pytest.raises(ValueError) as err:
        spec.split(item)
    message = str(err.value)
    assert f"unknown key(s) {key!r}" in message and hint in message
    for known in ("'image'", "'mask'", "'masks'", "'bboxes'", "'keypoints'"):
        assert known in message
    assert "label_fields=['labels']" in message and "passthrough=['id']" in message
    # Operators called alone read a dict with ImageTargets(): the same error.
    with pytest.raises(ValueError, match="unknown key"):
        HorizontalFlip()({"image": np.zeros((4, 4)), key: 1})


def test_passthrough_keys_pass_untouched() -> None:
    meta = {"source": "camera 3", "tags": ["a"]}
    item = {"image": np.zeros((6, 8), np.uint8), "id": 17, "meta": meta}
    pipe = Pipeline.sequence(
        [Rotate(30), HorizontalFlip()], targets=ImageTargets(passthrough=["id", "meta"])
    )
    out = pipe(item, seed=1)
    assert out["id"] == 17 and out["meta"] is meta and list(out) == list(item)


def test_tuple_items_keep_their_label() -> None:
    spec = ImageTargets(passthrough=["id"])
    pipe = Pipeline.sequence([HorizontalFlip()], targets=spec)
    item = {"image": np.arange(6).reshape(2, 3), "bboxes": [[0, 0, 1, 1]], "id": 1}
    out, y = pipe((item, "cat"), seed=0)
    assert y == "cat" and out["bboxes"] == [[2.0, 0.0, 3.0, 1.0]] and out["id"] == 1
    img, y = pipe((np.arange(6).reshape(2, 3), 3), seed=0)  # a bare image in a tuple
    assert y == 3 and img.tolist() == [[2, 1, 0], [5, 4, 3]]
    assert spec.split((item, "cat"))[1] == "cat"


# --------------------------------------------------------------------------- masks


def test_extra_masks_move_with_the_image() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (12, 16, 3)).astype(np.uint8)
    mask = rng.integers(0, 4, (12, 16)).astype(np.uint8)
    depth = rng.random((12, 16)).astype(np.float32)
    instances = [rng.integers(0, 2, (12, 16)).astype(bool) for _ in range(3)]
    item = {"image": image, "mask": mask, "depth": depth, "masks": instances}
    spec = ImageTargets(masks=["depth"])
    op = Rotate((33, 33), interpolation="bilinear", mask_fill=9)
    out = apply_with(spec, op, item, {"angle": 33.0})
    nearest = Rotate((33, 33), interpolation="nearest", fill=9)
    assert np.array_equal(out["mask"], nearest.apply(mask, {"angle": 33.0}))
    # Extra masks are sampled with nearest too: the depth values are never blended.
    assert np.array_equal(out["depth"], nearest.apply(depth, {"angle": 33.0}))
    assert isinstance(out["masks"], list) and len(out["masks"]) == 3
    for got, m in zip(out["masks"], instances):
        assert got.dtype == bool and np.array_equal(got, nearest.apply(m, {"angle": 33.0}))
    tupled = apply_with(spec, HorizontalFlip(), {**item, "masks": tuple(instances)})
    assert isinstance(tupled["masks"], tuple)
    with pytest.raises(ValueError, match=r"item\['depth'\] is 12x15"):
        spec.split({**item, "depth": depth[:, :15]})
    with pytest.raises(ValueError, match=r"item\['masks'\]\[1\] is"):
        spec.split({**item, "masks": [instances[0], instances[1][1:]]})
    with pytest.raises(TypeError, match="list of masks"):
        spec.split({**item, "masks": np.stack(instances)})
    with pytest.raises(ValueError, match=r"unknown key.*'depth'"):
        ImageTargets().split(item)  # not declared


def test_masks_of_a_tensor_item() -> None:
    t = torch.arange(2 * 4 * 6, dtype=torch.float32).reshape(2, 4, 6)
    item = {"image": t, "mask": torch.ones(4, 6, dtype=torch.uint8), "masks": [t[0] > 5]}
    out = apply_with(ImageTargets(), VerticalFlip(), item)
    assert torch.equal(out["image"], t.flip(-2)) and torch.equal(
        out["masks"][0], (t[0] > 5).flip(0)
    )


# --------------------------------------------------------------------------- keypoint policy


def test_keypoint_policy_comes_from_the_spec() -> None:
    item = {"image": np.zeros((10, 10), np.uint8), "keypoints": [[1.0, 1.0], [8.0, 8.0]]}
    ops = [RandomCrop(5), HorizontalFlip()]
    for seed in range(5):
        drop = Pipeline.sequence(ops, targets=ImageTargets())(item, seed=seed)
        mark = Pipeline.sequence(ops, targets=ImageTargets(keypoints="mark"))(item, seed=seed)
        assert len(mark["keypoints"]) == 2 and len(mark["keypoints_visible"]) == 2
        assert len(drop["keypoints"]) == sum(mark["keypoints_visible"])
        assert "keypoints_visible" not in drop


# --------------------------------------------------------------------------- round trips

FORMATS = ("pascal_voc", "coco", "yolo")


def _boxes_in(fmt: str, hw: tuple[int, int]) -> np.ndarray:
    pascal = np.array([[1.0, 2.0, 7.5, 9.0], [0.0, 0.0, 16.0, 12.0], [3.25, 4.0, 5.0, 11.0]])
    return F.convert_boxes(pascal, "pascal_voc", fmt, hw)


def _container(kind: str, rows: np.ndarray, extra: bool) -> Any:
    """``rows`` (N, width) as a list of rows / float64 / float32 array / tensor, with an id
    column when ``extra``."""
    width = rows.shape[1]
    full = np.concatenate([rows, np.arange(len(rows))[:, None]], axis=1) if extra else rows
    if kind == "list":
        return [[*map(float, r[:width]), *([int(r[width])] if extra else [])] for r in full]
    if kind == "numpy32":
        return full.astype(np.float32)
    if kind == "numpy":
        return full
    return torch.from_numpy(full)


CONTAINERS = ("list", "numpy", "numpy32", "tensor")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", CONTAINERS)
@pytest.mark.parametrize("extra", [False, True])
def test_split_then_put_is_the_identity(fmt: str, kind: str, extra: bool) -> None:
    hw = (12, 16)
    boxes = _container(kind, _boxes_in(fmt, hw), extra)
    item = {
        "image": np.zeros(hw, np.uint8),
        "mask": np.ones(hw, np.uint8),
        "bboxes": boxes,
        "labels": ["a", "b", "c"],
        "keypoints": _container(kind, np.array([[1.0, 2.0], [15.5, 11.5]]), extra),
        "keypoints_visible": [True, False],
        "id": 3,
    }
    spec = ImageTargets(fmt, label_fields=["labels"], passthrough=["id"], keypoints="mark")
    value, label, put = spec.split(item)
    assert isinstance(value, TargetItem) and label is None
    assert value.boxes is not None and value.boxes.dtype == np.float64
    assert np.allclose(value.boxes, _boxes_in("pascal_voc", hw))
    out = put(value)
    assert out.keys() == item.keys() and all(out[k] is item[k] for k in item)
    # A step that moves nothing but the image (a photometric one) leaves every target as given.
    brighter = put(value.replace(image=value.image + 1))
    assert brighter["bboxes"] is boxes and brighter["image"].max() == 1
    # Through real geometry that ends where it started: the same values, the same containers.
    twice = Pipeline.sequence([HorizontalFlip(), HorizontalFlip()], targets=spec)(item, seed=0)
    for key in ("bboxes", "keypoints"):
        assert type(twice[key]) is type(item[key])
        assert np.allclose(np.asarray(twice[key], dtype=float), np.asarray(item[key], dtype=float))
        if kind.startswith("numpy"):
            assert twice[key].dtype == item[key].dtype
        if kind == "list" and extra:
            assert [r[-1] for r in twice[key]] == [r[-1] for r in item[key]]
    assert twice["labels"] == item["labels"] and twice["keypoints_visible"] == [True, False]


def test_identity_operators_leave_the_item_as_it_was() -> None:
    item = {"image": np.zeros((4, 4)), "bboxes": [[0, 0, 1, 1]], "keypoints": [[1, 1]]}
    out = Pipeline.sequence([Identity()], targets=ImageTargets())(item, seed=0)
    assert out["bboxes"] is item["bboxes"] and out["keypoints"] is item["keypoints"]


def test_the_spec_round_trips_through_configs() -> None:
    spec = ImageTargets(
        "yolo",
        label_fields=["labels", "scores"],
        min_visibility=0.25,
        min_area=4,
        keypoints="mark",
        keypoint_label_fields=["names"],
        masks=["depth"],
        passthrough=["id", "meta"],
    )
    d = spec.to_dict()
    assert d["type"] == "image_targets" and d["label_fields"] == ["labels", "scores"]
    assert json.loads(json.dumps(d)) == d
    assert lens_from_dict(d) == spec and ImageTargets.from_dict(d) == spec
    assert pickle.loads(pickle.dumps(spec)) == spec and hash(spec) == hash(
        ImageTargets(**{k: v for k, v in d.items() if k != "type"})
    )
    pipe = Pipeline.sequence([Rotate(20), HorizontalFlip()], targets=spec)
    config = pipe.to_dict()
    assert config["targets"] == d and "key" not in config
    for clone in (Pipeline.from_dict(config), Pipeline.from_json(pipe.to_json())):
        assert clone.lens == spec
    assert Pipeline.from_yaml(pipe.to_yaml()).lens == spec
    # A targets mapping without its type is read as image targets.
    assert Pipeline.from_dict({**config, "targets": {"bbox_format": "coco"}}).lens == ImageTargets(
        "coco"
    )
    with pytest.raises(ConfigError, match="bbox_format"):
        Pipeline.from_dict({**config, "targets": {"type": "image_targets", "bbox_format": "xy"}})


def test_the_spec_is_frozen_and_derives_copies() -> None:
    spec = ImageTargets(label_fields=["a"])
    with pytest.raises(AttributeError):
        spec.bbox_format = "coco"  # type: ignore[misc]
    assert spec.replace(bbox_format="coco") == ImageTargets("coco", label_fields=("a",))
    with pytest.raises(ValueError, match="bbox_format"):
        spec.replace(bbox_format="xyxy")
    assert "label_fields=('a',)" in repr(spec)
    described = Pipeline.sequence([HorizontalFlip()], targets=spec).describe()
    assert "ImageTargets(" in described


def test_an_operator_must_return_the_target_item() -> None:
    class ToArray(BaseAugmenter):
        modality = "image"

        def apply(self, x: Any, params: Any) -> Any:
            return x.image

    with pytest.raises(TypeError, match=r"returned ndarray for an image item.*TargetItem"):
        Pipeline.sequence([ToArray()], targets=ImageTargets())({"image": np.zeros((2, 2))}, seed=0)


def test_target_items_compare_by_content() -> None:
    item = {"image": np.zeros((4, 4)), "bboxes": [[0, 0, 2, 2]]}
    a = ImageTargets().split(item)[0]
    b = ImageTargets().split(dict(item))[0]
    assert a == b and a != F.hflip(a) and F.hflip(F.hflip(a)) == a
    assert "boxes=1" in repr(a)
    with pytest.raises(TypeError, match="no field"):
        a.replace(bboxes=None)


def test_traces_replay_and_say_what_changed() -> None:
    item = {"image": np.arange(16.0).reshape(4, 4), "bboxes": [[0, 0, 2, 2]], "labels": ["x"]}
    pipe = Pipeline.sometimes(HorizontalFlip(), p=0.5, targets=ImageTargets(label_fields="labels"))
    for seed in range(6):
        out, trace = pipe.augment(item, seed=seed, return_trace=True)
        assert values_equal(pipe.replay(item, trace), out)
        assert trace.changed == (len(trace.steps) == 1)


# --------------------------------------------------------------------------- version 1 configs


def v1(*ops: dict[str, Any]) -> dict[str, Any]:
    """A version-1 pipeline config of these operators, in sequence."""
    n = len(ops)
    start = [1.0] + [0.0] * (n - 1)
    trans = [[1.0 if j == i + 1 else 0.0 for j in range(n)] for i in range(n)]
    return {
        "format": "augkit.pipeline",
        "version": 1,
        "key": None,
        "operators": list(ops),
        "chain": {"start": start, "transitions": trans, "max_steps": None},
    }


def test_v1_operator_parameters_move_to_the_targets() -> None:
    from augkit import Pipeline

    ops = [
        {"type": "rotate", "params": {"degrees": 10, "bbox_format": "coco", "min_visibility": 0.3}},
        {
            "type": "center_crop",
            "params": {"size": 8, "bbox_format": "coco", "min_visibility": 0.3},
        },
        {"type": "horizontal_flip", "params": {"bbox_format": "coco"}},
        {"type": "identity"},
    ]
    pipe = Pipeline.from_dict(v1(*ops))
    assert [op.to_dict() for op in pipe.ops] == [
        {"type": "rotate", "params": pipe.ops[0].to_dict()["params"]},
        {"type": "center_crop", "params": pipe.ops[1].to_dict()["params"]},
        {"type": "horizontal_flip", "params": {"nan_policy": "propagate"}},
        {"type": "identity", "params": {}},
    ]
    assert "bbox_format" not in pipe.ops[0].to_dict()["params"]
    assert pipe.lens == ImageTargets("coco", min_visibility=0.3)
    assert ops[0]["params"]["bbox_format"] == "coco"  # the input is not changed
    # Defaults everywhere: the default targets.
    plain = Pipeline.from_dict(
        v1({"type": "rotate", "params": {"degrees": 5}}, {"type": "vertical_flip"})
    )
    assert plain.lens == ImageTargets()
    # A flip's min_visibility and keypoint policy never had an effect: no vote.
    flips = Pipeline.from_dict(
        v1(
            {"type": "rotate", "params": {"outside_keypoints": "mark"}},
            {
                "type": "horizontal_flip",
                "params": {"outside_keypoints": "drop", "min_visibility": 0.9},
            },
        )
    )
    assert flips.lens == ImageTargets(keypoints="mark")


def test_v1_operators_that_disagree_are_a_config_error() -> None:
    from augkit import Pipeline

    # The pipeline, as a version-1 config: the flip read coco boxes as pascal_voc.
    ops = [
        {"type": "center_crop", "params": {"size": [200, 300], "bbox_format": "coco"}},
        {"type": "horizontal_flip"},
    ]
    with pytest.raises(ConfigError) as err:
        Pipeline.from_dict(v1(*ops))
    message = str(err.value)
    assert "different bbox_format values" in message
    assert "operators[0] (center_crop) 'coco'" in message
    assert "operators[1] (horizontal_flip) 'pascal_voc' (the default)" in message
    assert "targets: {bbox_format: ...}" in message
    with pytest.raises(ConfigError, match="min_visibility"):
        Pipeline.from_dict(
            v1(
                {"type": "rotate", "params": {"min_visibility": 0.2}},
                {"type": "random_crop", "params": {"size": 4, "min_visibility": 0.5}},
            )
        )
    with pytest.raises(ConfigError, match="bbox_format must be one of"):
        Pipeline.from_dict(v1({"type": "rotate", "params": {"bbox_format": "xyxy"}}))


def test_a_v1_pipeline_config_with_coco_operators_reads_with_coco_targets() -> None:
    from augkit import ConfigError, Pipeline

    v1 = {
        "format": "augkit.pipeline",
        "version": 1,
        "key": None,
        "operators": [
            {"type": "center_crop", "params": {"size": [200, 300], "bbox_format": "coco"}},
            {"type": "horizontal_flip", "params": {"bbox_format": "coco"}},
        ],
        "chain": {"start": [1.0, 0.0], "transitions": [[0, 1], [0, 0]], "max_steps": None},
    }
    pipe = Pipeline.from_dict(v1)
    assert pipe.to_dict()["targets"]["bbox_format"] == "coco"
    item = {"image": np.zeros((240, 320, 3), np.uint8), "bboxes": [[10, 10, 100, 100]]}
    assert pipe.augment(item, seed=0)["bboxes"] == [[200.0, 0.0, 100.0, 90.0]]
    assert Pipeline.from_dict(pipe.to_dict()).to_dict() == pipe.to_dict()
    # A v1 text config is untouched by the image migration.
    text = {**v1, "operators": [{"type": "identity"}, {"type": "identity"}], "key": "text"}
    assert Pipeline.from_dict(text).key == "text"
    clash = {**v1, "operators": [v1["operators"][0], {"type": "rotate", "params": {}}]}
    with pytest.raises(ConfigError):
        Pipeline.from_dict(clash)


def test_targets_of_a_nested_pipeline_are_the_outer_pipeline_s() -> None:
    from augkit import Pipeline

    coco = ImageTargets(bbox_format="coco")
    inner = Pipeline.sequence([CenterCrop((200, 300)), HorizontalFlip()], targets=coco)
    item = {"image": np.zeros((240, 320, 3), np.uint8), "bboxes": [[10, 10, 100, 100]]}
    expected = inner.augment(item, seed=0)["bboxes"]
    assert expected == [[200.0, 0.0, 100.0, 90.0]]
    # An outer pipeline that declares nothing takes the nested targets up ...
    outer = Pipeline.sequence([inner])
    assert outer.lens == coco and outer.augment(item, seed=0)["bboxes"] == expected
    assert Pipeline.from_dict(outer.to_dict()).augment(item, seed=0)["bboxes"] == expected
    # ... and one that declares other targets is refused, not silently obeyed.
    with pytest.raises(ValueError, match="declare key/label/targets once"):
        Pipeline.sequence([inner], targets=ImageTargets())


def test_with_item_and_wrapper_keys_do_not_drop_targets() -> None:
    from augkit import Pipeline

    pipe = Pipeline.sequence([HorizontalFlip()], targets=ImageTargets(bbox_format="coco"))
    with pytest.raises(ValueError, match="no key or label"):
        pipe.with_item(label="y")
    assert pipe.with_item(targets=ImageTargets()).lens == ImageTargets()
    torch_mod = pytest.importorskip("augkit.torch")
    with pytest.raises(ValueError, match="no key or label"):
        torch_mod.AugmentedDataset([{"image": np.zeros((4, 4), np.uint8)}], pipe, key="image")


def test_the_example_image_config_runs_on_the_bundled_sample() -> None:
    from pathlib import Path

    from augkit import Pipeline
    from augkit.image.preview import load_sample

    root = Path(__file__).resolve().parents[2]
    pipe = Pipeline.load(root / "examples" / "image_pipeline.yaml")
    sample = load_sample()
    outs = pipe.augment_batch([sample] * 8, seed=0)
    labels = {row[4] for row in sample["bboxes"]}
    for out in outs:
        assert out["image"].shape[:2] == (224, 224)
        assert len(out["bboxes"]) <= len(sample["bboxes"])
        assert {row[4] for row in out["bboxes"]} <= labels  # a box keeps its label column
        assert len(out["keypoints"]) == len(sample["keypoints"])  # marked, never dropped
