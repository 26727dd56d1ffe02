"""Running a function over a long input segment by segment, and stitching the outputs.

One loop, :func:`overlap_add_stream`, serves every separator and the separation of long
files, as asteroid's ``LambdaOverlapAdd`` and demucs's ``apply_model`` do. It hands
back each stretch of the output as soon as no later segment can change it, so a caller
may write a long song's stems block by block and hold O(segment) of it;
:func:`overlap_add` collects the stretches into whole arrays. Callers only choose the
segments and how they are stitched:

==========================================  ==========================================
caller                                      segments and stitching
==========================================  ==========================================
:func:`segmentwise` (recurrent networks)    segments that tile the clip, the last one
                                            aligned to its end (:func:`segment_starts`);
                                            each frame from the last segment covering it
:func:`patchwise` (U-Net)                   overlapping patches, cross-faded with
                                            :func:`crossfade_window` and normalised
:func:`framewise` (context CNN)             chunks that also read ``context`` frames on
                                            each side, none of them stitched
songs (:mod:`sksep.separation`)             blocks of audio with complementary
                                            raised-cosine fades, reordered for
                                            separators whose sources have no fixed order;
                                            ``separate_to_files`` reads and writes the
                                            song block by block
==========================================  ==========================================

The loop is plain numpy: ``apply`` is any function of a batch of segments.
:func:`module_function` turns a torch module (or one of its methods) into such a
function, run without gradients on a device; :func:`segmentwise`, :func:`patchwise`
and :func:`framewise` are the three ways the separators run their networks over a clip.
"""

import numpy as np

from ._validation import check_int

__all__ = ["overlap_add", "overlap_add_stream", "segment_starts", "crossfade_window",
           "module_function", "segmentwise", "patchwise", "framewise"]


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
    >>> from sksep.inference import segment_starts
    >>> segment_starts(250, 100)
    [0, 100, 150]
    >>> segment_starts(300, 128, hop=64)
    [0, 64, 128, 172]
    """
    n_frames = check_int(n_frames, name="n_frames", minimum=0)
    segment_frames = check_int(segment_frames, name="segment_frames", minimum=1)
    hop = check_int(hop, name="hop", minimum=1, allow_none=True)
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

    Parameters
    ----------
    length : int
        Frames of a segment, at least 1.

    Returns
    -------
    window : ndarray of float64, shape (length,)
        Weights in (0, 1], symmetric about the middle.

    Examples
    --------
    >>> from sksep.inference import crossfade_window
    >>> crossfade_window(3).round(3)
    array([0.5, 1. , 0.5])
    """
    return np.hanning(check_int(length, name="length", minimum=1) + 2)[1:-1]


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


def _check_loop(apply, batch_size):
    """The arguments :func:`overlap_add` and :func:`overlap_add_stream` both check."""
    if not callable(apply):
        raise TypeError(f"apply must be a function apply(batch) -> outputs; got "
                        f"{type(apply).__name__}")
    check_int(batch_size, name="batch_size", minimum=1)


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
    overlap_add_stream : the same loop, handing back finished stretches as they come.
    segment_starts : starts of segments that cover a clip.
    crossfade_window : weights for overlapping segments.

    Examples
    --------
    Segments of 4 frames every 2 frames, cross-faded: a function that works frame by
    frame gives the same result as on the whole signal.

    >>> import numpy as np
    >>> from sksep.inference import crossfade_window, overlap_add, segment_starts
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
    _check_loop(apply, batch_size)
    context = check_int(context, name="context", minimum=0)
    signal = np.asarray(signal)
    if signal.ndim == 0:
        raise ValueError("signal must have at least one axis; got a scalar")
    axis = check_int(axis, name="axis")
    if not -signal.ndim <= axis < signal.ndim:
        raise ValueError(f"axis={axis} is out of range for a signal of shape {signal.shape}")
    axis %= signal.ndim
    n_frames = signal.shape[axis]
    if context:
        padding = [(0, 0)] * signal.ndim
        padding[axis] = (context, context)
        signal = np.pad(signal, padding, mode="edge")

    results = None
    for start, stop, outputs in overlap_add_stream(
            apply, lambda start, stop: signal[_along(axis, start, stop + 2 * context)],
            n_frames, segments, output_axis=output_axis, weights=weights,
            normalize=normalize, batch_size=batch_size, reorder=reorder, progress=progress):
        single = not isinstance(outputs, tuple)
        outputs = (outputs,) if single else outputs
        if results is None:
            out_axes = [_output_axis(output_axis, output) for output in outputs]
            results = [np.empty(output.shape[:a] + (n_frames,) + output.shape[a + 1:],
                                dtype=output.dtype) for output, a in zip(outputs, out_axes)]
        for result, output, a in zip(results, outputs, out_axes):
            result[_along(a, start, stop)] = output
    return results[0] if single else tuple(results)


