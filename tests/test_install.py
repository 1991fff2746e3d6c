"""The package as a pip user gets it: build the wheel, install it into a fresh venv, run the demo and
the README's Python example from a folder outside the checkout."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow


def test_the_wheel_installs_and_runs_the_demo_and_the_python_example(tmp_path):
    wheels, venv, elsewhere = tmp_path / "wheels", tmp_path / "venv", tmp_path / "elsewhere"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(wheels)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    wheel = next(wheels.glob("plan_crosswalk-*.whl"))
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], capture_output=True, text=True,
                             timeout=1200)
    if install.returncode != 0 and "No matching distribution" in install.stderr + install.stdout:
        pytest.skip("the package index is not reachable from here")
    assert install.returncode == 0, install.stderr[-2000:]
    elsewhere.mkdir()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    demo = subprocess.run([str(venv / "bin" / "crosswalk"), "demo", "-o", "out"], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=600)
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert (elsewhere / "out" / "bpd_crosswalk.json").is_file() and (elsewhere / "out" / "report.html").is_file()
    example = (
        "from crosswalk import ConversionInputs, Crosswalker\n"
        "from importlib import resources\n"
        "ex = resources.files('crosswalk') / 'examples'\n"
        "inputs = ConversionInputs(source_bpd=ex / 'source_bpd.json', target_bpd=ex / 'target_bpd.json')\n"
        "with Crosswalker(store_path='store.sqlite') as cw:\n"
        "    print(cw.plan(inputs)['bpd']['source_items'], len(cw.convert(inputs).records('bpd')))\n"
    )
    run = subprocess.run([str(venv / "bin" / "python"), "-c", example], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and run.stdout.split() == ["46", "46"], run.stderr[-2000:]
    bench = subprocess.run([str(venv / "bin" / "crosswalk"), "bench", "quality"], cwd=elsewhere, env=env,
                           capture_output=True, text=True, timeout=120)
    assert bench.returncode == 1 and "source checkout" in bench.stderr
