"""The item model: which part of an item a pipeline augments, and what follows along.

A data set's items are plain strings or images, mappings (``{"text": ...,
"label": ..., "id": ...}``), or tuples (``(text, label)``, as torch
datasets yield them). A *lens* splits an item into the value the operators
work on and its label, and puts the augmented value back, keeping every
other field as it was. :class:`augkit.Pipeline` holds one lens; the torch
wrappers, the corpus runner and label-aware operators all go through it.

- :class:`FieldLens` (``Pipeline(..., key="text", label="label")``): the value
  is ``item[key]`` of a mapping item, the first element of a tuple item, or
  the item itself; the label is ``item[label]`` of a mapping (``None`` when
  absent) or the tuple's second element.
- :class:`augkit.image.ImageTargets` (``Pipeline(..., targets=...)``): an
  image with its masks, boxes and keypoints, declared once.

Operators that read the label (``needs_label = True``, such as label-aware
splicing) receive :class:`Labelled` ``(value, label)`` pairs and return the
new value; the others receive the value alone.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

from .registry import register_lens

__all__ = ["FieldLens", "ItemLens", "Labelled", "split_tuple", "values_equal"]


class Labelled(NamedTuple):
    """What a label-aware operator receives: the value to augment and the item's label."""

    value: Any
    label: Any


@runtime_checkable
class ItemLens(Protocol):
    """Splits items into ``(value, label, put)`` and describes itself for configs."""

    def split(self, item: Any) -> tuple[Any, Any, Callable[[Any], Any]]:
        """The value to augment, the label (or ``None``) and ``put(new_value) -> new item``."""
        ...

    def to_dict(self) -> dict[str, Any]: ...


def split_tuple(item: tuple[Any, ...]) -> tuple[Any, Any, Callable[[Any], Any]]:
    """``(head, label, put)`` of a tuple item ``(x, y, ...)``: the label is the second element."""
    if not item:
        raise ValueError("cannot augment an empty tuple item")
    head, rest = item[0], item[1:]
    label = rest[0] if rest else None

    def put(new: Any) -> Any:
        out = (new, *rest)
        return type(item)(*out) if hasattr(item, "_fields") else out

    return head, label, put


@register_lens("field")
class FieldLens:
    """One field of mapping items (the item itself otherwise) is augmented; the rest follows.

    ``key``: the field of a mapping item to augment; ``None`` augments the
    mapping whole. ``label``: the field (or fields: their values as a tuple)
    holding the label of a mapping item; tuple items ``(x, y, ...)`` have
    their label in ``y``. Lists are values, not ``(x, y)`` pairs: a list of
    tokens is augmented whole.
    """

    def __init__(self, key: str | None = None, label: str | Sequence[str] | None = "label") -> None:
        if key is not None and not isinstance(key, str):
            raise TypeError(f"key must be a field name (str) or None, got {type(key).__name__}")
        if label is not None and not isinstance(label, str):
            if not isinstance(label, Sequence) or not all(isinstance(v, str) for v in label):
                raise TypeError("label must be a field name, a list of field names, or None")
            label = list(label)
        if key is not None and (label == key or (isinstance(label, list) and key in label)):
            raise ValueError(f"the label field must differ from the augmented field {key!r}")
        self.key = key
        self.label: str | list[str] | None = label

    def split(self, item: Any) -> tuple[Any, Any, Callable[[Any], Any]]:
        if type(item) is str:  # the common case first
            return item, None, _replace
        if isinstance(item, tuple):
            head, label, put_tuple = split_tuple(item)
            if isinstance(head, Mapping) and self.key is not None:
                value, _, put_head = self._split_mapping(head)
                return value, label, lambda new: put_tuple(put_head(new))
            return head, label, put_tuple
        if isinstance(item, Mapping) and self.key is not None:
            return self._split_mapping(item)
        return item, None, _replace

    def _split_mapping(self, item: Mapping[str, Any]) -> tuple[Any, Any, Callable[[Any], Any]]:
        key = self.key
        assert key is not None
        if key not in item:
            raise KeyError(
                f"item has no field {key!r} (fields: {sorted(map(str, item))}); "
                "say which field to augment with the pipeline's key="
            )
        if self.label is None:
            label = None
        elif isinstance(self.label, str):
            label = item.get(self.label)
        else:
            label = tuple(item.get(f) for f in self.label)

        def put(new: Any) -> dict[str, Any]:
            out = dict(item)
            out[key] = new
            return out

        return item[key], label, put

    def to_dict(self) -> dict[str, Any]:
        return {"type": "field", "key": self.key, "label": self.label}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldLens) and (self.key, self.label) == (other.key, other.label)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FieldLens(key={self.key!r}, label={self.label!r})"


def _replace(new: Any) -> Any:
    return new


def values_equal(a: Any, b: Any) -> bool:
    """Whether two augmentation values are the same: text, arrays, tensors, PIL images, items.

    Arrays compare by shape, dtype and content (NaN equal to NaN), tensors
    likewise (and device), PIL images by mode, size and pixels, mappings and
    sequences element by element.
    """
    if a is b:
        return True
    ta, tb = type(a), type(b)
    if ta is str or tb is str:
        return bool(a == b)
    np = sys.modules.get("numpy")
    if np is not None and (isinstance(a, np.ndarray) or isinstance(b, np.ndarray)):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        )
    torch = sys.modules.get("torch")
    if torch is not None and (isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor)):
        if not (
            isinstance(a, torch.Tensor)
            and isinstance(b, torch.Tensor)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and a.device == b.device
        ):
            return False
        if a.is_floating_point() or a.is_complex():
            return bool(((a == b) | (a.isnan() & b.isnan())).all())
        return bool(torch.equal(a, b))
    if hasattr(a, "tobytes") and hasattr(a, "mode") and hasattr(a, "size"):  # PIL images
        return (
            hasattr(b, "tobytes")
            and getattr(b, "mode", None) == a.mode
            and getattr(b, "size", None) == a.size
            and a.tobytes() == b.tobytes()
        )
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        return (
            isinstance(a, Mapping)
            and isinstance(b, Mapping)
            and a.keys() == b.keys()
            and all(values_equal(a[k], b[k]) for k in a)
        )
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (
            isinstance(a, (list, tuple))
            and isinstance(b, (list, tuple))
            and len(a) == len(b)
            and all(values_equal(x, y) for x, y in zip(a, b))
        )
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
