"""README's main job (examples/separate_mir1k_clip.py) runs as a user runs it."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_separate_mir1k_clip_writes_stems_and_scores(tmp_path):
    result = subprocess.run([sys.executable, str(EXAMPLES / "separate_mir1k_clip.py"),
                             "--out", str(tmp_path)], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "annar_3_05"
    mixture, rate = sf.read(folder / "mixture.wav")
    vocals, _ = sf.read(folder / "vocals.wav")
    accompaniment, _ = sf.read(folder / "accompaniment.wav")
    assert rate == 16000 and len(vocals) == len(mixture) == len(accompaniment)
    np.testing.assert_allclose(vocals + accompaniment, mixture, atol=3e-4)
    model_rows = [line.split() for line in result.stdout.splitlines()
                  if line.startswith("sksep model")]
    assert len(model_rows) == 2
    assert all(float(row[3]) > 3.0 for row in model_rows), result.stdout  # SI-SDRi in dB
    again = subprocess.run([sys.executable, str(EXAMPLES / "separate_mir1k_clip.py"),
                            "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert again.returncode != 0 and "overwrite" in again.stderr