def overlap_add_stream(apply, read, n_frames, segments, *, output_axis=0, weights=None,
                       normalize=True, batch_size=1, reorder=None, progress=None):
    """:func:`overlap_add` as a generator of finished stretches, for inputs too long to hold.

    Segments are read with ``read`` and processed in order, exactly as
    :func:`overlap_add` does; as soon as no later segment covers a frame, the
    stretch of finished frames before it is yielded. Only the frames that a later
    segment may still change are held, so a caller can write each stretch out and
    keep memory bounded by the segments, however long the signal.

    Parameters
    ----------
    apply : callable
        As in :func:`overlap_add`.
    read : callable
        ``read(start, stop) -> ndarray``, the input of segment ``[start, stop)`` (with
        whatever context ``apply`` expects); called once per segment, in the order of
        ``segments``.
    n_frames : int
        Length of the signal.
    segments : sequence of (int, int)
        As in :func:`overlap_add`: half-open ranges covering ``[0, n_frames)``,
        processed in this order.
    output_axis, weights, normalize, batch_size, reorder, progress
        As in :func:`overlap_add`.

    Yields
    ------
    start, stop : int
        The stretch ``[start, stop)`` of the result; consecutive stretches follow one
        another and together cover ``[0, n_frames)``.
    outputs : ndarray or tuple of ndarray
        The result over that stretch, in the structure and dtypes ``apply`` returns,
        ``stop - start`` frames along ``output_axis``: concatenated, the stretches are
        :func:`overlap_add`'s result, to the bit.

    Raises
    ------
    ValueError
        As :func:`overlap_add`; weights that sum to zero are found at the stretch that
        holds them.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.inference import overlap_add_stream
    >>> signal = np.arange(10.0)
    >>> stream = overlap_add_stream(np.square, lambda start, stop: signal[start:stop], 10,
    ...                             [(0, 6), (4, 10)], weights=lambda index: np.ones(6))
    >>> [(start, stop) for start, stop, _ in stream]  # (4, 6) waits for the second segment
    [(0, 4), (4, 10)]
    """
    _check_loop(apply, batch_size)
    if not callable(read):
        raise TypeError(f"read must be a function read(start, stop) -> ndarray; got "
                        f"{type(read).__name__}")
    n_frames = check_int(n_frames, name="n_frames", minimum=1)
    segments = _check_segments(segments, n_frames)
    # Frames before finished_until[i] are covered by no segment after segment i.
    finished_until = [n_frames] * len(segments)
    for i in range(len(segments) - 2, -1, -1):
        finished_until[i] = min(finished_until[i + 1], segments[i + 1][0])

    # ``held`` sums the frames from ``done`` on, which are not yielded yet.
    done, held, previous = 0, None, None
    for batch in _batches(segments, batch_size):
        inputs = [read(start, stop) for _, start, stop in batch]
        outputs = apply(inputs[0][None] if len(inputs) == 1 else np.stack(inputs))
        del inputs
        single = not isinstance(outputs, tuple)
        outputs = (outputs,) if single else outputs
        for row, (index, start, stop) in enumerate(batch):
            piece = tuple(np.asarray(output[row]) for output in outputs)
            weight = None if weights is None else np.asarray(weights(index))
            if held is None:
                held = _Held(piece, weight, output_axis, normalize)
            held.check(piece, start, stop, output_axis)
            if reorder is not None:
                if previous is not None:
                    tail = held.after(previous, start)
                    piece = reorder(tail[0] if single else tail, piece[0] if single else piece)
                    piece = (piece,) if single else tuple(piece)
                    del tail
                previous = (start, piece)
            held.add(piece, weight, start - done, stop - done)
            del piece, weight
            if finished_until[index] > done:
                stretch = held.pop(finished_until[index] - done)
                yield done, finished_until[index], stretch[0] if single else stretch
                done = finished_until[index]
                del stretch
        # Nothing of a batch may outlive it but the reorder's previous piece: with long
        # segments, each output is as large as a block of a song.
        del outputs
        if progress is not None:
            progress(len(batch))


