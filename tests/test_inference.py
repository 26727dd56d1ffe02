"""The one inference loop (sksep.inference.overlap_add) and the separators' uses of it."""

import numpy as np
import pytest
import torch

from sksep.inference import crossfade_window, overlap_add, segment_starts
from sksep.inference import module_function, segmentwise

AWKWARD_LENGTHS = [1, 2, 17, 63, 64, 65, 127, 128, 129, 300, 1001]


def _pointwise(batch):
    """A function whose output at a frame depends on that frame only."""
    return np.tanh(batch) * 2.0 + 0.5


class _Recorder:
    """Wraps ``apply`` and records the shape of every batch it sees."""

    def __init__(self, apply):
        self.apply = apply
        self.shapes = []

    def __call__(self, batch):
        self.shapes.append(batch.shape)
        return self.apply(batch)


def _segments(n_frames, length, hop=None):
    length = min(length, n_frames)
    return [(start, start + length) for start in segment_starts(n_frames, length, hop)]


class TestSegmentStarts:
    def test_patch_starts_cover_the_clip(self):  # moved from test_unet.py (patch_starts)
        assert segment_starts(300, 128, 64) == [0, 64, 128, 172]
        assert segment_starts(128, 128, 64) == [0]
        assert segment_starts(50, 128, 64) == [0]

    @pytest.mark.parametrize("n_frames", AWKWARD_LENGTHS)
    @pytest.mark.parametrize("length", [1, 16, 64])
    def test_segments_tile_the_clip_the_last_aligned_to_its_end(self, n_frames, length):
        starts = segment_starts(n_frames, length)
        assert starts[0] == 0
        if n_frames <= length:
            assert starts == [0]
            return
        assert starts[-1] + length == n_frames
        assert all(b - a == length for a, b in zip(starts[:-2], starts[1:-1]))
        assert 0 < starts[-1] - starts[-2] <= length

    def test_exact_multiple_has_no_overlap(self):
        assert segment_starts(256, 64) == [0, 64, 128, 192]


class TestCrossfadeWindow:
    def test_crossfade_window_is_smooth_and_positive(self):  # moved from test_unet.py
        window = crossfade_window(128)
        assert window.shape == (128,) and window.min() > 0
        assert np.argmax(window) in (63, 64)


