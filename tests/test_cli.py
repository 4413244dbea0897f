"""The steerid command line: JSON contract, exit codes, one-line errors. Results are read from the
JSON objects (the certificates), never parsed from the human table."""

import json
import subprocess
import sys

import numpy as np
import pytest

from proofs_check.cli import main

CLASS_KEYS = {
    "theorem",
    "verdict",
    "dim",
    "rank",
    "point",
    "basis",
    "orthogonal_twin",
    "cosine_range",
    "margin",
    "tolerance",
}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path):
    def save(name, arr, **kw):
        p = tmp_path / name
        np.save(p, arr, **kw)
        return str(p)

    return save


def test_class_json_contract(capsys, files):
    L = np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0]])
    v = np.array([1.0, 1.0, 1.0])
    code, out, _ = run(capsys, "class", files("L.npy", L), files("v.npy", v), "--json")
    assert code == 0
    obj = json.loads(out)
    assert CLASS_KEYS <= set(obj)
    assert (
        obj["theorem"] == "T1"
        and obj["verdict"] == "holds"
        and obj["dim"] == 2
        and obj["rank"] == 1
    )
    point, basis, twin = (np.array(obj[k]) for k in ("point", "basis", "orthogonal_twin"))
    assert np.allclose(L @ point, L @ v) and np.allclose(L @ basis, 0, atol=1e-12)
    assert np.allclose(L @ twin, L @ v) and abs(twin @ v) < 1e-12
    cr = obj["cosine_range"]
    assert cr["sup"] == 1.0 and cr["inf_attained"] is False and -1 < cr["inf"] < 0


def test_class_without_twin_gives_null_and_reason(capsys, files):
    code, out, _ = run(
        capsys, "class", files("L.npy", np.eye(3)), files("v.npy", np.ones(3)), "--json"
    )
    obj = json.loads(out)
    assert (
        code == 0
        and obj["orthogonal_twin"] is None
        and "no component in ker L" in obj["orthogonal_twin_reason"]
    )
    assert obj["dim"] == 0 and obj["cosine_range"] == {"inf": 1.0, "sup": 1.0, "inf_attained": True}


