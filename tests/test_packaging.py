"""Shipped specs and profiles as package data: lookup (fast) and a real install (slow).

The fast tests check the lookup in the environment the tests run in (the editable dev
install: ``neurocl/_shipped/`` links to the top-level folders).  The slow test builds an
sdist and a wheel from a copy of the source tree, installs the wheel (and, apart, an editable
install of the copy) into fresh virtual environments outside the source tree and runs
``neurocl circuits``, ``neurocl profiles`` and short ``neurocl run`` calls from another
directory.

Why the fresh venv gets its dependencies through a ``.pth`` line naming the dev venv's
site-packages: it is offline and takes seconds, where installing numpy, scipy, numba,
scikit-learn and matplotlib again needs a package source and a minute or more.  A ``.pth``
line only adds a directory to ``sys.path``; ``.pth`` files inside that directory (the dev
venv's editable-install hook) are not processed, and the fresh venv's own site-packages
comes first, so ``neurocl`` is imported from the installed wheel: the test asserts that.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

import neurocl
from neurocl.cli import main
from neurocl.config import load_config
from neurocl.errors import ConfigError
from neurocl.hardware import load_profile, shipped_profiles
from neurocl.shipped import resolve_spec, shipped_dir, shipped_profile_files, shipped_specs

ROOT = Path(__file__).resolve().parents[1]
SPEC_NAMES = sorted(p.stem for p in (ROOT / "circuits").glob("*.toml"))
PROFILE_NAMES = sorted(p.stem for p in (ROOT / "hardware_profiles").glob("*.toml"))


# ------------------------------------------------------------------ lookup (fast)
def test_every_top_level_spec_and_profile_is_shipped_with_the_same_bytes():
    """One copy: what the package reads is the top-level folders' files, all of them."""
    assert SPEC_NAMES and PROFILE_NAMES
    assert list(shipped_specs()) == SPEC_NAMES
    assert list(shipped_profile_files()) == PROFILE_NAMES
    assert list(shipped_profiles()) == PROFILE_NAMES
    for name, path in shipped_specs().items():
        assert path.read_bytes() == (ROOT / "circuits" / f"{name}.toml").read_bytes()
    for name, path in shipped_profile_files().items():
        assert path.read_bytes() == (ROOT / "hardware_profiles" / f"{name}.toml").read_bytes()


def test_shipped_data_is_found_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert shipped_dir("circuits").is_dir()
    assert load_config("bas3").name == "bas3"
    assert load_profile("ideal").is_ideal
    with pytest.raises(ValueError, match="kind must be one of"):
        shipped_dir("examples")


def test_resolve_spec_prefers_an_existing_file_over_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_spec("bas3") == Path(str(shipped_specs()["bas3"]))
    local = tmp_path / "bas3"
    local.write_text((ROOT / "circuits" / "bas4.toml").read_text())
    assert resolve_spec("bas3") == Path("bas3")
    assert load_config("bas3").name == "bas4"


def test_unknown_spec_name_lists_the_shipped_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="no such file") as info:
        resolve_spec("bas9")
    assert all(name in str(info.value) for name in SPEC_NAMES)