class TestOverlapAdd:
    @pytest.mark.parametrize("n_frames", AWKWARD_LENGTHS)
    @pytest.mark.parametrize("batch_size", [1, 3, 16])
    def test_tiling_is_exact_for_a_pointwise_function(self, n_frames, batch_size):
        signal = np.random.default_rng(n_frames).normal(size=(n_frames, 5)).astype(np.float32)
        out = overlap_add(_pointwise, signal, _segments(n_frames, 64), batch_size=batch_size)
        np.testing.assert_array_equal(out, _pointwise(signal))
        assert out.dtype == np.float32

    @pytest.mark.parametrize("n_frames", AWKWARD_LENGTHS)
    @pytest.mark.parametrize("hop", [1, 13, 32, 64])
    def test_crossfade_is_exact_for_a_pointwise_function(self, n_frames, hop):
        signal = np.random.default_rng(n_frames).normal(size=(n_frames, 3)).astype(np.float32)
        window = crossfade_window(min(64, n_frames))
        out = overlap_add(_pointwise, signal, _segments(n_frames, 64, hop),
                          weights=lambda index: window, batch_size=4)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, _pointwise(signal), rtol=1e-6, atol=1e-6)

    @pytest.mark.parametrize("n_frames", [5, 64, 100, 1001])
    def test_overlap_add_of_a_constant_is_constant(self, n_frames):
        rng = np.random.default_rng(0)
        weights = {}

        def weight(index):  # arbitrary positive weights, different for every segment
            return weights.setdefault(index, rng.uniform(0.1, 2.0, size=min(32, n_frames)))

        out = overlap_add(lambda batch: np.full(batch.shape, 3.0), np.zeros(n_frames),
                          _segments(n_frames, 32, 7), weights=weight, batch_size=5)
        np.testing.assert_allclose(out, 3.0, rtol=1e-12)

    def test_shorter_than_one_segment_is_one_call_of_its_own_length(self):
        recorder = _Recorder(_pointwise)
        signal = np.arange(10.0)[:, None]
        out = overlap_add(recorder, signal, _segments(10, 64), batch_size=16)
        assert recorder.shapes == [(1, 10, 1)]
        np.testing.assert_array_equal(out, _pointwise(signal))

    def test_exact_multiple_sees_every_frame_once(self):
        recorder = _Recorder(_pointwise)
        overlap_add(recorder, np.zeros((256, 2)), _segments(256, 64), batch_size=3)
        assert recorder.shapes == [(3, 64, 2), (1, 64, 2)]

    @pytest.mark.parametrize("batch_size", [1, 2, 3, 100])
    def test_batches_hold_consecutive_segments_of_one_length(self, batch_size):
        recorder = _Recorder(_pointwise)
        segments = [(0, 4), (4, 8), (8, 12), (12, 15), (15, 18), (18, 20)]
        signal = np.random.default_rng(0).normal(size=20)
        out = overlap_add(recorder, signal, segments, batch_size=batch_size)
        assert all(shape[0] <= batch_size for shape in recorder.shapes)
        assert sum(shape[0] for shape in recorder.shapes) == len(segments)
        assert {shape[1] for shape in recorder.shapes} == {4, 3, 2}
        np.testing.assert_array_equal(out, _pointwise(signal))

    def test_later_segments_win_where_tiling_segments_overlap(self):
        out = overlap_add(lambda batch: np.full(batch.shape, float(batch[0, 0])),
                          np.arange(10.0), [(0, 6), (4, 10)])
        np.testing.assert_array_equal(out, [0, 0, 0, 0, 4, 4, 4, 4, 4, 4])

    @pytest.mark.parametrize("chunk", [1, 4, 7, 50])
    def test_context_frames_are_read_not_returned(self, chunk):
        context = 2
        signal = np.random.default_rng(0).normal(size=(23, 3))

        def moving_sum(batch):  # (n, L + 2c, 3) -> (n, L, 3)
            length = batch.shape[1] - 2 * context
            return sum(batch[:, i:i + length] for i in range(2 * context + 1))

        padded = np.concatenate([np.repeat(signal[:1], context, 0), signal,
                                 np.repeat(signal[-1:], context, 0)])
        expected = moving_sum(padded[None])[0]
        segments = [(s, min(s + chunk, 23)) for s in range(0, 23, chunk)]
        out = overlap_add(moving_sum, signal, segments, context=context)
        np.testing.assert_allclose(out, expected, rtol=1e-12)

    def test_output_axes_and_tuples(self):
        signal = np.random.default_rng(0).normal(size=(2, 50)).astype(np.float32)

        def two_outputs(batch):  # (n, 2, L) -> (n, 3, L, 2) and (n, 3, L)
            return np.stack([batch.transpose(0, 2, 1)] * 3, axis=1), np.stack([batch.sum(1)] * 3, 1)

        stacked, summed = overlap_add(two_outputs, signal, _segments(50, 16), axis=-1,
                                      output_axis=1, batch_size=2)
        assert stacked.shape == (3, 50, 2) and summed.shape == (3, 50)
        np.testing.assert_array_equal(stacked[1], signal.T)
        np.testing.assert_array_equal(summed[2], signal.sum(0))

        def ranks_differ(batch):  # (n, 2, L) -> (n, 2, L) and (n, L): time is last in both
            return batch * 2, batch.sum(1)

        doubled, summed = overlap_add(ranks_differ, signal, _segments(50, 16), axis=-1,
                                      output_axis=-1, batch_size=2)
        np.testing.assert_array_equal(doubled, 2 * signal)
        np.testing.assert_array_equal(summed, signal.sum(0))
        with pytest.raises(ValueError, match="output_axis=2 is out of range"):
            overlap_add(ranks_differ, signal, _segments(50, 16), axis=-1, output_axis=2)

    def test_weights_that_sum_to_one_need_no_normalisation(self):
        fade = np.linspace(0, 1, 6)
        weights = [np.concatenate([np.ones(4), 1 - fade]), np.concatenate([fade, np.ones(6)])]
        out = overlap_add(_pointwise, np.linspace(-1, 1, 16), [(0, 10), (4, 16)],
                          weights=lambda index: weights[index], normalize=False)
        np.testing.assert_allclose(out, _pointwise(np.linspace(-1, 1, 16)), rtol=1e-12)

    def test_reorder_sees_the_overlap_with_the_previous_segment(self):
        calls = []

        def swapped_every_other(batch):  # sources (n, 2, L), in no fixed order
            sources = np.stack([batch, 10 * batch], axis=1)
            return sources[:, ::-1] if batch[0, 0] > 3 else sources

        def reorder(previous, current):
            calls.append(previous.shape)
            same = np.abs(previous - current[:, :previous.shape[1]]).sum()
            crossed = np.abs(previous - current[::-1, :previous.shape[1]]).sum()
            return current if same <= crossed else current[::-1]

        signal = np.arange(1.0, 13.0)
        out = overlap_add(swapped_every_other, signal, [(0, 6), (4, 10), (8, 12)],
                          output_axis=-1, reorder=reorder)
        assert calls == [(2, 2), (2, 2)]
        np.testing.assert_array_equal(out, [signal, 10 * signal])

    def test_progress_counts_every_segment(self):
        counts = []
        overlap_add(_pointwise, np.zeros(100), _segments(100, 16), batch_size=3,
                    progress=counts.append)
        assert counts == [3, 3, 1] and sum(counts) == len(_segments(100, 16))

    def test_bad_segments_and_outputs(self):
        with pytest.raises(ValueError, match="leave frames from 8 uncovered"):
            overlap_add(_pointwise, np.zeros(10), [(0, 4), (4, 8)])
        with pytest.raises(ValueError, match=r"segment \(8, 12\) must satisfy"):
            overlap_add(_pointwise, np.zeros(10), [(0, 8), (8, 12)])
        with pytest.raises(ValueError, match="segments is empty"):
            overlap_add(_pointwise, np.zeros(10), [])
        with pytest.raises(ValueError, match="returned 3 frames"):
            overlap_add(lambda batch: batch[:, :3], np.zeros(10), [(0, 5), (5, 10)])
        with pytest.raises(ValueError, match="weights sum to 0"):
            overlap_add(_pointwise, np.zeros(10), [(0, 10)], weights=lambda i: np.zeros(10))
        with pytest.raises(ValueError, match="axis=2 is out of range"):
            overlap_add(_pointwise, np.zeros((10, 2)), [(0, 10)], axis=2)


