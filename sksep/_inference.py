"""Running a function over a long input segment by segment, and stitching the outputs.

One loop, :func:`overlap_add`, serves every separator and the separation of long
files, as asteroid's ``LambdaOverlapAdd`` and demucs's ``apply_model`` do. Callers
only choose the segments and how they are stitched:

==========================================  ==========================================
caller                                      segments and stitching
==========================================  ==========================================
``segmentwise`` (recurrent networks)        segments that tile the clip, the last one
                                            aligned to its end (:func:`segment_starts`);
                                            each frame from the last segment covering it
``patchwise`` (U-Net)                       overlapping patches, cross-faded with
                                            :func:`crossfade_window` and normalised
``framewise`` (context CNN)                 chunks that also read ``context`` frames on
                                            each side, none of them stitched
``separate_long``, ``separate_audio``       blocks of audio with complementary
                                            raised-cosine fades, reordered for
                                            separators whose sources have no fixed order
==========================================  ==========================================

The loop is plain numpy: ``apply`` is any function of a batch of segments. Running a
torch module without gradients on a device is
:func:`sksep.separators._training.module_function`'s job.
"""

import numpy as np

__all__ = ["overlap_add", "segment_starts", "crossfade_window"]


def segment_starts(n_frames, segment_frames, hop=None):
    """First frames of segments of ``segment_frames`` frames that cover ``n_frames``.

    One segment every ``hop`` frames; the last one is aligned to the end of the clip, so
    that it overlaps its neighbour instead of running past the clip.

    Parameters
    ----------
    n_frames : int
        Length of the clip.
    segment_frames : int
        Length of a segment; a clip not longer than that is one segment starting at 0.
    hop : int, optional
        Frames between starts; ``None`` is ``segment_frames`` (segments that tile the
        clip, only the last one overlapping).

    Returns
    -------
    starts : list of int

    Examples
    --------
    >>> from sksep._inference import segment_starts
    >>> segment_starts(250, 100)
    [0, 100, 150]
    >>> segment_starts(300, 128, hop=64)
    [0, 64, 128, 172]
    """
    if n_frames <= segment_frames:
        return [0]
    starts = list(range(0, n_frames - segment_frames + 1, hop or segment_frames))
    if starts[-1] + segment_frames < n_frames:
        starts.append(n_frames - segment_frames)
    return starts


def crossfade_window(length):
    """Smooth, strictly positive weights ``(length,)`` peaking at the middle of a segment.

    A Hann window with its two zero end points cut off: segment edges, where a
    convolutional network's zero padding is felt, count least, and no frame has zero
    total weight.

    Examples
    --------
    >>> from sksep._inference import crossfade_window
    >>> crossfade_window(3).round(3)
    array([0.5, 1. , 0.5])
    """
    return np.hanning(length + 2)[1:-1]


def _along(axis, start, stop):
    """Index selecting ``start:stop`` along ``axis`` (a non-negative axis)."""
    return (slice(None),) * axis + (slice(start, stop),)


def _on_axis(weights, axis, ndim):
    """``weights (n,)`` shaped to multiply an ``ndim``-dimensional array along ``axis``."""
    shape = [1] * ndim
    shape[axis] = len(weights)
    return weights.reshape(shape)


def _output_axis(output_axis, output):
    if not -output.ndim <= output_axis < output.ndim:
        raise ValueError(f"output_axis={output_axis} is out of range for an output of "
                         f"shape {output.shape}")
    return output_axis % output.ndim


def _batches(segments, batch_size):
    """Consecutive runs of at most ``batch_size`` segments of the same length."""
    batch = []
    for index, (start, stop) in enumerate(segments):
        if batch and (len(batch) == batch_size
                      or stop - start != batch[0][2] - batch[0][1]):
            yield batch
            batch = []
        batch.append((index, start, stop))
    if batch:
        yield batch


