"""Train the small fixture models in ``fixtures/models`` on generated data.

Needs the dev extra (scikit-learn + skl2onnx): ``pip install -e '.[dev]'``, then
``python scripts/train_fixture_models.py``. Deterministic: the same seed gives the same data;
the model files can still differ in bytes across library versions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import skops.io as sio
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline

from privdiag.model.synthetic import FEATURES, make_blind_set

OUT = Path(__file__).resolve().parent.parent / "fixtures" / "models"
OPSET = 17


def _save_onnx(model, initial_types, path: Path, options=None, feature_names=None) -> None:
    onx = convert_sklearn(model, initial_types=initial_types, options=options, target_opset=OPSET)
    if feature_names:
        entry = onx.metadata_props.add()
        entry.key, entry.value = "feature_names", ",".join(feature_names)
    path.write_bytes(onx.SerializeToString())


def main() -> None:
    """Train and write every fixture model."""
    OUT.mkdir(parents=True, exist_ok=True)
    train = make_blind_set(n=5000, seed=1)
    x, y = train.select(FEATURES).to_numpy().astype(np.float32), train["label"].to_numpy()
    one_tensor = [("input", FloatTensorType([None, len(FEATURES)]))]

    # (a) imputing classifier, one tensor input, names in metadata, probabilities as a tensor
    imputed = make_pipeline(SimpleImputer(strategy="mean"), LogisticRegression(max_iter=1000))
    imputed.fit(x, y)
    _save_onnx(
        imputed,
        one_tensor,
        OUT / "propensity_imputed.onnx",
        options={id(imputed): {"zipmap": False}},
        feature_names=FEATURES,
    )

    # (b) no imputation: NaN in, NaN out; probabilities as a ZipMap (list of dicts)
    bare = LogisticRegression(max_iter=1000).fit(x, y)
    _save_onnx(bare, one_tensor, OUT / "propensity_noimpute.onnx", feature_names=FEATURES)

    # (c) regressor with one named input per feature
    regressor = make_pipeline(SimpleImputer(strategy="median"), Ridge(alpha=1.0))
    regressor.fit(x, train["basket_value"].to_numpy())
    per_feature = [(name, FloatTensorType([None, 1])) for name in FEATURES]
    _save_onnx(regressor, per_feature, OUT / "basket_value.onnx")

    # (d) the imputing classifier as skops
    sio.dump(imputed, OUT / "propensity_imputed.skops")


if __name__ == "__main__":
    main()
