"""Hostile and damaged model files, device-independent models and silent training sets.

Each test reproduces one case of the hardening issue: a model file that carries a
path, asks for sizes its weights do not have, holds plain data that expands
exponentially, was changed after saving or holds NaN weights, or was saved on a
GPU; and a training set that is entirely silent.
"""

import copy
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.pipeline import Pipeline

import sksep
from sksep import ChimeraSeparator, ConvMaskSeparator, MelFeatures, UNetSeparator
from sksep import _persistence
from sksep.separators._checkpoint import read_checkpoint, write_checkpoint
from sksep.exceptions import DeviceNotAvailableError, InvalidInputError, ModelFileError

from fast_settings import make, separator_names

N_SAMPLES = 4000  # a quarter of a second at 16 kHz
TINY = dict(hidden_size=4, num_layers=1, embedding_dim=4, max_epochs=1, segment_frames=16,
            batch_size=4, random_state=0, patience=None, validation_fraction=0.0)
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


def _features():
    return MelFeatures(n_mels=16, deltas=False)


@pytest.fixture(scope="module")
def clips():
    """Three short random clips: mixtures ``(3, n)`` and their two sources ``(3, 2, n)``."""
    rng = np.random.default_rng(0)
    Y = (0.1 * rng.standard_normal((3, 2, N_SAMPLES))).astype(np.float32)
    return Y.sum(axis=1), Y


@pytest.fixture(scope="module")
def fitted(clips):
    return ChimeraSeparator(**TINY, features=_features()).fit(*clips)


@pytest.fixture(scope="module")
def model_file(fitted, tmp_path_factory):
    return fitted.save(tmp_path_factory.mktemp("models") / "model.sksep")


def _payload(path):
    return torch.load(path, map_location="cpu", weights_only=True)


def _tampered(model_file, tmp_path, edit):
    """A copy of ``model_file`` whose payload ``edit`` changed in place (valid CRCs)."""
    payload = _payload(model_file)
    edit(payload)
    path = tmp_path / "tampered.sksep"
    torch.save(payload, path)
    return path


def _flip_a_byte(path, member_suffix, out):
    """Write to ``out`` a copy of the archive ``path`` with one byte of the data of the
    member whose name ends with ``member_suffix`` inverted (its CRC left as it was)."""
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(member_suffix))
        content = archive.read(name)
    data = bytearray(path.read_bytes())
    data[data.index(content)] ^= 0xFF  # members are stored uncompressed
    out.write_bytes(bytes(data))
    return out


class TestPaths:
    def test_stored_checkpoint_path_is_refused(self, model_file, tmp_path):
        target = tmp_path / "elsewhere" / "run.ckpt"

        def edit(payload):
            payload["params"]["checkpoint"] = str(target)

        path = _tampered(model_file, tmp_path, edit)
        with pytest.raises(ModelFileError, match=r"tampered.sksep' is refused: it "
                                                 r"stores checkpoint=.*run.ckpt'; a model file "
                                                 r"holds no paths"):
            sksep.load(path)
        assert not target.parent.exists()

    def test_path_inside_a_stored_sub_estimator_is_refused(self, model_file, tmp_path):
        def edit(payload):
            payload["params"]["features"] = {"__estimator__": "ChimeraSeparator",
                                             "params": {"checkpoint": "/tmp/x.ckpt"}}

        with pytest.raises(ModelFileError, match="its ChimeraSeparator stores checkpoint="):
            sksep.load(_tampered(model_file, tmp_path, edit))

    def test_save_writes_no_path_and_no_device(self, model_file):
        assert not {"checkpoint", "callbacks", "accelerator", "device"} & set(
            _payload(model_file)["params"])


