"""``steerid recover``: each condition's certificate in both directions, read from the JSON."""

import json

import numpy as np
import pytest

from proofs_check.cli import main


def run_json(capsys, *argv):
    code = main(list(argv) + ["--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_multi_env_identifiable_at_ceil_d_over_r_and_witness_before(capsys):
    ok = run_json(capsys, "recover", "multi-env", "--d", "9", "--rank", "3", "--envs", "3")
    cond = ok["certificates"]["condition"]
    assert (
        ok["environments_needed"] == 3 and cond["verdict"] == "holds" and cond["residual"] < 1e-10
    )
    short = run_json(capsys, "recover", "multi-env", "--d", "9", "--rank", "3", "--envs", "2")
    cond = short["certificates"]["condition"]
    assert cond["verdict"] == "violated" and cond["dim"] == 3
    assert np.isclose(np.linalg.norm(cond["witness"]["common_null_direction"]), 1.0)


def test_multi_env_user_readouts(capsys, tmp_path):
    L1, L2 = np.array([[1.0, 0.0, 0.0]]), np.array([[0.0, 1.0, 0.0]])
    paths = []
    for name, arr in (("L1", L1), ("L2", L2), ("v", np.ones(3))):
        np.save(tmp_path / f"{name}.npy", arr)
        paths.append(str(tmp_path / f"{name}.npy"))
    out = run_json(
        capsys, "recover", "multi-env", "--readouts", paths[0], paths[1], "--vector", paths[2]
    )
    cond = out["certificates"]["condition"]
    assert cond["verdict"] == "violated" and np.allclose(
        np.abs(cond["witness"]["common_null_direction"]), [0, 0, 1]
    )


def test_multi_env_on_a_transformer_stops_at_the_layernorm_symmetry(capsys):
    out = run_json(capsys, "recover", "multi-env", "--model", "tiny-ln", "--envs", "5")
    cond = out["certificates"]["condition"]
    assert (
        cond["verdict"] == "violated"
        and cond["dim"] == 1
        and cond["symmetries"] == ["layernorm-mean"]
    )
    assert cond["details"]["rank_per_environment"] == [8] * 5


def test_sparse_recovers_a_planted_code(capsys):
    out = run_json(capsys, "recover", "sparse", "--m", "10", "--p", "14", "--k", "2")
    assert out["certificates"]["condition"]["verdict"] == "holds"
    assert out["certificates"]["recovery"]["verdict"] == "holds" and out["recovery_error"] < 1e-8


def test_sparse_low_spark_gives_a_reverified_twin(capsys, tmp_path):
    A = np.array(
        [[1.0, 0.0, 1.0, 2.0], [0.0, 1.0, 1.0, -1.0]]
    )  # columns 0, 1, 2 dependent: spark 3
    np.save(tmp_path / "A.npy", A)
    np.save(tmp_path / "y.npy", A @ np.array([1.0, 0.0, 0.0, 0.0]))
    out = run_json(
        capsys,
        "recover",
        "sparse",
        "--A",
        str(tmp_path / "A.npy"),
        "--y",
        str(tmp_path / "y.npy"),
        "--k",
        "2",
    )
    cond = out["certificates"]["condition"]
    assert cond["verdict"] == "violated"
    w = {k: np.asarray(v) for k, v in cond["witness"].items()}
    twins = [w[k] for k in sorted(w) if w[k].shape == (4,)]
    assert any(np.allclose(A @ x, A @ y) and not np.allclose(x, y) for x in twins for y in twins)


def test_ica_with_two_gaussian_sources_is_not_identifiable(capsys):
    out = run_json(capsys, "recover", "ica", "--laws", "laplace,gaussian,gaussian", "--n", "4000")
    assert out["certificates"]["laws"]["verdict"] == "violated"
    good = run_json(capsys, "recover", "ica", "--laws", "laplace,uniform", "--n", "4000")
    assert good["certificates"]["laws"]["verdict"] == "holds"
    assert good["certificates"]["condition"]["verdict"] == "holds"


def test_cross_layer_layernorm_keeps_the_ones_direction(capsys):
    out = run_json(
        capsys,
        "recover",
        "cross-layer",
        "--model",
        "tiny-ln",
        "--layers",
        "0,1,2",
        "--prompts",
        "6",
    )
    cond = out["certificates"]["condition"]
    assert cond["verdict"] == "violated" and cond["dim"] == 1
    assert cond["symmetries"] == ["layernorm-mean"] and cond["residual"] < 1e-6
    u = np.asarray(cond["witness"]["common_null_direction"])
    assert np.allclose(np.abs(u), 1 / np.sqrt(u.size), atol=1e-10)


@pytest.mark.parametrize(
    "argv",
    [
        ["recover", "multi-env", "--readouts", "nope.npy"],
        ["recover", "sparse", "--k", "0"],
        ["recover", "ica", "--laws", "laplace,cauchy"],
        ["recover", "ica", "--n", "10"],
        ["recover", "cross-layer", "--layers", "2,1"],
        ["recover", "cross-layer", "--layers", "a,b"],
    ],
)
def test_recover_bad_input_exit_2(capsys, argv):
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("steerid: error:")
