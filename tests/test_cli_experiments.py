"""``steerid experiment``, ``steerid train`` and ``steerid paper``: the JSON contract, a retrained
model usable as --model, the report's files, and one-line errors with exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from proofs_check.cli import main
from proofs_check.experiments.paper import run_paper
from synthetic.trained_zoo import load_trained
from synthetic.training import validation_loss


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_experiment_json_holds_metrics_counterpart_and_scores(capsys):
    code, out, err = run(capsys, "experiment", "logit-distance", "--model", "tiny-ln", "--json")
    assert code == 0 and err == ""
    p = json.loads(out)
    assert p["theorem"] == "E3" and p["model"] == "tiny-ln" and p["layer"] == 1
    assert {"metrics", "counterpart", "scores", "certificate"} <= set(p)
    z = np.asarray(p["scores"]["v"])
    assert z.shape == (16, 64)
    ref = np.asarray(p["scores"]["other_trait"])
    assert p["metrics"]["other_trait.l2"] == pytest.approx(np.mean(np.linalg.norm(ref - z, axis=1)))


def test_experiment_text_output(capsys):
    code, out, _ = run(capsys, "experiment", "vector-equivalence", "--model", "tiny-ln")
    assert code == 0
    assert "verdict" in out and "certified counterpart" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["experiment", "no-such"],
        ["experiment", "orthogonal", "--model", "tiny-ln", "--layer", "9"],
        ["experiment", "orthogonal", "--model", "/no/such/dir"],
        ["experiment", "orthogonal", "--model", "tiny-ln", "--seed", "-3"],
        ["train", "trained-bert", "--out", "x"],
        ["train", "trained-gpt2"],
        ["train", "trained-gpt2", "--out", "x", "--steps", "0"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("steerid: error:")


def test_train_writes_a_model_that_experiments_accept(capsys, tmp_path):
    """A short retraining writes a checkpoint whose metadata matches what it reloads to, and the
    directory is a --model for the experiments (read with the language)."""
    out = tmp_path / "retrained"
    code, stdout, err = run(capsys, "train", "trained-llama", "--out", str(out), "--steps", "4",
                            "--json")  # fmt: skip
    assert code == 0 and err == ""
    meta = json.loads(stdout)
    assert meta["train"]["steps"] == 4 and meta["name"] == "trained-llama"
    model = load_trained("trained-llama", directory=out)
    assert validation_loss(model) == pytest.approx(meta["validation_loss"], rel=1e-10)
    code, stdout, _ = run(capsys, "experiment", "vector-equivalence", "--model", str(out), "--json")
    assert code == 0
    p = json.loads(stdout)
    assert p["theorem"] == "E6" and len(p["scores"]["caa"]["generation"]) == 16 * 8


def test_paper_writes_its_report(tmp_path):
    paths = run_paper(tmp_path, models=("tiny-ln",))
    md = paths["md"].read_text()
    assert md.count("| tiny-ln | E") == 7
    data = json.loads(paths["json"].read_text())
    assert set(data["results"]["tiny-ln"]) == {
        "orthogonal", "alpha-sweep", "logit-distance", "nullspace", "spanning",
        "vector-equivalence", "multi-env",
    }  # fmt: skip
    for name in ("e1_scores", "e2_alpha_sweep", "e4_spectra", "e7_class_dim"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000


def test_experiment_on_a_checkpoint_directory(capsys):
    """Any checkpoint directory with its trait sets: here the Llama fixture (d = 16, 2 layers)."""
    code, out, err = run(capsys, "experiment", "logit-distance", "--model",
                         "tests/fixtures/checkpoints/llama", "--plus", "1,2", "--minus", "3,4",
                         "--json")  # fmt: skip
    assert code == 0, err
    p = json.loads(out)
    assert p["model"].endswith("llama") and p["certificate"]["d"] == 16
    code, _, err = run(capsys, "experiment", "orthogonal", "--model",
                       "tests/fixtures/checkpoints/llama")  # fmt: skip
    assert code == 2 and "plus and minus" in err