def _check_segments(segments, n_frames):
    segments = [(int(start), int(stop)) for start, stop in segments]
    if not segments:
        raise ValueError("segments is empty; expected at least one (start, stop) pair")
    for start, stop in segments:
        if not 0 <= start < stop <= n_frames:
            raise ValueError(f"segment ({start}, {stop}) must satisfy 0 <= start < stop <= "
                             f"{n_frames} (the signal's length)")
    covered = 0
    for start, stop in sorted(segments):
        if start > covered:
            break
        covered = max(covered, stop)
    if covered < n_frames:
        raise ValueError(f"segments leave frames from {covered} uncovered; expected them to "
                         f"cover all {n_frames} frames")
    return segments


def overlap_add(apply, signal, segments, *, axis=0, output_axis=0, context=0, weights=None,
                normalize=True, batch_size=1, reorder=None, progress=None):
    """Apply a function to segments of a signal and stitch its outputs back together.

    Each segment ``(start, stop)`` of ``signal`` (along ``axis``), with ``context`` more
    frames on each side, goes through ``apply``, in batches of segments of the same
    length; the outputs, ``stop - start`` frames long along ``output_axis``, are added
    at their place with their weights.

    Parameters
    ----------
    apply : callable
        ``apply(batch) -> outputs``: ``batch`` is an ndarray ``(n_segments, ...)``, the
        segments stacked (a view of ``signal`` for a single segment); ``outputs`` an
        ndarray, or a tuple of ndarrays, each ``(n_segments, ...)`` with
        ``stop - start`` frames along ``output_axis``.
    signal : ndarray
        The whole input, ``n_frames`` along ``axis``.
    segments : sequence of (int, int)
        Half-open ranges ``[start, stop)`` of frames that together cover
        ``[0, n_frames)``, processed in this order.
    axis : int, default=0
        Time axis of ``signal`` (e.g. 0 for features ``(n_frames, n_features)``, -1 for
        audio ``(..., n_samples)``).
    output_axis : int, default=0
        Time axis of each output of one segment (not counting the batch axis), and of
        the result; negative values count from the end of each output.
    context : int, default=0
        Frames the function reads on each side of a segment without returning outputs
        for them: a segment ``[start, stop)`` reads ``start - context`` to
        ``stop + context``; the signal is extended at its ends by repeating its first
        and last frames.
    weights : callable or None, default=None
        ``weights(index) -> ndarray (stop - start,)``, the weight of each frame of
        segment ``index``'s output. ``None``: no arithmetic, each frame is taken from
        the last segment that covers it (segments that tile the signal, as
        :func:`segment_starts` lays them out).
    normalize : bool, default=True
        With ``weights``, divide by the sum of the weights at each frame (weighted
        overlap-add); ``False`` for weights that already sum to one.
    batch_size : int, default=1
        Segments per call of ``apply`` (consecutive segments of one length).
    reorder : callable, optional
        ``reorder(previous, current) -> current`` for outputs in no fixed order (e.g.
        sources from deep clustering): ``previous`` is the previous segment's output
        over the frames both segments cover, ``current`` this segment's output (in the
        structure ``apply`` returns, without the batch axis); the returned output is
        stitched, and compared with the next segment in turn (asteroid's
        ``reorder_chunks``).
    progress : callable, optional
        Called with the number of segments done after each batch (e.g. a progress
        bar's ``update``).

    Returns
    -------
    outputs : ndarray or tuple of ndarray
        As ``apply`` returns them, with ``n_frames`` along ``output_axis`` and without
        the batch axis, in the dtype of ``apply``'s outputs (weighted sums are
        accumulated in the wider dtype of outputs and weights).

    Raises
    ------
    ValueError
        Segments out of range or not covering the signal, an output of another length
        than its segment, or weights that sum to zero at a frame.

    See Also
    --------
    segment_starts : starts of segments that cover a clip.
    crossfade_window : weights for overlapping segments.

    Examples
    --------
    Segments of 4 frames every 2 frames, cross-faded: a function that works frame by
    frame gives the same result as on the whole signal.

    >>> import numpy as np
    >>> from sksep._inference import crossfade_window, overlap_add, segment_starts
    >>> signal = np.arange(10.0)
    >>> segments = [(s, s + 4) for s in segment_starts(10, 4, hop=2)]
    >>> segments
    [(0, 4), (2, 6), (4, 8), (6, 10)]
    >>> window = crossfade_window(4)
    >>> out = overlap_add(np.square, signal, segments, weights=lambda index: window,
    ...                   batch_size=3)
    >>> bool(np.allclose(out, signal ** 2))
    True

    A function that reads one frame of context on each side, on chunks of 3 frames:

    >>> smooth = lambda batch: (batch[:, :-2] + batch[:, 1:-1] + batch[:, 2:]) / 3
    >>> out = overlap_add(smooth, signal, [(0, 3), (3, 6), (6, 9), (9, 10)], context=1)
    >>> out[:3].round(3), out[-3:].round(3)   # the ends repeat the first and last frames
    (array([0.333, 1.   , 2.   ]), array([7.   , 8.   , 8.667]))
    """
    signal = np.asarray(signal)
    if not -signal.ndim <= axis < signal.ndim:
        raise ValueError(f"axis={axis} is out of range for a signal of shape {signal.shape}")
    axis %= signal.ndim
    n_frames = signal.shape[axis]
    segments = _check_segments(segments, n_frames)
    if context:
        padding = [(0, 0)] * signal.ndim
        padding[axis] = (context, context)
        signal = np.pad(signal, padding, mode="edge")

    results = totals = previous = None
    for batch in _batches(segments, batch_size):
        inputs = [signal[_along(axis, start, stop + 2 * context)] for _, start, stop in batch]
        outputs = apply(inputs[0][None] if len(inputs) == 1 else np.stack(inputs))
        single = not isinstance(outputs, tuple)
        outputs = (outputs,) if single else outputs
        for row, (index, start, stop) in enumerate(batch):
            piece = tuple(np.asarray(output[row]) for output in outputs)
            weight = None if weights is None else np.asarray(weights(index))
            if results is None:
                out_axes = [_output_axis(output_axis, p) for p in piece]
                dtypes = [p.dtype for p in piece]
                results = [np.zeros(p.shape[:a] + (n_frames,) + p.shape[a + 1:],
                                    dtype=p.dtype if weight is None
                                    else np.result_type(p.dtype, weight.dtype))
                           for p, a in zip(piece, out_axes)]
            for p, a in zip(piece, out_axes):
                if p.shape[a] != stop - start:
                    raise ValueError(f"apply returned {p.shape[a]} frames along "
                                     f"output_axis={output_axis} for the segment ({start}, "
                                     f"{stop}); expected {stop - start}")
            if reorder is not None:
                if previous is not None:
                    previous_start, previous_piece = previous
                    tail = tuple(p[_along(a, start - previous_start, None)]
                                 for p, a in zip(previous_piece, out_axes))
                    piece = reorder(tail[0] if single else tail, piece[0] if single else piece)
                    piece = (piece,) if single else tuple(piece)
                previous = (start, piece)
            for result, p, a in zip(results, piece, out_axes):
                if weight is None:
                    result[_along(a, start, stop)] = p
                else:
                    result[_along(a, start, stop)] += p * _on_axis(weight, a, p.ndim)
            if weight is not None and normalize:
                if totals is None:
                    totals = np.zeros(n_frames, dtype=weight.dtype)
                totals[start:stop] += weight
        if progress is not None:
            progress(len(batch))

    if weights is not None and normalize:
        if not np.all(totals > 0):
            raise ValueError("weights sum to 0 at some frames; expected a positive total "
                             "weight at every frame (or normalize=False)")
        results = [result / _on_axis(totals, a, result.ndim)
                   for result, a in zip(results, out_axes)]
    results = tuple(result.astype(dtype, copy=False) for result, dtype in zip(results, dtypes))
    return results[0] if single else results
