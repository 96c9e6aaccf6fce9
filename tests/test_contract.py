"""Every registered operator, and a minimal duck-typed one, passes augkit.testing.check_operator.

``CASES`` holds, for each built-in operator name, the configurations and
inputs it is checked with; a test makes sure no registered operator is
missing from it, so a new operator cannot skip the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from augkit import Identity, Pipeline, _catalog
from augkit.items import Labelled
from augkit.testing import ContractError, check_operator
from tests.ops import Append, AppendToken, DropChar

TEXTS = ["The cat sat on the mat. It was warm.", "One.", "", "Ünïcödé ✓ 猫 and 👍🏽 words"]

Case = tuple[Any, list[Any], dict[str, Any]]


def _image_inputs() -> list[Any]:
    import torch
    from PIL import Image

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    # A dict item with every target, read with the default ImageTargets (pascal_voc).
    item = {
        "image": rgb,
        "mask": (rgb[..., 0] > 128).astype(np.uint8),
        "bboxes": [[2.0, 3.0, 20.0, 18.0], [10.0, 1.0, 30.0, 22.0]],
        "keypoints": [[5.0, 6.0], [25.0, 20.0]],
    }
    return [
        rgb,
        rng.random((20, 18), dtype=np.float32),
        torch.from_numpy(rgb).permute(2, 0, 1).contiguous(),
        Image.fromarray(rgb),
        item,
    ]


def _image(factory: Callable[[], Any]) -> Callable[..., list[Case]]:
    def cases(**_: Any) -> list[Case]:
        from augkit.image import ImageTargets

        # As items come (a dict read with the default targets at every step),
        # and with the targets declared once on the pipeline.
        declared = {"item": {"targets": ImageTargets(keypoints="mark", min_visibility=0.2)}}
        return [(factory(), _image_inputs(), {}), (factory(), _image_inputs(), declared)]

    return cases


def _identity(**_: Any) -> list[Case]:
    return [(Identity(), ["text", "", 3.5], {})]


def _pipeline(**_: Any) -> list[Case]:
    inner = Pipeline.markov(
        [AppendToken(), DropChar()], [0.6, 0.4], [[0.0, 0.5], [0.5, 0.0]], max_steps=3
    )
    return [(inner, TEXTS, {}), (Pipeline.one_of([inner, AppendToken()]), TEXTS, {})]


def _random_insertion(tiny_mlm_dir: Any, **_: Any) -> list[Case]:
    from augkit.text import MaskedLM, RandomInsertion, Synonyms, Vocabulary

    cases: list[Case] = [
        (RandomInsertion(Vocabulary(["really", "quite"]), rate=0.3), TEXTS, {}),
        (RandomInsertion(MaskedLM(str(tiny_mlm_dir), device="cpu"), rate=0.3), TEXTS, {}),
    ]
    if Synonyms.available():
        cases.append((RandomInsertion(Synonyms(), rate=0.3), TEXTS, {}))
    return cases


def _chunk_recombination(**_: Any) -> list[Case]:
    from augkit.text import ChunkRecombination

    pool = ["A donor. Another donor.", "Negative one. Negative two."]
    labelled = ChunkRecombination.from_dataset(pool, ["pos", "neg"], rate=0.5)
    return [
        (ChunkRecombination(), TEXTS, {}),
        (ChunkRecombination("window", window_size=2, drop=0.2, repeat=0.2), TEXTS, {}),
        (labelled, [Labelled(t, "pos") for t in TEXTS], {}),
    ]


def _back_translation(marian_dir: Any, **_: Any) -> list[Case]:
    from augkit.text import BackTranslation

    sampled = BackTranslation(
        forward_model=marian_dir, backward_model=marian_dir, device="cpu", temperature=0.9
    )
    return [(sampled, ["The cat sees a dog.", "", "Tom helps Maria."], {})]


def _nlpaug(**_: Any) -> list[Case]:
    pytest.importorskip("nlpaug")
    from augkit.adapters import Nlpaug

    return [(Nlpaug.from_spec("RandomWordAug", action="swap"), TEXTS, {})]


def _image_op(name: str, *args: Any, **kwargs: Any) -> Callable[..., list[Case]]:
    def factory() -> Any:
        import augkit.image

        return getattr(augkit.image, name)(*args, **kwargs)

    return _image(factory)


CASES: dict[str, Callable[..., list[Case]]] = {
    "identity": _identity,
    "pipeline": _pipeline,
    "random_insertion": _random_insertion,
    "chunk_recombination": _chunk_recombination,
    "back_translation": _back_translation,
    "nlpaug": _nlpaug,
    "rotate": _image_op("Rotate", 30),
    "random_crop": _image_op("RandomCrop", 8, padding=2),
    "center_crop": _image_op("CenterCrop", (10, 12)),
    "random_resized_crop": _image_op("RandomResizedCrop", 12),
    "horizontal_flip": _image_op("HorizontalFlip"),
    "vertical_flip": _image_op("VerticalFlip"),
}
# The model-backed operators share the tiny translation model with tests/translate.
_GROUP = {"back_translation": "translate"}


def test_every_registered_operator_has_contract_cases() -> None:
    assert sorted(CASES) == sorted(_catalog.OPERATORS)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xdist_group(_GROUP[n])) if n in _GROUP else n
        for n in sorted(CASES)
    ],
)
def test_operator_contract(name: str, request: pytest.FixtureRequest) -> None:
    fixtures = {}
    for fixture in ("marian_dir", "tiny_mlm_dir"):
        if fixture in CASES[name].__code__.co_varnames:
            fixtures[fixture] = request.getfixturevalue(fixture)
    for op, examples, kwargs in CASES[name](**fixtures):
        check_operator(op, examples, **kwargs)


# ----------------------------------------------------------------- the minimal operator of issue 10


def test_a_minimal_duck_typed_operator_passes_the_contract() -> None:
    # Two outcomes only (k in {1, 2}): a third distinct variant is impossible, and flagged.
    check_operator(Append("a"), ["x", "", "some text"])
    # A thousand tokens: three distinct variants within four tries, whatever the seed
    # (a clash needs two draws of 1,000 to agree four times over).
    many = AppendToken(tokens=[f"t{i}" for i in range(1000)])
    check_operator(many, TEXTS, distinct_possible=True)


def test_the_checker_catches_broken_operators() -> None:
    class Impure(Append):
        def apply(self, x: list[str], params: dict[str, Any]) -> list[str]:  # type: ignore[override]
            x.append(self.ch)
            return x

    class Unjsonable(Append):
        def sample_params(self, x: str, rng: np.random.Generator) -> dict[str, Any]:
            return {"k": object()}

    class Unseeded(Append):
        def sample_params(self, x: str, rng: np.random.Generator) -> dict[str, Any]:
            return {"k": int(np.random.default_rng().integers(1, 1000))}

    class Retyping(Append):
        def apply(self, x: str, params: dict[str, Any]) -> Any:
            return [x]

    with pytest.raises(ContractError, match="purity"):
        check_operator(Impure("a"), [["x"]])
    with pytest.raises(ContractError, match="parameters"):
        check_operator(Unjsonable("a"), ["x"])
    with pytest.raises(ContractError, match="parameters"):
        check_operator(Unseeded("a"), ["x"])
    with pytest.raises(ContractError, match="kinds"):
        check_operator(Retyping("a"), ["x"])
    with pytest.raises(ContractError, match="examples"):
        check_operator(Append("a"), [Labelled("x", 1)])

    class OffByOne(AppendToken):
        def sample_params_batch(self, xs: list[str], rngs: Any) -> list[dict[str, Any]]:
            rngs.random()  # a draw the per-item path does not make
            return super().sample_params_batch(xs, rngs)

    with pytest.raises(ContractError, match="sample_params_batch drew"):
        check_operator(OffByOne(tokens=[str(i) for i in range(100)]), ["x"])