class TestSizes:
    """Stored sizes that do not match the weights fail before the network is built."""

    @pytest.fixture
    def built_on(self, monkeypatch):
        """Devices of every module ``_build_module`` built while loading."""
        devices = []
        build = ChimeraSeparator._build_module

        def spy(self, *args):
            module = build(self, *args)
            devices.append(next(module.parameters()).device.type)
            return module

        monkeypatch.setattr(ChimeraSeparator, "_build_module", spy)
        return devices

    @pytest.mark.parametrize("section, name, value, match", [
        ("params", "hidden_size", 10**6, r"body.rnn.weight_ih_l0 of shape \(4000000, 16\)"),
        ("params", "hidden_size", 10**9, r"ask for a network that cannot be built: .*overflow"),
        ("params", "embedding_dim", 10**6, r"linear.weight of shape \(16000000, 8\)"),
        ("attributes", "n_sources_", 250000, r"mask_head.weight of shape \(16, 4, 250000\)"),
        ("attributes", "n_features_", 10**9, r"standardize.mean of shape \(1000000000,\)"),
        ("params", "num_layers", 2, r"missing tensors \['body.rnn.bias_hh_l1'"),
        ("params", "num_layers", 10**9, r"num_layers=1000000000 asks for more layers than the "
                                        r"file stores tensors \(14\)"),
    ])
    def test_refused_before_any_allocation(self, model_file, tmp_path, built_on, section,
                                           name, value, match):
        def edit(payload):
            payload[section][name] = value

        with pytest.raises(ModelFileError, match=r"tampered.sksep' is refused: .*" + match):
            sksep.load(_tampered(model_file, tmp_path, edit))
        assert set(built_on) <= {"meta"}  # no module with real storage was built

    def test_grid_that_does_not_match_the_weights(self, model_file, tmp_path, built_on):
        def edit(payload):
            payload["attributes"]["grid_"]["__grid__"]["n_mels"] = 10**6

        # Refused by the grid's own check (as MelFeatures checks n_mels), before any build.
        with pytest.raises(ModelFileError, match=r"grid_: n_mels=1000000 must be an integer "
                                                 r"<= 1024"):
            sksep.load(_tampered(model_file, tmp_path, edit))
        assert built_on == []

    def test_consistent_file_builds_once_on_meta_then_for_real(self, model_file, built_on):
        sksep.load(model_file)
        assert built_on == ["meta", "cpu"]

    @pytest.mark.parametrize("cls, settings", [
        (ConvMaskSeparator, dict(channels=2, conv_layers=1, fc_layers=1, hidden_size=4)),
        (UNetSeparator, dict(channels=2, depth=2)),
    ])
    def test_other_networks_check_their_layer_counts(self, cls, settings, clips, tmp_path):
        training = {k: TINY[k] for k in ("max_epochs", "batch_size", "random_state",
                                         "patience", "validation_fraction", "segment_frames")}
        path = cls(**settings, **training, features=_features()).fit(*clips).save(
            tmp_path / "model.sksep")
        name = next(iter(set(settings) & {"conv_layers", "depth"}))

        def edit(payload):
            payload["params"][name] = 10**9

        # UNetSeparator's depth is refused by its parameter check (at most 8) first.
        with pytest.raises(ModelFileError, match=f"{name}=1000000000 (asks for more layers|"
                                                 f"must be an integer <= 8)"):
            sksep.load(_tampered(path, tmp_path, edit))
        assert isinstance(sksep.load(path), cls)


def _doubling(levels):
    """``levels`` nested ``{"__list__": [a, a]}`` sharing one object per level: a few
    hundred bytes pickled, ``2 ** levels`` leaves expanded."""
    value = 0
    for _ in range(levels):
        value = {"__list__": [value, value]}
    return value


class TestPlainData:
    def test_exponential_nesting_is_refused(self, model_file, tmp_path):
        def edit(payload):
            payload["attributes"]["epoch_summary_"] = _doubling(40)

        path = _tampered(model_file, tmp_path, edit)
        assert path.stat().st_size - model_file.stat().st_size < 2000
        with pytest.raises(ModelFileError, match=r"its attributes\['epoch_summary_'\] is "
                                                 r"nested more than 32 levels deep"):
            sksep.load(path)

    def test_too_many_values_is_refused(self, model_file, tmp_path, monkeypatch):
        monkeypatch.setattr(_persistence, "MAX_PLAIN_VALUES", 1000)

        def edit(payload):
            payload["attributes"]["epoch_summary_"] = {"__list__": list(range(1000))}

        with pytest.raises(ModelFileError, match="its attributes hold more than 1000 values"):
            sksep.load(_tampered(model_file, tmp_path, edit))

    def test_shared_data_within_the_bounds_still_loads(self, model_file, tmp_path):
        def edit(payload):
            payload["attributes"]["epoch_summary_"] = _doubling(10)

        assert len(sksep.load(_tampered(model_file, tmp_path, edit)).epoch_summary_) == 2