def test_class_probs_channel_counts_the_ones_direction(capsys, files):
    W = np.array(
        [[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]
    )  # column 0 = 1: logits class {v}, probs class a line
    v = np.array([0.5, 0.5])
    _, out_l, _ = run(capsys, "class", files("W.npy", W), files("v.npy", v), "--json")
    _, out_p, _ = run(
        capsys, "class", files("W.npy", W), files("v.npy", v), "--channel", "probs", "--json"
    )
    assert json.loads(out_l)["dim"] == 0
    obj = json.loads(out_p)
    assert obj["theorem"] == "T2c" and obj["dim"] == 1


def test_class_undecided_reports_the_singular_values_and_tol_decides(capsys, files):
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    L = u @ np.diag([1.0, 1e-6, 1e-9]) @ q.T
    lp, vp = files("L.npy", L), files("v.npy", np.ones(3))
    _, out, _ = run(capsys, "class", lp, vp, "--json")
    obj = json.loads(out)
    assert obj["verdict"] == "undecided" and len(obj["ambiguous_singular_values"]) == 1
    _, out, _ = run(capsys, "class", lp, vp, "--tol", "1e-5", "--json")
    obj = json.loads(out)
    assert obj["verdict"] == "holds" and obj["rank"] == 1


def test_class_human_table(capsys, files):
    code, out, _ = run(capsys, "class", files("L.npy", np.eye(2)[:1]), files("v.npy", np.ones(2)))
    assert code == 0 and "verdict" in out and "holds" in out


@pytest.mark.parametrize("case", ["missing", "pickled", "garbage", "nan", "shape"])
def test_class_bad_files_exit_2_with_one_line(capsys, files, tmp_path, case):
    good_v = files("v.npy", np.ones(2))
    if case == "missing":
        lp = str(tmp_path / "nope.npy")
    elif case == "pickled":
        lp = files("L.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif case == "garbage":
        lp = str(tmp_path / "L.npy")
        (tmp_path / "L.npy").write_text("not an array")
    elif case == "nan":
        lp = files("L.npy", np.array([[np.nan, 1.0]]))
    else:
        lp = files("L.npy", np.ones((2, 3)))
    code, out, err = run(capsys, "class", lp, good_v)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("steerid: error:")


def test_bad_arguments_exit_2(capsys):
    assert run(capsys, "class")[0] == 2
    assert run(capsys, "verify", "--only", "T99")[0] == 2
    assert run(capsys, "class", "a.npy", "b.npy", "--tol", "-1")[0] == 2


def test_verify_json_and_exit_code(capsys):
    code, out, _ = run(capsys, "verify", "--only", "T1,T2c", "--json")
    obj = json.loads(out)
    assert code == 0 and obj["violated"] is False
    theorems = {r["certificate"]["theorem"] for r in obj["results"]}
    kinds = {r["kind"] for r in obj["results"]}
    assert theorems == {"T1", "T2c"} and kinds == {"exact", "numeric"}


def test_console_script_runs(tmp_path):
    exe = [sys.executable, "-m", "proofs_check.cli"]
    res = subprocess.run(
        exe + ["verify", "--only", "T1a", "--json"], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stderr
    assert all(r["certificate"]["verdict"] == "holds" for r in json.loads(res.stdout)["results"])


LOCAL_KEYS = {
    "model",
    "layer",
    "channel",
    "d",
    "rank",
    "null_dim",
    "singular_values",
    "null_basis",
    "verdict",
    "margin",
    "symmetries",
}


@pytest.mark.parametrize(
    "model,null_dim,symmetries", [("tiny-ln", 1, ["layernorm-mean"]), ("tiny-rms", 0, [])]
)
def test_local_json_contract(capsys, model, null_dim, symmetries):
    code, out, _ = run(
        capsys,
        "local",
        "--model",
        model,
        "--layer",
        "1",
        "--channel",
        "logits",
        "--prompts",
        "3",
        "--json",
    )
    obj = json.loads(out)
    assert code == 0 and LOCAL_KEYS <= set(obj)
    assert (
        obj["verdict"] == "holds"
        and obj["null_dim"] == null_dim
        and obj["symmetries"] == symmetries
    )
    assert obj["rank"] + obj["null_dim"] == obj["d"] == 32
    basis = np.asarray(obj["null_basis"])
    assert basis.shape == (32, null_dim)
    if null_dim:
        assert np.allclose(np.abs(basis[:, 0]), 1 / np.sqrt(32), atol=1e-10)


def test_twin_json_witness_reverified_by_running_the_model(capsys):
    from synthetic.local_problems import steered_behaviour, steering_vector
    from synthetic.zoo import load_model, make_prompts
    from theory.residual import behaviour_residual

    code, out, _ = run(
        capsys, "twin", "--model", "tiny-ln", "--layer", "1", "--channel", "trait", "--json"
    )
    obj = json.loads(out)
    assert code == 0 and {"cosine", "residual", "witness", "verdict"} <= set(obj)
    assert obj["verdict"] == "holds" and obj["cosine"] <= 0.05 and obj["residual"] <= 1e-8
    model = load_model("tiny-ln", 0)
    prompts = make_prompts(model, 8, 8, 0)
    v, twin = steering_vector(model, 0), np.asarray(obj["witness"])
    run_model = lambda x: steered_behaviour(model, 1, prompts, x, "trait")
    assert behaviour_residual(run_model(twin), run_model(v), run_model(0 * v)) <= 1e-8
    assert twin @ v / (np.linalg.norm(twin) * np.linalg.norm(v)) <= 0.05


@pytest.mark.parametrize(
    "argv",
    [
        ["local", "--model", "nope"],
        ["local", "--layer", "9"],
        ["local", "--channel", "vibes"],
        ["twin", "--prompts", "0"],
    ],
)
def test_local_and_twin_bad_input_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.startswith("steerid: error:")


_BUG = """
import sys
import proofs_check.model_checks as checks

def broken(*args, **kwargs):
    raise {exc}("an internal mistake, not the user's")

checks.local_certificate = broken
from proofs_check.cli import main
sys.exit(main(["local", "--model", "tiny-ln", "--layer", "1"]))
"""


@pytest.mark.parametrize("exc", ["ValueError", "ZeroDivisionError", "KeyError"])
def test_an_internal_error_is_a_traceback_and_exit_1(exc):
    """A bug inside the toolkit (here a plain ValueError, not a validator's InputError) must not be
    reported as the user's bad input: it propagates, Python prints the traceback, exit code 1."""
    res = subprocess.run(
        [sys.executable, "-c", _BUG.format(exc=exc)], capture_output=True, text=True, check=False
    )
    assert res.returncode == 1
    assert "Traceback (most recent call last)" in res.stderr and exc in res.stderr
    assert "steerid: error:" not in res.stderr


def test_bad_input_through_the_console_entry_is_one_line_and_exit_2():
    res = subprocess.run(
        [sys.executable, "-m", "proofs_check.cli", "local", "--layer", "9"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 2 and res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("steerid: error:") and "layer" in lines[0]
