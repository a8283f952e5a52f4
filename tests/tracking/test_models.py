"""Logged models: a scikit-learn pipeline's skops file is compressed, and loads back to the same answers."""

import zipfile

import mlflow
import numpy as np

from mnist_mlops import models, tracking


def test_a_forest_is_logged_compressed_and_answers_as_fitted(tracking_store, small_mnist):
    forest = models.family("rf").build({"clf__n_estimators": 20}, seed=0)
    forest.fit(small_mnist.train, small_mnist.val, None)
    mlflow.set_experiment("models")  # this store's own: another test in the process may have set one elsewhere
    with mlflow.start_run():
        uri = tracking.log_model(forest, small_mnist.val.x[:5], "rf")
    folder = mlflow.artifacts.download_artifacts(uri)
    with zipfile.ZipFile(f"{folder}/model.skops") as archive:
        members = archive.infolist()
    assert {member.compress_type for member in members} == {zipfile.ZIP_BZIP2}
    stored, compressed = sum(m.file_size for m in members), sum(m.compress_size for m in members)
    assert compressed < stored / 5, (stored, compressed)
    reloaded = mlflow.sklearn.load_model(uri)
    x = small_mnist.test.x[:200]
    np.testing.assert_array_equal(reloaded.predict_proba(x), forest.predict_proba(x))
    assert mlflow.get_logged_model(uri.removeprefix("models:/")).name == "rf"
