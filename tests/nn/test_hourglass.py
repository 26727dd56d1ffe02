"""Tests for the stacked hourglass (Park et al. 2018) in UNetSeparator: the network's
shapes and supervision, the L1 objective, linear masks, the fine linear grid, persistence
and the refusals of settings that do not go together."""

import numpy as np
import pytest
import torch

import sksep
from sksep import MelFeatures, UNetSeparator
from sksep.exceptions import InvalidInputError, ModelFileError
from sksep.losses import hourglass_objective, l1_spectrogram_loss, unet_objective
from sksep.nn.hourglass import Hourglass, HourglassMaskNetwork, StackedHourglass

#: Park et al.'s grid at a tiny width: 8 kHz, n_fft 1024, hop 256, 513 linear bins.
PARK_GRID = dict(sample_rate=8000, n_fft=1024, hop_length=256, frequency_scale="linear",
                 deltas=False)
TINY = dict(architecture="hourglass", channels=4, depth=2, objective="l1",
            mask_activation="linear", segment_frames=32, batch_size=4, max_epochs=2,
            optimizer="adam", random_state=0)


@pytest.fixture(scope="module")
def clips_8k(mir1k_root):
    from sksep.datasets import load_mir1k
    data = load_mir1k(mir1k_root, "train", max_clips=4, sample_rate=8000)
    return data.X, data.Y


@pytest.fixture(scope="module")
def fitted(clips_8k):
    X, Y = clips_8k
    return UNetSeparator(n_stacks=2, features=MelFeatures(**PARK_GRID), **TINY).fit(X[:3], Y[:3])


class TestNetwork:
    def test_hourglass_keeps_the_shape_at_every_level(self):
        image = torch.randn(2, 3, 16, 32)
        assert Hourglass(3, levels=4)(image).shape == image.shape

    @pytest.mark.parametrize("frames, bins", [(64, 513), (17, 30), (1, 2)])
    def test_every_stack_gives_masks_of_the_input_size(self, frames, bins):
        network = StackedHourglass(1, 2, channels=4, n_stacks=3, levels=3).eval()
        assert network(torch.randn(2, 1, frames, bins)).shape == (2, 3, 2, frames, bins)

    def test_channels_last_computes_the_same(self):
        torch.manual_seed(0)
        network = StackedHourglass(1, 2, channels=8, n_stacks=2, levels=2).eval()
        image = torch.randn(2, 1, 16, 40)
        with torch.no_grad():
            nhwc = network(image)
            network.channels_last = False
            nchw = network(image)
        torch.testing.assert_close(nhwc, nchw, rtol=1e-4, atol=1e-5)

    def test_each_stack_is_supervised(self):
        """Intermediate supervision: the first stack's head gets gradient from the loss
        of its own masks, not only through the stacks after it."""
        torch.manual_seed(0)
        network = HourglassMaskNetwork(8, 8, 2, channels=4, n_stacks=2, levels=2)
        masks = network(torch.randn(1, 8, 8))
        mixture = torch.rand(1, 8, 8)
        targets = {"mixture": mixture, "reference": torch.rand(1, 8, 2, 8),
                   "valid": torch.ones(1, 8)}
        sources = targets["reference"].transpose(1, 2)
        first_only = l1_spectrogram_loss(masks[:, 0], mixture, sources, targets["valid"])
        gradient, = torch.autograd.grad(first_only, network.hourglass.heads[0].weight,
                                        retain_graph=True)
        assert gradient.abs().sum() > 0
        torch.testing.assert_close(
            hourglass_objective(masks, targets),
            first_only + l1_spectrogram_loss(masks[:, 1], mixture, sources, targets["valid"]))

    def test_linear_masks_are_clipped_only_at_prediction(self):
        outputs = torch.tensor([-0.5, 0.2, 1.7]).reshape(1, 1, 3, 1, 1).expand(1, 2, 3, 1, 1)
        np.testing.assert_allclose(
            HourglassMaskNetwork.predicted_masks(outputs).flatten().numpy(), [0.0, 0.2, 1.7])

    def test_softmax_masks_sum_to_one(self):
        network = HourglassMaskNetwork(6, 6, 3, channels=4, levels=1, mask_activation="softmax")
        masks = network(torch.randn(2, 5, 6))
        torch.testing.assert_close(masks.sum(2), torch.ones(2, 1, 5, 6))

    @pytest.mark.parametrize("bad, message", [
        (dict(n_features=7), "n_features=7 must be a multiple of n_bins=2"),
        (dict(mask_activation="sigmoid"), "mask_activation='sigmoid' must be one of")])
    def test_bad_sizes_and_activations(self, bad, message):
        settings = {**dict(n_features=4, n_bins=2, n_sources=2), **bad}
        with pytest.raises(ValueError, match=message):
            HourglassMaskNetwork(settings.pop("n_features"), settings.pop("n_bins"),
                                 settings.pop("n_sources"), **settings)