def module_function(forward, *, device="cpu"):
    """A torch function as the numpy function :func:`overlap_add` calls.

    Parameters
    ----------
    forward : callable
        Maps a Tensor ``(batch, ...)`` to a Tensor or a tuple of Tensors, e.g. a module
        in eval mode or one of its methods.
    device : str or torch.device, default="cpu"
        Torch device the batch is moved to.

    Returns
    -------
    apply : callable
        ``apply(batch ndarray) -> ndarray or tuple of ndarray``: ``forward`` run without
        gradients, its outputs copied back to the CPU.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sksep.inference import module_function
    >>> apply = module_function(torch.nn.Identity())
    >>> apply(np.ones((2, 3), dtype=np.float32)).shape
    (2, 3)
    """
    # Imported here, not at the top: the numpy stitching of this module runs without
    # torch, so `import sksep.inference` does not load it.
    import torch

    from ._device import check_device  # imports torch: deferred with it (see above)

    if not callable(forward):
        raise TypeError(f"forward must be a torch module or function; got "
                        f"{type(forward).__name__}")
    device = check_device(device)

    def apply(batch):
        with torch.no_grad():
            output = forward(torch.from_numpy(batch).to(device))
        if isinstance(output, (tuple, list)):
            return tuple(tensor.detach().cpu().numpy() for tensor in output)
        return output.detach().cpu().numpy()

    return apply


def _check_features(features):
    """``features``, a clip's ``(n_frames, n_features)`` array, as the runners read it."""
    if not isinstance(features, np.ndarray) or features.ndim != 2 or features.shape[0] == 0:
        shape = getattr(features, "shape", None)
        raise ValueError(f"features must be an ndarray of shape (n_frames, n_features) with "
                         f"at least one frame; got {type(features).__name__}"
                         + (f" of shape {shape}" if shape is not None else ""))
    return features


def segmentwise(module, features, segment_frames, *, device="cpu", batch_size=16,
                reduce=None):
    """Run ``module`` on fixed-length segments of one clip and join the outputs.

    The segments tile the clip, the last one aligned to its end
    (:func:`segment_starts`); each frame's output is the one of the last segment that
    covers it. Segments go through the module ``batch_size`` at a time. This is how the
    recurrent separators (deep clustering, Chimera, class-conditional) predict.

    Parameters
    ----------
    module : torch.nn.Module
        Maps ``(batch, L, n_features)`` to a tensor or tuple of tensors whose
        time axis is given by ``reduce``; put in eval mode.
    features : ndarray of shape (n_frames, n_features)
        One clip's features, float32 as the module reads them.
    segment_frames : int
        ``L``; the last segment is aligned to the end of the clip, and a clip shorter
        than ``L`` is one segment of its own length.
    device : str or torch.device, default="cpu"
    batch_size : int, default=16
        Segments per forward pass.
    reduce : callable, optional
        ``reduce(outputs) -> list of (tensor, time_axis)`` picking what to keep
        from the module's output (e.g. only the masks of a long song), ``time_axis``
        counting the batch axis. ``None``: the output is one tensor
        ``(batch, C, L, n_bins)``.

    Returns
    -------
    outputs : tuple of ndarray
        Each with ``n_frames`` along its time axis (``time_axis - 1``: no batch axis).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sksep.inference import segmentwise
    >>> class TwoMasks(torch.nn.Module):   # (batch, L, F) -> (batch, 2, L, F)
    ...     def forward(self, x):
    ...         return torch.stack([torch.sigmoid(x), 1 - torch.sigmoid(x)], dim=1)
    >>> (masks,) = segmentwise(TwoMasks(), np.zeros((250, 4), np.float32), 100)
    >>> masks.shape
    (2, 250, 4)
    """
    features = _check_features(features)
    segment_frames = check_int(segment_frames, name="segment_frames", minimum=1)
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    reduce = reduce or (lambda output: [(output, 2)])
    n_frames = features.shape[0]
    length = min(segment_frames, n_frames)
    time_axes = []

    def forward(batch):
        kept = reduce(module(batch))
        time_axes[:] = [axis for _, axis in kept]
        return tuple(tensor.movedim(axis, 1) for tensor, axis in kept)

    apply = module_function(forward, device=device)
    module.eval()
    joined = overlap_add(apply, features,
                         [(start, start + length) for start in segment_starts(n_frames, length)],
                         batch_size=batch_size)
    return tuple(np.moveaxis(output, 0, axis - 1) for output, axis in zip(joined, time_axes))