class _TwoHeads(torch.nn.Module):
    """Pointwise stand-in for a two-head network: embedding (B, T, F, 2), masks (B, 2, T, F)."""

    def forward(self, features):
        vocal = torch.sigmoid(features)
        return torch.stack([features, -features], -1), torch.stack([vocal, 1 - vocal], 1)


class TestModuleFunction:
    def test_tensors_in_and_out_without_gradients(self):
        layer = torch.nn.Linear(3, 2)
        apply = module_function(layer)
        batch = np.random.default_rng(0).normal(size=(4, 5, 3)).astype(np.float32)
        out = apply(batch)
        assert isinstance(out, np.ndarray) and out.shape == (4, 5, 2)
        with torch.no_grad():
            np.testing.assert_array_equal(out, layer(torch.from_numpy(batch)).numpy())
        first, second = module_function(_TwoHeads())(batch)
        assert first.shape == (4, 5, 3, 2) and second.shape == (4, 2, 5, 3)


class TestSegmentwise:
    @pytest.mark.parametrize("n_frames", [1, 29, 30, 31, 100, 257])
    @pytest.mark.parametrize("batch_size", [1, 3, 16])
    def test_outputs_on_their_time_axes_exactly(self, n_frames, batch_size):
        features = np.random.default_rng(n_frames).normal(size=(n_frames, 6)).astype(np.float32)
        embedding, masks = segmentwise(_TwoHeads(), features, 30, batch_size=batch_size,
                                       reduce=lambda out: [(out[0], 1), (out[1], 2)])
        with torch.no_grad():
            whole = _TwoHeads()(torch.from_numpy(features)[None])
        # (torch's vectorised sigmoid may round differently for another batch shape)
        np.testing.assert_allclose(embedding, whole[0][0].numpy(), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(masks, whole[1][0].numpy(), rtol=1e-6, atol=1e-7)

    def test_default_reduce_reads_masks(self):
        features = np.random.default_rng(0).normal(size=(45, 4)).astype(np.float32)
        masks_only = lambda batch: _TwoHeads()(batch)[1]  # noqa: E731
        module = torch.nn.Module()
        module.forward = masks_only
        (masks,) = segmentwise(module, features, 20)
        assert masks.shape == (2, 45, 4)
