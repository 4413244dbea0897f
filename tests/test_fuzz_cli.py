"""Adversarial input files and option values for every subcommand that reads them: the claim is that
bad input is always one line on stderr and exit code 2, never a traceback (``main`` lets any other
exception propagate, so hypothesis sees it as a failure)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proofs_check.cli import main

from .fuzz_budget import counts_reporter, examples

FIXTURES = Path(__file__).parent / "fixtures" / "checkpoints"
BAD_FILES = [
    "missing",
    "directory",
    "pickled",
    "truncated",
    "random-bytes",
    "empty-file",
    "strings",
    "complex",
    "bool",
    "datetime",
    "structured",
    "zero-d",
    "three-d",
    "empty-array",
    "nan",
    "inf",
    "huge-header",
    "wrong-length",
    *(["unreadable"] if os.geteuid() != 0 else []),  # root reads any file
]
FUZZED = {"files": 0, "options": 0, "checkpoints": 0}  # inputs tried
_report_counts = counts_reporter(__name__, FUZZED)  # STEERID_FUZZ_REPORT


def run_cli(argv: list[str]) -> tuple[int, list[str]]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, [line for line in err.getvalue().splitlines() if line.strip()]


def write_bad(kind: str, path: Path, good: np.ndarray, rng: np.random.Generator) -> Path:
    """A file at ``path`` that is not a valid stand-in for the array ``good``."""
    shape = good.shape
    if kind == "missing":
        return path
    if kind == "directory":
        path.mkdir()
        return path
    if kind == "pickled":
        np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    elif kind == "truncated":
        np.save(path, good)
        data = path.read_bytes()
        path.write_bytes(data[: int(rng.integers(1, len(data)))])
    elif kind == "random-bytes":
        path.write_bytes(rng.bytes(int(rng.integers(1, 400))))
    elif kind == "empty-file":
        path.write_bytes(b"")
    elif kind == "strings":
        np.save(path, np.full(shape, "x"))
    elif kind == "complex":
        np.save(path, good + 1j)
    elif kind == "bool":
        np.save(path, good > 0)
    elif kind == "datetime":
        np.save(path, np.zeros(shape, dtype="datetime64[s]"))
    elif kind == "structured":
        np.save(path, np.zeros(shape, dtype=[("a", "f8"), ("b", "i4")]))
    elif kind == "zero-d":
        np.save(path, np.float64(1.5))
    elif kind == "three-d":
        np.save(path, np.ones((2, 2, 2)))
    elif kind == "empty-array":
        np.save(path, np.zeros((0,) * len(shape)))
    elif kind in ("nan", "inf"):
        bad = good.astype(np.float64).copy()
        bad.flat[int(rng.integers(0, bad.size))] = np.nan if kind == "nan" else -np.inf
        np.save(path, bad)
    elif kind == "huge-header":  # a valid header that promises far more data than there is
        with open(path, "wb") as f:
            header = {"descr": "<f8", "fortran_order": False, "shape": (2**40,) * len(shape)}
            np.lib.format.write_array_header_1_0(f, header)
            f.write(b"\0" * 64)
    elif kind == "wrong-length":
        np.save(path, np.ones(tuple(s + 1 for s in shape)))
    elif kind == "unreadable":
        np.save(path, good)
        path.chmod(0)
    return path


def _inputs(rng):
    L = rng.standard_normal((3, 5))
    v = rng.standard_normal(5)
    A = rng.standard_normal((6, 10))
    y = A[:, :2] @ np.array([1.0, -2.0])
    data = rng.laplace(size=(300, 3))
    return {"L": L, "v": v, "A": A, "y": y, "data": data, "R1": L, "R2": L[:2] + 1.0}


COMMANDS = {
    # command name -> (argv builder from paths, names of its file arguments)
    "class": (lambda p: ["class", p["L"], p["v"]], ("L", "v")),
    "recover sparse": (lambda p: ["recover", "sparse", "--A", p["A"], "--y", p["y"]], ("A", "y")),
    "recover ica": (lambda p: ["recover", "ica", "--data", p["data"]], ("data",)),
    "recover multi-env": (
        lambda p: ["recover", "multi-env", "--readouts", p["R1"], p["R2"], "--vector", p["v"]],
        ("R1", "R2", "v"),
    ),
}


@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    command=st.sampled_from(sorted(COMMANDS)),
    which=st.integers(0, 2),
    kind=st.sampled_from(BAD_FILES),
    seed=st.integers(0, 2**32 - 1),
    as_json=st.booleans(),
)
def test_a_bad_input_file_is_one_line_and_exit_2(command, which, kind, seed, as_json):
    rng = np.random.default_rng(seed)
    build, names = COMMANDS[command]
    bad_name = names[which % len(names)]
    if kind == "wrong-length" and command == "recover ica":
        kind = "three-d"  # any (n, d) is a valid data matrix
    if kind == "wrong-length" and bad_name in ("R1", "R2"):
        kind = "nan"  # readouts of any row count are valid; only d must agree (v is drawn too)
    arrays = _inputs(rng)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, array in arrays.items():
            path = Path(tmp) / f"{name}.npy"
            if name == bad_name:
                write_bad(kind, path, array, rng)
            else:
                np.save(path, array)
            paths[name] = str(path)
        code, err = run_cli([*build(paths), *(["--json"] if as_json else [])])
        for p in Path(tmp).iterdir():
            (p.chmod(0o700) if p.is_dir() else p.chmod(0o600))
    FUZZED["files"] += 1
    assert code == 2, (command, bad_name, kind, err)
    assert len(err) == 1 and err[0].startswith("steerid: error: "), err
    assert "Traceback" not in err[0]


NOT_A_NUMBER = st.sampled_from(["nan", "inf", "-inf", "1e400", "abc", "", "0x10", "--", "1,2"])
BAD_INTS = st.one_of(  # every int option (sizes, layers, seeds) stays below 2^32
    NOT_A_NUMBER,
    st.sampled_from(["1.5", "0"]),
    st.integers(-(10**30), -1).map(str),
    st.integers(2**32, 10**30).map(str),
)
BAD_REALS = st.one_of(  # a tolerance is a finite positive number; any size of it is valid
    NOT_A_NUMBER, st.sampled_from(["0", "-0.0", "-1e-300"]), st.integers(-(10**30), -1).map(str)
)
OPTIONS = {
    # a subcommand, its fixed arguments, and the options whose bad values are drawn
    "local": (["local", "--model", "tiny-ln"], ["--layer", "--prompts", "--length", "--tol"]),
    "twin": (["twin", "--model", "tiny-ln"], ["--layer", "--prompts", "--length", "--steps"]),
    "experiment": (
        ["experiment", "orthogonal", "--model", "tiny-ln"],
        ["--layer", "--seed"],
    ),
    "recover cross-layer": (
        ["recover", "cross-layer", "--model", "tiny-ln"],
        ["--layers", "--prompts", "--tol"],
    ),
    "recover multi-env": (["recover", "multi-env"], ["--d", "--rank", "--envs", "--tol"]),
    "recover sparse": (["recover", "sparse"], ["--m", "--p", "--k", "--tol"]),
    "recover ica": (["recover", "ica"], ["--n", "--laws"]),
    "verify": (["verify"], ["--seed"]),
    "paper": (["paper"], ["--seed"]),
}


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), command=st.sampled_from(sorted(OPTIONS)))
def test_a_bad_option_value_is_one_line_and_exit_2(data, command):
    fixed, options = OPTIONS[command]
    option = data.draw(st.sampled_from(options))
    value = data.draw(BAD_REALS if option == "--tol" else BAD_INTS, label="value")
    if value == "0" and option in ("--layer", "--layers", "--seed", "--k"):
        value = "-1"  # 0 is a valid layer, seed and sparsity
    if value == "1,2" and option == "--layers":
        value = "1,2,x"  # a comma list is what --layers takes
    code, err = run_cli([*fixed, f"{option}={value}"])
    FUZZED["options"] += 1
    assert code == 2, (command, option, value, err)
    assert len(err) == 1 and err[0].startswith("steerid: error: "), err


def _corrupt(directory: Path, kind: str, rng: np.random.Generator) -> None:
    import json

    weights = directory / "model.safetensors"
    config = directory / "config.json"
    if kind == "truncate-weights":
        data = weights.read_bytes()
        weights.write_bytes(data[: int(rng.integers(0, len(data)))])
    elif kind == "header-bytes":
        data = bytearray(weights.read_bytes())
        n = int.from_bytes(data[:8], "little")
        for _ in range(int(rng.integers(1, 4))):
            data[8 + int(rng.integers(0, n))] = int(rng.integers(0, 256))
        weights.write_bytes(bytes(data))
    elif kind == "header-length":
        data = bytearray(weights.read_bytes())
        data[:8] = int(rng.integers(0, 2**63)).to_bytes(8, "little")
        weights.write_bytes(bytes(data))
    elif kind == "no-weights":
        weights.unlink()
    elif kind == "no-config":
        config.unlink()
    elif kind == "config-not-json":
        config.write_text(config.read_text()[: int(rng.integers(0, 20))])
    elif kind == "config-value":
        cfg = json.loads(config.read_text())
        key = sorted(
            k for k, v in cfg.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
        )
        key = key[int(rng.integers(0, len(key)))]
        cfg[key] = [-1, 0, "x", None, 1.5, 10**12, [1]][int(rng.integers(0, 7))]
        config.write_text(json.dumps(cfg))
    elif kind == "config-list":
        config.write_text("[1, 2]")
    elif kind == "index-missing-shard":
        weights.rename(directory / "model-00001-of-00002.safetensors")
        (directory / "model.safetensors.index.json").write_text(
            json.dumps({"weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors"}})
        )
    elif kind == "weights-dir":
        weights.unlink()
        weights.mkdir()


CORRUPTIONS = [
    "truncate-weights", "header-bytes", "header-length", "no-weights", "no-config",
    "config-not-json", "config-value", "config-list", "index-missing-shard", "weights-dir",
]  # fmt: skip


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=st.sampled_from(["gpt2", "llama", "qwen2"]),
    kind=st.sampled_from(CORRUPTIONS),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_damaged_checkpoint_is_one_line_and_exit_2_or_still_a_model(family, kind, seed):
    """A damaged checkpoint directory is refused in one line (exit 2); a change that leaves a valid
    checkpoint (a header byte flipped inside a name that still parses, say) may run (exit 0)."""
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / family
        shutil.copytree(FIXTURES / family, directory)
        _corrupt(directory, kind, rng)
        code, err = run_cli(["local", "--model", str(directory), "--channel", "logits"])
    FUZZED["checkpoints"] += 1
    assert code in (0, 2), (family, kind, err)
    if code == 2:
        assert len(err) == 1 and err[0].startswith("steerid: error: "), err
    else:
        assert kind in ("header-bytes", "config-value"), (kind, "a damaged checkpoint was run")