def patchwise(module, features, patch_frames, *, hop, device="cpu", batch_size=16,
              reduce=None):
    """Run ``module`` on overlapping patches of one clip and cross-fade them together.

    :func:`overlap_add` over patches that start every ``hop`` frames (the last one
    aligned to the end of the clip), weighted by :func:`crossfade_window` and
    normalised by the sum of the weights, so there are no seams and the result covers
    exactly the clip's frames. This is how :class:`~sksep.UNetSeparator` predicts.

    Parameters
    ----------
    module : torch.nn.Module
        Maps ``(batch, L, n_features)`` to masks ``(batch, C, L, n_bins)`` (or to a tuple
        that ``reduce`` turns into them); put in eval mode.
    features : ndarray of shape (n_frames, n_features)
        One clip's features, float32 as the module reads them.
    patch_frames : int
        ``L``; clips shorter than that are one patch of their own length.
    hop : int
        Frames between patch starts (``L // 2``: each frame is seen by two patches).
    device : str or torch.device, default="cpu"
    batch_size : int, default=16
        Patches per forward pass.
    reduce : callable, optional
        ``reduce(module_output) -> Tensor (batch, C, L, n_bins)``.

    Returns
    -------
    outputs : ndarray of float32, shape (C, n_frames, n_bins)
        The weighted mean over the patches covering each frame; exactly ``n_frames``
        frames.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sksep.inference import patchwise
    >>> class Halves(torch.nn.Module):   # (batch, L, F) -> (batch, 2, L, F)
    ...     def forward(self, x):
    ...         return torch.full((x.shape[0], 2) + x.shape[1:], 0.5)
    >>> masks = patchwise(Halves(), np.zeros((300, 4), np.float32), 128, hop=64)
    >>> masks.shape, bool(np.allclose(masks, 0.5))
    ((2, 300, 4), True)
    """
    features = _check_features(features)
    patch_frames = check_int(patch_frames, name="patch_frames", minimum=1)
    hop = check_int(hop, name="hop", minimum=1)
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    n_frames = features.shape[0]
    length = min(patch_frames, n_frames)
    window = crossfade_window(length)
    forward = module if reduce is None else (lambda batch: reduce(module(batch)))
    apply = module_function(forward, device=device)
    module.eval()
    return overlap_add(apply, features,
                       [(start, start + length) for start in segment_starts(n_frames, length, hop)],
                       output_axis=1, weights=lambda index: window, batch_size=batch_size)