def test_cli_circuits_lists_the_names_run_accepts(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["circuits"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == SPEC_NAMES
    assert main(["profiles"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == PROFILE_NAMES


def test_cli_run_by_shipped_name_from_another_directory(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc = main(["run", "bas3", "--time", "100", "--replicas", "1", "--profile", "ideal", "--no-progress"])
    assert rc == 0
    assert (tmp_path / "results" / "bas3" / "DONE").is_file()
    assert "profile ideal" in capsys.readouterr().out


def test_cli_run_unknown_name_is_one_line_error(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "bas9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("neurocl: error: bas9: no such file") and "bas3" in err[0]


def test_version_option(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"neurocl {neurocl.__version__}"


# ------------------------------------------------------------------ a real install (slow)
BUILD_INPUTS = ("neurocl", "circuits", "hardware_profiles", "setup.cfg", "pyproject.toml", "README.md",
                "MANIFEST.in", "LICENSE", "CITATION.cff", "CHANGELOG.md")


def _copy_source(dest: Path) -> Path:
    """The files a build reads, copied (links kept as links, as a git checkout has them)."""
    dest.mkdir()
    for name in BUILD_INPUTS:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc"))
        else:
            shutil.copy2(src, dest / name)
    assert (dest / "neurocl" / "_shipped" / "circuits").is_symlink()
    return dest


def _sh(args, cwd, env=None, timeout=300):
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _fresh_venv(path: Path) -> Path:
    """A venv without pip whose site-packages also sees the dev venv's dependencies."""
    _sh([sys.executable, "-m", "venv", "--without-pip", path], cwd=path.parent)
    purelib = Path(_sh([path / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       cwd=path.parent).strip())
    (purelib / "_neurocl_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return path


def _pip_into(venv: Path, *args, cwd):
    return _sh([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps",
                "--no-index", "--no-build-isolation", "--quiet", *args], cwd=cwd)


def _check_installed(venv: Path, where: Path, env: dict, expect_module_under: Path) -> None:
    bin_ = venv / "bin"
    module = _sh([bin_ / "python", "-c", "import neurocl; print(neurocl.__file__)"], cwd=where, env=env).strip()
    assert Path(module).resolve().is_relative_to(expect_module_under.resolve()), module
    assert _sh([bin_ / "neurocl", "--version"], cwd=where, env=env).strip() == f"neurocl {neurocl.__version__}"
    circuits = _sh([bin_ / "neurocl", "circuits"], cwd=where, env=env)
    assert [line.split()[0] for line in circuits.splitlines()] == SPEC_NAMES
    profiles = _sh([bin_ / "neurocl", "profiles"], cwd=where, env=env)
    assert [line.split()[0] for line in profiles.splitlines()] == PROFILE_NAMES


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_source_tree(tmp_path):
    """sdist -> wheel from a copy of the tree; install into a fresh venv; run from elsewhere."""
    src = _copy_source(tmp_path / "src")
    dist = tmp_path / "dist"
    sdist_name = _sh([sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
                      "print(b.build_sdist(sys.argv[1]))", dist], cwd=src).strip().splitlines()[-1]
    with tarfile.open(dist / sdist_name) as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
    for name in SPEC_NAMES:
        assert f"circuits/{name}.toml" in members
        assert members[f"neurocl/_shipped/circuits/{name}.toml"].isfile()   # a file, not a link
    for name in PROFILE_NAMES:
        assert members[f"neurocl/_shipped/hardware_profiles/{name}.toml"].isfile()
    assert "LICENSE" in members and "CITATION.cff" in members

    _sh([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
         "-w", dist, dist / sdist_name], cwd=tmp_path)
    wheel = next(dist.glob("neurocl-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for name in SPEC_NAMES:
            data = zf.read(f"neurocl/_shipped/circuits/{name}.toml")
            assert data == (ROOT / "circuits" / f"{name}.toml").read_bytes()
        for name in PROFILE_NAMES:
            assert f"neurocl/_shipped/hardware_profiles/{name}.toml" in names
        assert any(n.endswith(".dist-info/LICENSE") for n in names)

    venv = _fresh_venv(tmp_path / "venv")
    _pip_into(venv, wheel, cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    _check_installed(venv, elsewhere, env, venv)

    neurocl_cmd = venv / "bin" / "neurocl"
    out = _sh([neurocl_cmd, "run", "bas3", "--time", "200", "--replicas", "1", "--no-progress", "--profile", "ideal",
               "--out", "r_name"], cwd=elsewhere, env=env, timeout=600)
    assert "bas3: rbm on bars_and_stripes" in out and (elsewhere / "r_name" / "DONE").is_file()
    # a spec copied out of the package, run by path with a shipped profile named in the file
    spec = (ROOT / "circuits" / "bas3.toml").read_text().replace('engine = "numpy"', 'engine = "numpy"\nprofile = "pcm"')
    (elsewhere / "myspec.toml").write_text(spec)
    out = _sh([neurocl_cmd, "run", "myspec.toml", "--time", "200", "--replicas", "1", "--no-progress",
               "--out", "r_path"], cwd=elsewhere, env=env, timeout=600)
    assert "profile pcm" in out and (elsewhere / "r_path" / "isd" / "metrics.csv").is_file()
    assert 'name = "pcm"' in (elsewhere / "r_path" / "profile.toml").read_text()
    # the Python API from the installed package
    code = ("import neurocl; "
            "s = neurocl.load_spec('bas3', {'simulation.duration': 200.0, 'simulation.replicas': 1}); "
            "r = neurocl.run(s, profile='rram_hfo2'); print(r.profile.name, r['isd'].final('kl_nats').shape)")
    assert _sh([venv / "bin" / "python", "-c", code], cwd=elsewhere, env=env).strip() == "rram_hfo2 (1,)"

    # an editable install of the same copy reads the top-level folders through the links
    venv_e = _fresh_venv(tmp_path / "venv_editable")
    _pip_into(venv_e, "-e", src, cwd=tmp_path)
    _check_installed(venv_e, elsewhere, {**env, "PATH": f"{venv_e / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"},
                     src)
    (src / "circuits" / "added_later.toml").write_text((ROOT / "circuits" / "bas3.toml").read_text())
    listed = _sh([venv_e / "bin" / "neurocl", "circuits"], cwd=elsewhere, env=env)
    assert "added_later" in [line.split()[0] for line in listed.splitlines()]