class TestObjective:
    def test_unet_l1_is_one_stack_of_the_hourglass_objective(self):
        masks = torch.rand(2, 2, 5, 3)
        targets = {"mixture": torch.rand(2, 5, 3), "reference": torch.rand(2, 5, 2, 3),
                   "valid": torch.ones(2, 5)}
        torch.testing.assert_close(unet_objective(masks, targets, objective="l1"),
                                   hourglass_objective(masks.unsqueeze(1), targets))

    def test_perfect_masks_cost_nothing(self):
        mixture = torch.rand(1, 4, 3) + 0.1
        share = torch.rand(1, 4, 1, 3)
        reference = torch.cat([share, 1 - share], dim=2) * mixture.unsqueeze(2)
        masks = (reference / mixture.unsqueeze(2)).transpose(1, 2).unsqueeze(1).repeat(1, 2, 1,
                                                                                         1, 1)
        loss = hourglass_objective(masks, {"mixture": mixture, "reference": reference,
                                           "valid": torch.ones(1, 4)})
        assert float(loss) < 1e-6


class TestSeparator:
    def test_fit_predict_on_the_fine_linear_grid(self, fitted, clips_8k):
        X, Y = clips_8k
        assert fitted.grid_.n_bins == 513 and fitted.grid_.sample_rate == 8000
        masks = fitted.predict_masks(X[3:])[0]
        assert masks.shape[0] == 2 and masks.min() >= 0.0  # linear masks, clipped
        estimate = fitted.predict(X[3:])[0]
        assert estimate.shape == Y[3].shape and np.isfinite(estimate).all()
        assert fitted.net_.module_.hourglass.heads.__len__() == 2

    def test_training_lowers_the_l1_loss(self, clips_8k):
        X, Y = clips_8k
        est = UNetSeparator(features=MelFeatures(**PARK_GRID),
                            **{**TINY, "max_epochs": 4, "lr": 3e-3}).fit(X[:3], Y[:3])
        losses = est.history_[:, "train_loss"]
        assert losses[-1] < losses[0]

    def test_saved_and_loaded_it_separates_the_same(self, fitted, clips_8k, tmp_path):
        X, _ = clips_8k
        fitted.save(tmp_path / "hourglass.sksep")
        loaded = sksep.load(tmp_path / "hourglass.sksep")
        assert loaded.get_params()["n_stacks"] == 2
        np.testing.assert_array_equal(loaded.predict(X[3:])[0], fitted.predict(X[3:])[0])

    def test_separate_gives_16k_stems_from_an_8k_model(self, fitted):
        song = np.random.default_rng(0).normal(scale=0.1, size=16000).astype(np.float32)
        stems, rate = sksep.separate(song, model=fitted, sample_rate=16000)
        assert rate == 16000 and all(s.shape == (16000,) for s in stems.values())

    def test_a_model_file_may_not_ask_for_more_stacks_than_it_stores(self, fitted, tmp_path):
        path = tmp_path / "stacks.sksep"
        fitted.save(path)
        tampered = sksep.load(path)
        tampered.n_stacks = 10_000
        with pytest.raises(ModelFileError, match="n_stacks=10000 asks for more layers"):
            tampered._check_stored_sizes(fitted.net_.module_.state_dict())

    @pytest.mark.parametrize("bad, message", [
        (dict(hybrid=True), "hybrid=True is the UH-net, a U-Net"),
        (dict(objective="bce", mask_activation="linear"), "mask_activation='linear'"),
        (dict(n_stacks=0), "n_stacks=0"),
        (dict(architecture="resnet"), "architecture='resnet'"),
        (dict(objective="mse"), "objective='mse'"),
    ])
    def test_settings_that_do_not_go_together(self, clips_8k, bad, message):
        X, Y = clips_8k
        with pytest.raises(InvalidInputError, match=message):
            UNetSeparator(features=MelFeatures(**PARK_GRID), **{**TINY, **bad}).fit(X[:2], Y[:2])

    def test_unet_with_linear_masks_and_l1(self, clips_8k):
        X, Y = clips_8k
        est = UNetSeparator(channels=4, depth=2, segment_frames=32, max_epochs=1,
                            objective="l1", mask_activation="linear", random_state=0,
                            features=MelFeatures(**PARK_GRID)).fit(X[:2], Y[:2])
        assert est.predict_masks(X[2:3])[0].min() >= 0.0