class TestIntegrity:
    def test_changed_weight_bytes_fail_the_crc(self, model_file, tmp_path):
        path = _flip_a_byte(model_file, "data/3", tmp_path / "flipped.sksep")
        with pytest.raises(ModelFileError, match=r"flipped.sksep' is damaged: its archive "
                                                 r"fails its integrity check \(Bad CRC-32 "
                                                 r"for file '.*data/3'\)"):
            sksep.load(path)

    def test_changed_checkpoint_bytes_fail_the_crc(self, tmp_path):
        path = write_checkpoint(tmp_path / "run.ckpt", {"format": "sksep-checkpoint",
                                                        "module": torch.ones(100)})
        _flip_a_byte(path, "data/0", path)
        with pytest.raises(ModelFileError, match=r"checkpoint=.*run.ckpt' is damaged"):
            read_checkpoint(path, estimator_name="ChimeraSeparator", fingerprint="")

    def test_nan_weights_are_refused(self, model_file, tmp_path):
        def edit(payload):
            payload["state_dict"]["linear.weight"][0, 0] = float("nan")

        with pytest.raises(ModelFileError, match=r"its weight 'linear.weight' holds NaN or "
                                                 r"infinite values"):
            sksep.load(_tampered(model_file, tmp_path, edit))

    def test_save_refuses_weights_that_load_would_refuse(self, fitted, tmp_path):
        est = copy.deepcopy(fitted)
        weight = est.net_.module_.linear.weight
        with torch.no_grad():
            weight[0, 0] = 1e6  # beyond float16
        with pytest.raises(InvalidInputError, match=r"half.sksep' was not written: its weight "
                                                    r"'linear.weight' holds NaN or infinite "
                                                    r"values; .*save with half=False"):
            est.save(tmp_path / "half.sksep", half=True)
        assert not (tmp_path / "half.sksep").exists()
        full = sksep.load(est.save(tmp_path / "full.sksep"))  # float32 holds it
        assert full.net_.module_.linear.weight[0, 0] == 1e6
        with torch.no_grad():
            weight[0, 0] = float("nan")
        with pytest.raises(InvalidInputError, match=r"nan.sksep' was not written: its weight "
                                                    r"'linear.weight' holds NaN"):
            est.save(tmp_path / "nan.sksep")

    def test_infinite_stored_array_is_refused(self, model_file, tmp_path):
        def edit(payload):
            payload["attributes"]["extra_"] = {"__array__": torch.tensor([1.0, float("inf")])}

        with pytest.raises(ModelFileError, match=r"its attributes\['extra_'\] holds NaN"):
            sksep.load(_tampered(model_file, tmp_path, edit))

    def test_compressed_archive_is_refused(self, model_file, tmp_path):
        path = tmp_path / "deflated.sksep"
        with zipfile.ZipFile(model_file) as source, \
                zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
            for member in source.infolist():
                target.writestr(member.filename, source.read(member))
        with pytest.raises(ModelFileError, match=r"deflated.sksep' is not as torch.save "
                                                 r"writes it: '.*data.pkl' is compressed"):
            sksep.load(path)

    def test_legacy_pickle_format_is_not_unpickled(self, model_file, tmp_path):
        path = tmp_path / "legacy.sksep"
        torch.save(_payload(model_file), path, _use_new_zipfile_serialization=False)
        with pytest.raises(ModelFileError, match="not a PyTorch zip archive"):
            sksep.load(path)

    def test_shipped_model_passes_the_checks(self):
        path = Path(sksep.__file__).parent / "models" / "chimera-mir1k.sksep"
        _persistence.check_archive(path, name="shipped")
        _persistence._check_contents(_payload(path))


