"""The STFT, its inverse and resampling of sksep/_spectral.py: librosa's conventions,
computed without librosa's numba kernels (so that a first run compiles nothing)."""

import os
import subprocess
import sys

import librosa
import numpy as np
import pytest

from sksep._spectral import istft, resample, stft


@pytest.fixture(scope="module")
def song(mir1k_test_clips):
    """A real clip and a stereo pair of real clips (float32)."""
    X = mir1k_test_clips[0]
    n = min(len(X[0]), len(X[1]), 40_000)
    return X[0][:n].astype(np.float32), np.stack([X[0][:n], X[1][:n]]).astype(np.float32)


@pytest.mark.parametrize("n_fft, hop_length", [(512, 128), (1024, 256), (1411, 353),
                                               (400, 160), (64, 64)])
def test_stft_matches_librosa(song, n_fft, hop_length):
    mono, stereo = song
    for audio in (mono, stereo, mono[:n_fft + 3]):
        ours = stft(audio, n_fft=n_fft, hop_length=hop_length)
        theirs = librosa.stft(audio, n_fft=n_fft, hop_length=hop_length, center=True)
        assert ours.dtype == np.complex64 and ours.shape == theirs.shape
        assert ours.shape[-1] == 1 + audio.shape[-1] // hop_length
        np.testing.assert_allclose(ours, theirs, atol=2e-5 * np.abs(theirs).max())


@pytest.mark.parametrize("n_fft, hop_length", [(512, 128), (1024, 256), (1411, 353),
                                               (400, 160)])
def test_istft_matches_librosa_and_inverts_stft(song, n_fft, hop_length):
    mono, stereo = song
    for audio in (mono, stereo):
        spectrum = stft(audio, n_fft=n_fft, hop_length=hop_length)
        rng = np.random.default_rng(0)
        masked = spectrum * rng.uniform(0, 1, spectrum.shape).astype(np.float32)
        for length in (audio.shape[-1], audio.shape[-1] - 17, audio.shape[-1] + 500):
            ours = istft(masked, n_fft=n_fft, hop_length=hop_length, length=length)
            theirs = librosa.istft(masked, n_fft=n_fft, hop_length=hop_length, center=True,
                                   length=length)
            assert ours.dtype == np.float32 and ours.shape == theirs.shape
            np.testing.assert_allclose(ours, theirs, atol=1e-5)
        back = istft(spectrum, n_fft=n_fft, hop_length=hop_length, length=audio.shape[-1])
        np.testing.assert_allclose(back, audio, atol=1e-5)


@pytest.mark.parametrize("orig_sr, target_sr", [(44100, 16000), (16000, 44100),
                                                (16000, 22050), (48000, 16000)])
def test_resample_matches_librosa(song, orig_sr, target_sr):
    mono, stereo = song
    for audio in (mono, stereo, stereo.astype(np.float64)):
        ours = resample(audio, orig_sr=orig_sr, target_sr=target_sr)
        theirs = librosa.resample(audio, orig_sr=orig_sr, target_sr=target_sr)
        assert ours.dtype == audio.dtype and ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, atol=1e-6)
    assert resample(mono, orig_sr=16000, target_sr=16000) is mono


def test_separating_compiles_no_numba_kernel(tmp_path):
    """Features, masks and resynthesis in a fresh process with an empty numba cache:
    no kernel is compiled (librosa's core, whose kernels took a minute to compile on
    the first run after installing, is not imported)."""
    cache = tmp_path / "numba"
    cache.mkdir()
    script = (
        "import numpy as np\n"
        "from sksep import MelFeatures, WienerMask, apply_masks\n"
        "from sksep._spectral import resample\n"
        "x = np.random.default_rng(0).normal(size=(2, 44100)).astype('float32')\n"
        "mid = resample(x.mean(0), orig_sr=44100, target_sr=16000)\n"
        "record = MelFeatures().fit_transform([mid])[0]\n"
        "masks = WienerMask().masks(record, np.stack([mid / 2, mid / 2]))\n"
        "apply_masks(record, masks)\n"
        "import sys\n"
        "print(sorted(m for m in sys.modules if m.startswith('librosa.core.')))\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, check=True)
    loaded = result.stdout.strip()
    assert "librosa.core.audio" not in loaded and "librosa.core.spectrum" not in loaded, loaded
    assert not list(cache.rglob("*.nbi")), sorted(p.name for p in cache.rglob("*.nbi"))