def framewise(module, features, chunk_frames, *, device="cpu"):
    """Run a context-window network on a whole clip, every frame with its true context.

    The clip is extended once at its ends (by repeating the end frames, as in training)
    and cut into chunks that carry ``c = module.context`` real frames of context on each
    side (:func:`overlap_add` with ``context=c``), so the result does not depend on
    ``chunk_frames``: no seams. This is how :class:`~sksep.ConvMaskSeparator` predicts.

    Parameters
    ----------
    module : sksep.nn.context_cnn.ContextCNN
        Or any module with an integer ``context`` and a ``forward_padded`` method
        mapping ``(batch, L + 2c, n_features)`` to ``(batch, C, L, n_bins)``; put in
        eval mode.
    features : ndarray of shape (n_frames, n_features)
        One clip's features, float32 as the module reads them.
    chunk_frames : int
        Frames per forward pass (bounds memory).
    device : str or torch.device, default="cpu"

    Returns
    -------
    outputs : ndarray of shape (n_sources, n_frames, n_bins)

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sksep.inference import framewise
    >>> class Neighbours(torch.nn.Module):   # each frame: the mean of it and its neighbours
    ...     context = 1
    ...     def forward_padded(self, x):
    ...         return ((x[:, :-2] + x[:, 1:-1] + x[:, 2:]) / 3)[:, None]
    >>> features = np.arange(10, dtype=np.float32)[:, None]
    >>> framewise(Neighbours(), features, 4)[0, :3, 0]   # the first frame is repeated
    array([0.33333334, 1.        , 2.        ], dtype=float32)
    """
    features = _check_features(features)
    chunk_frames = check_int(chunk_frames, name="chunk_frames", minimum=1)
    if not callable(getattr(module, "forward_padded", None)):
        raise TypeError(f"module must have a forward_padded method and a context (e.g. a "
                        f"ContextCNN); got {type(module).__name__}")
    n_frames = features.shape[0]
    chunks = [(start, min(start + chunk_frames, n_frames))
              for start in range(0, n_frames, chunk_frames)]
    apply = module_function(module.forward_padded, device=device)
    module.eval()
    return overlap_add(apply, features, chunks, context=module.context, output_axis=1)


class _Held:
    """The weighted sums (and total weights) of the frames :func:`overlap_add_stream` has
    not yielded yet: one array per output of ``apply``, from the first such frame on."""

    def __init__(self, piece, weight, output_axis, normalize):
        self.axes = [_output_axis(output_axis, p) for p in piece]
        self.dtypes = [p.dtype for p in piece]
        self.sums = [np.zeros(p.shape[:a] + (0,) + p.shape[a + 1:],
                              dtype=p.dtype if weight is None
                              else np.result_type(p.dtype, weight.dtype))
                     for p, a in zip(piece, self.axes)]
        self.totals = (np.zeros(0, dtype=weight.dtype)
                       if weight is not None and normalize else None)

    def check(self, piece, start, stop, output_axis):
        for p, a in zip(piece, self.axes):
            if p.shape[a] != stop - start:
                raise ValueError(f"apply returned {p.shape[a]} frames along "
                                 f"output_axis={output_axis} for the segment ({start}, "
                                 f"{stop}); expected {stop - start}")

    def after(self, previous, start):
        """The previous segment's piece from frame ``start`` on."""
        previous_start, previous_piece = previous
        return tuple(p[_along(a, start - previous_start, None)]
                     for p, a in zip(previous_piece, self.axes))

    def add(self, piece, weight, start, stop):
        """Add ``piece`` (times ``weight``) at held frames ``[start, stop)``; without
        weights, put it there."""
        grow = stop - self.sums[0].shape[self.axes[0]]
        if grow > 0:  # room for the new frames, zero before anything is added
            self.sums = [np.concatenate([s, np.zeros(s.shape[:a] + (grow,) + s.shape[a + 1:],
                                                     dtype=s.dtype)], axis=a)
                         for s, a in zip(self.sums, self.axes)]
            if self.totals is not None:
                self.totals = np.concatenate([self.totals, np.zeros(grow, self.totals.dtype)])
        for s, p, a in zip(self.sums, piece, self.axes):
            if weight is None:
                s[_along(a, start, stop)] = p
            else:
                s[_along(a, start, stop)] += p * _on_axis(weight, a, p.ndim)
        if self.totals is not None:
            self.totals[start:stop] += weight

    def pop(self, count):
        """The first ``count`` held frames, finished: normalised, in ``apply``'s dtypes."""
        stretch = [s[_along(a, 0, count)] for s, a in zip(self.sums, self.axes)]
        if self.totals is not None:
            if not np.all(self.totals[:count] > 0):
                raise ValueError("weights sum to 0 at some frames; expected a positive total "
                                 "weight at every frame (or normalize=False)")
            stretch = [s / _on_axis(self.totals[:count], a, s.ndim)
                       for s, a in zip(stretch, self.axes)]
            self.totals = self.totals[count:].copy()
        # Copies: the frames still held must not keep the yielded ones alive.
        self.sums = [s[_along(a, count, None)].copy() for s, a in zip(self.sums, self.axes)]
        return tuple(s.astype(dtype, copy=False) for s, dtype in zip(stretch, self.dtypes))