class TestDevice:
    def test_file_saved_on_cuda_loads_on_the_cpu(self, model_file, fitted, clips, tmp_path):
        def edit(payload):
            payload["params"]["device"] = "cuda"

        loaded = sksep.load(_tampered(model_file, tmp_path, edit))
        assert loaded.device == "cpu"
        assert next(loaded.net_.module_.parameters()).device.type == "cpu"
        np.testing.assert_array_equal(loaded.predict(clips[0][:1]), fitted.predict(clips[0][:1]))

    @NO_CUDA
    def test_load_on_missing_cuda(self, model_file):
        match = r"device='cuda' is not available on this machine \(.*\); pass device='cpu'"
        with pytest.raises(DeviceNotAvailableError, match=match):
            ChimeraSeparator.load(model_file, device="cuda")
        with pytest.raises(DeviceNotAvailableError, match=match):
            _persistence.load_estimator(model_file, device="cuda")

    @NO_CUDA
    def test_fit_on_missing_cuda(self, clips):
        with pytest.raises(DeviceNotAvailableError, match=r"device='cuda' is not available"):
            ChimeraSeparator(**TINY, features=_features(), device="cuda").fit(*clips)

    @NO_CUDA
    def test_predict_on_missing_cuda(self, model_file, clips):
        loaded = sksep.load(model_file).set_params(device="cuda")
        for method in (loaded.predict, loaded.predict_masks):
            with pytest.raises(DeviceNotAvailableError, match=r"device='cuda' is not available"):
                method(clips[0][:1])

    def test_not_a_device(self, model_file):
        with pytest.raises(InvalidInputError, match=r"device='gpu0' is not a torch device"):
            ChimeraSeparator.load(model_file, device="gpu0")


class TestSilentTrainingSet:
    @pytest.mark.parametrize("name", separator_names())
    def test_silent_mixtures(self, name, clips):
        silent = np.zeros_like(clips[1])
        with pytest.raises(InvalidInputError, match=r"^X is entirely silent: every clip of "
                                                    r"the 3 clips is all zeros"):
            make(name).fit(silent.sum(axis=1), silent)

    @pytest.mark.parametrize("name", separator_names())
    def test_silent_sources(self, name, clips):
        with pytest.raises(InvalidInputError, match=r"^Y is entirely silent: every source of "
                                                    r"the 3 clips is all zeros"):
            make(name).fit(clips[0], np.zeros_like(clips[1]))

    def test_silent_records_in_a_pipeline(self, clips):
        silent = np.zeros_like(clips[1])
        pipe = Pipeline([("features", _features()),
                         ("separator", ChimeraSeparator(**TINY))])
        with pytest.raises(InvalidInputError, match="X is entirely silent"):
            pipe.fit(silent.sum(axis=1), silent)

    def test_one_sound_clip_is_enough(self, clips):
        X, Y = clips[0].copy(), clips[1].copy()
        X[1:], Y[1:] = 0.0, 0.0
        ChimeraSeparator(**TINY, features=_features()).fit(X, Y)


def test_sksep_load_takes_a_device():
    model = sksep.load("chimera-mir1k", device="cpu")
    assert str(next(model.net_.module_.parameters()).device) == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(DeviceNotAvailableError, match="device='cuda' is not available"):
            sksep.load("chimera-mir1k", device="cuda")


def test_stored_n_fft_is_bounded():
    with pytest.raises(InvalidInputError, match=r"n_fft=1000000000 must be"):
        MelFeatures(n_fft=10**9).fit_settings()


def test_loading_a_model_builds_no_optimizer():
    """A loaded model only predicts: no optimizer is built, so torch._dynamo (imported by
    every torch optimizer, about 1.6 s of a command's start-up) is not imported."""
    code = ("import sys, sksep\n"
            "model = sksep.load('chimera-mir1k')\n"
            "assert model.net_.optimizer_ is None\n"
            "print('torch._dynamo' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
