"""``neurocl run ... -E KEY=VALUE`` (``--engine-option``): engine options from the command line,
merged over the spec's after an ``--engine`` switch, validated like the spec's ``[engine]``
table; ``RunConfig.replace(engine_options=...)``; ``neurocl engines`` lists every option with
its default and allowed values.  Nothing is simulated (the run is replaced by a recorder)."""

import pytest

import neurocl.experiments.run as run_module
from neurocl.cli import main
from neurocl.config import load_config
from neurocl.errors import ConfigError


@pytest.fixture
def captured(monkeypatch):
    """The RunConfig ``neurocl run`` would run (the run itself is not started)."""
    seen = []
    monkeypatch.setattr(run_module, "run", lambda config, out, **kw: seen.append(config))
    return seen


def call(argv, capsys):
    try:
        rc = main(argv)
    except SystemExit as exc:
        rc = exc.code
    return rc, capsys.readouterr()


def test_engine_options_reach_the_config(captured, capsys, tmp_path):
    rc, out = call(["run", "bas3", "--out", str(tmp_path / "r"), "--engine", "brian2",
                    "-E", "units=spiking", "--engine-option", "psp_steps=10", "-E", "record=0"], capsys)
    assert rc == 0, out.err
    (config,) = captured
    assert config.engine == "brian2"
    assert config.engine_options == {"units": "spiking", "psp_steps": 10, "record": 0}
    assert isinstance(config.engine_options["psp_steps"], int)


def test_engine_option_merges_over_the_spec_engine_table(captured, capsys, tmp_path):
    from neurocl.shipped import resolve_spec

    spec = tmp_path / "spec.toml"
    text = resolve_spec("bas3").read_text()
    assert 'engine = "numpy"\n' in text
    spec.write_text(text.replace('engine = "numpy"\n', 'engine = { name = "brian2", units = "spiking", target = "numpy" }\n'))
    rc, out = call(["run", str(spec), "--out", str(tmp_path / "r"), "-E", "psp_steps=7"], capsys)
    assert rc == 0, out.err
    assert captured[0].engine_options == {"units": "spiking", "target": "numpy", "psp_steps": 7}


def test_quoted_and_plain_strings_and_floats(captured, capsys, tmp_path):
    rc, out = call(["run", "bas3", "--out", str(tmp_path / "r"), "--engine", "brian2",
                    "-E", 'target="numpy"', "-E", "record=12.5"], capsys)
    assert rc == 0, out.err
    assert captured[0].engine_options == {"target": "numpy", "record": 12.5}


@pytest.mark.parametrize("item, names", [
    ("units", ["--engine-option", "KEY=VALUE", "'units'"]),     # no '='
    ("=spiking", ["--engine-option", "KEY=VALUE"]),              # no key
    ("unit=spiking", ["engine", "unknown key 'unit'"]),          # unknown option
    ("units=burst", ["units", "burst"]),                          # value not allowed
    ("psp_steps=0", ["psp_steps"]),                               # out of range
    ("psp_steps=2.5", ["psp_steps"]),                             # wrong type
])
def test_bad_engine_option_is_one_line(item, names, captured, capsys, tmp_path):
    rc, out = call(["run", "bas3", "--out", str(tmp_path / "r"), "--engine", "brian2", "-E", item], capsys)
    err = out.err.splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("neurocl: error: "), err
    for n in names:
        assert n in err[0], (n, err[0])
    assert not captured


def test_replace_engine_options_validates_and_merges():
    config = load_config("bas3")
    assert config.engine == "numpy" and config.engine_options == {}
    assert config.replace(engine_options={"kernel": "reference"}).engine_options == {"kernel": "reference"}
    switched = config.replace(engine="brian2", engine_options={"units": "spiking"})
    assert (switched.engine, switched.engine_options) == ("brian2", {"units": "spiking"})
    again = switched.replace(engine_options={"psp_steps": 3})
    assert again.engine_options == {"units": "spiking", "psp_steps": 3}
    # switching engine resets the old engine's options before merging the new ones
    assert again.replace(engine="numpy", engine_options={"kernel": "fused"}).engine_options == {"kernel": "fused"}
    with pytest.raises(ConfigError, match="kernel"):
        config.replace(engine_options={"kernel": "fastest"})
    with pytest.raises(ConfigError, match="unknown key 'units'"):
        config.replace(engine_options={"units": "spiking"})   # a brian2 option on the numpy engine
    assert config.replace(engine_options=None) == config
    # the options survive the round trip through the resolved config (config.toml)
    from neurocl.config import parse_config

    assert parse_config(again.to_table()) == again


def test_engines_lists_options_with_defaults_and_allowed_values(capsys):
    rc, out = call(["engines"], capsys)
    assert rc == 0
    text = out.out
    assert 'kernel = "auto"  {"auto", "reference", "fused", "event"}' in text
    if "brian2\n" in text and "brian2: unavailable" not in text:
        assert 'units = "glauber"  {"glauber", "spiking"}' in text
        assert "psp_steps = 5  int" in text
        assert "record = 200.0  float" in text


def test_learner_flag_keeps_only_the_named_learners(captured, capsys, tmp_path):
    """``--learner isd`` drops the spec's other learners (so a spiking Brian2 run of bas3 does
    not stop at TwoPhase, which Brian2 refuses); an unknown label is a one-line error."""
    rc, _ = call(["run", "bas3", "--engine", "brian2", "-E", "units=spiking", "--learner", "isd",
                  "--out", str(tmp_path / "a")], capsys)
    assert rc == 0
    assert [s.label for s in captured[0].learners] == ["isd"]
    assert captured[0].engine_options["units"] == "spiking"
    rc, err = call(["run", "bas3", "--learner", "nope", "--out", str(tmp_path / "b")], capsys)
    assert rc == 2 and "argument --learner: 'nope' is not a learner of bas3" in err.err
    assert len(captured) == 1
