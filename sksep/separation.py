"""Separating whole songs: long clips in overlapping blocks, and audio files.

A separator's ``predict`` holds a whole clip's spectrogram, masks and
resynthesised sources in memory at once. :func:`separate_long` bounds that
memory by separating a long clip in overlapping blocks (60 s by default) and
cross-fading neighbouring blocks. :func:`separate_audio` does the same for audio
at any rate and channel count, at full band: the network analyses the mid signal
at its own rate, and its masks are applied to the STFT of every channel at the
song's own rate, so stems keep the whole band, the stereo
image, and sum to the song. :func:`separate_file` reads a file and separates it
that way. :func:`separate_to_files` does the same from a file to one file per stem,
as ``sksep separate`` writes them, reading the song and writing the stems block by
block, so that its memory does not grow with the song's length.

How blocks are stitched
-----------------------
Block starts fall on multiples of the model's inference segment
(``hop_length * inference_frames_`` samples, 0.8 s for the defaults; one STFT
hop for models without segments), so a block sees the same STFT frames and the
same network segments as a whole-clip ``predict``. Its output then differs
from the whole-clip output only near its two ends, where the STFT pads and the
recurrent network lacks context. Consecutive blocks overlap by at least
``overlap_seconds``; in the middle of each overlap the earlier block fades out
and the later one fades in over ``overlap_seconds`` with complementary
raised-cosine weights ``w`` and ``1 - w``. Every sample therefore gets weights
summing to one: away from the fades the output is exactly one block's output,
and when a model's masks sum to one the stitched estimates still sum to the
mixture.

Every path goes through one stitching loop (:func:`sksep.inference.overlap_add_stream`),
which hands back each stretch of the stems as soon as the next block can no longer
change it: the in-memory functions collect the stretches, :func:`separate_to_files`
writes them out.
"""

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from ._fullband import HIGH_BAND_RULES, MAX_WIENER_ITERATIONS, separate_full_band, song_grid
from .inference import overlap_add, overlap_add_stream
from ._validation import check_audio, check_choice, check_int, check_n_jobs, check_real
from .audio_io import AudioReader, AudioWriter, load_audio
from .exceptions import InvalidInputError, InvalidParameterTypeError
from .separators._pipeline import final_step, outputs_unordered

__all__ = ["StemFile", "block_layout", "separate_audio", "separate_file", "separate_long",
           "separate_to_files"]


def model_grid(estimator):
    """The feature grid a fitted separator (or Pipeline ending in one) works on.

    Parameters
    ----------
    estimator : fitted separator or Pipeline ending in one

    Returns
    -------
    FeatureGrid

    Raises
    ------
    sksep.exceptions.InvalidInputError
        ``estimator`` is not a fitted separator.
    """
    grid = getattr(final_step(estimator), "grid_", None)
    if grid is None:
        raise InvalidInputError(
            f"estimator={type(estimator).__name__} is not fitted (it has no grid_); fit it or "
            f"load a model with sksep.load"
        )
    return grid


def _raised_cosine(length):
    """Fade-in weights in (0, 1), ``(length,)`` float64; ``1 - w`` is the matching fade-out."""
    return 0.5 - 0.5 * np.cos(np.pi * (np.arange(length) + 0.5) / length)


def block_layout(n_samples, *, block_samples, overlap_samples, alignment):
    """Where the blocks of a long clip start and end, and where they cross-fade.

    Parameters
    ----------
    n_samples : int
        Length of the clip.
    block_samples : int
        Nominal block length; the last block is between one and two ``alignment``
        units longer at most, so that it ends with the clip.
    overlap_samples : int
        Shortest overlap of consecutive blocks, and the length of each cross-fade.
    alignment : int
        Block starts are multiples of this (the model's inference segment).

    Returns
    -------
    blocks : list of (start, stop)
        Half-open sample ranges covering ``[0, n_samples)``; consecutive ones overlap.
    fades : list of (start, stop)
        One per junction ``j`` between block ``j`` and ``j + 1``: the samples where
        block ``j`` fades out and block ``j + 1`` fades in. Fades lie inside the
        overlap of their two blocks and never overlap one another, so at most two
        blocks contribute to any sample.

    Examples
    --------
    >>> from sksep.separation import block_layout
    >>> blocks, fades = block_layout(100_000, block_samples=40_000, overlap_samples=8_000,
    ...                              alignment=12_800)
    >>> blocks
    [(0, 40000), (25600, 65600), (51200, 100000)]
    >>> fades
    [(28800, 36800), (54400, 62400)]
    """
    if n_samples <= block_samples:
        return [(0, n_samples)], []
    hop = block_samples - overlap_samples
    hop -= hop % alignment
    starts = list(range(0, n_samples - block_samples, hop))  # blocks that end before the clip
    final = (n_samples - block_samples) // alignment * alignment
    if final > starts[-1]:
        starts.append(final)
    stops = [start + block_samples for start in starts[:-1]] + [n_samples]
    blocks = list(zip(starts, stops))

    # Junction j sits in the middle of the overlap of blocks j and j + 1.
    centres = [(starts[j + 1] + stops[j]) // 2 for j in range(len(blocks) - 1)]
    fades = []
    for j, centre in enumerate(centres):
        half = min(overlap_samples // 2, (stops[j] - starts[j + 1]) // 2)
        if j > 0:
            half = min(half, (centre - centres[j - 1]) // 2)
        if j + 1 < len(centres):
            half = min(half, (centres[j + 1] - centre) // 2)
        fades.append((centre - half, centre + half))
    return blocks, fades


def _checked_layout(n_samples, block, overlap, alignment, shortest, rate, block_seconds,
                    overlap_seconds):
    """:func:`block_layout` of a clip longer than one block, after checking that the
    blocks are long enough for the model (``shortest`` samples, one ``alignment`` hop
    beyond the overlap); one block for a clip that fits in one."""
    if n_samples <= block:
        return [(0, n_samples)], []
    if block - overlap < alignment or block < shortest:
        raise InvalidInputError(
            f"block_seconds={block_seconds} with overlap_seconds={overlap_seconds} leaves "
            f"blocks too short for this model; use blocks of at least "
            f"{max(shortest, overlap + alignment) / rate:.2f} s"
        )
    return block_layout(n_samples, block_samples=block, overlap_samples=overlap,
                        alignment=alignment)


def _block_weights(index, blocks, fades):
    """Weights ``(stop - start,)`` of block ``index`` over its own samples."""
    start, stop = blocks[index]
    weights = np.ones(stop - start)
    if index > 0:  # fade in
        fade_start, fade_stop = fades[index - 1]
        weights[:fade_start - start] = 0.0
        weights[fade_start - start:fade_stop - start] = _raised_cosine(fade_stop - fade_start)
    if index < len(fades):  # fade out
        fade_start, fade_stop = fades[index]
        weights[fade_start - start:fade_stop - start] *= \
            1.0 - _raised_cosine(fade_stop - fade_start)
        weights[fade_stop - start:] = 0.0
    return weights


def _matching_order(previous_tail, piece):
    """Order of ``piece``'s sources that best matches the previous block over their overlap.

    ``previous_tail`` is ``(n_sources, n_overlap)``, the previous block's estimates over the
    samples both blocks cover; the order minimising the summed squared difference there is
    found by the Hungarian algorithm.
    """
    head = piece[:, :previous_tail.shape[1]].astype(np.float64)
    tail = previous_tail.astype(np.float64)
    cost = ((tail[:, None, :] - head[None, :, :]) ** 2).sum(axis=-1)
    rows, columns = linear_sum_assignment(cost)
    return columns[np.argsort(rows)]


def _progress_bar(total, description, enabled):
    """A tqdm bar when asked for and tqdm is installed (optional dependency), else None."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm  # optional dependency (sksep[progress])
    except ImportError:
        return None
    return tqdm(total=total, desc=description, unit="block", leave=False)


def separate_long(estimator, audio, *, block_seconds=60.0, overlap_seconds=4.0,
                  progress=False):
    """Separate one mono clip of any length in overlapping blocks.

    Memory is bounded by the block length (plus the input and output arrays)
    however long the clip: each block goes through ``estimator.predict([block])``
    and is cross-faded into the output (see the module docstring).

    Parameters
    ----------
    estimator : fitted separator (or Pipeline ending in one)
        Reads mono waveforms at its sample rate, ``estimator.grid_.sample_rate``.
    audio : ndarray of shape (n_samples,)
        Mono float audio at the model's sample rate.
    block_seconds : float, default=60.0
        Block length in seconds. A clip not longer than one block is separated
        in one piece, and the result is exactly ``estimator.predict([audio])[0]``.
    overlap_seconds : float, default=4.0
        Shortest overlap of consecutive blocks and length of each cross-fade, in
        seconds; values above half of ``block_seconds`` are shortened to that.
        Overlaps may come out longer, because block starts are aligned to the
        model's inference segments.
    progress : bool, default=False
        Show a progress bar over blocks (needs ``tqdm``; without it no bar is
        shown).

    Returns
    -------
    estimates : ndarray of float32, shape (n_sources, n_samples)
        Exactly as long as ``audio``. Equal to the whole-clip prediction away
        from the cross-fades (to float precision for mask-inference models whose
        features read the level as it is; with level-normalised features each block
        is brought to the reference level on its own, as a clip of its own would
        be, and a deep-clustering head clusters each block on its own). Where the masks
        sum to one, the estimates sum to ``audio``. For separators whose output
        order is arbitrary (``permutation_invariant_``), each block's sources are
        reordered to match the previous block over their overlap.

    Raises
    ------
    sksep.exceptions.InvalidInputError
        Non-finite or badly shaped audio, or blocks too short for the model.

    See Also
    --------
    separate_audio : Separate audio at any rate and channel count, at full band.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import ChimeraSeparator
    >>> from sksep.separation import separate_long
    >>> from sksep.datasets import load_mir1k
    >>> data = load_mir1k("../shared/data/MIR-1K", "train", max_clips=2)
    >>> model = ChimeraSeparator(hidden_size=8, num_layers=1, max_epochs=1,
    ...                          random_state=0).fit(data.X, data.Y)
    >>> song = np.concatenate(data.X)          # 23 s
    >>> estimates = separate_long(model, song, block_seconds=10, overlap_seconds=2)
    >>> estimates.shape == (2, len(song))
    True
    >>> bool(np.allclose(estimates.sum(axis=0), song, atol=1e-4))
    True
    """
    grid = model_grid(estimator)
    audio = check_audio(audio, name="audio", min_samples=grid.n_fft)
    block_seconds = check_real(block_seconds, name="block_seconds", minimum=0.0,
                               exclusive_minimum=True)
    overlap_seconds = check_real(overlap_seconds, name="overlap_seconds", minimum=0.0)
    check_choice(progress, name="progress", choices=(True, False))
    overlap_seconds = min(overlap_seconds, block_seconds / 2)
    rate = grid.sample_rate
    block = round(block_seconds * rate)
    overlap = round(overlap_seconds * rate)
    if len(audio) <= block:
        return np.asarray(estimator.predict([audio])[0], dtype=np.float32)

    segment = grid.hop_length * int(getattr(final_step(estimator), "inference_frames_", 1))
    # Aligning starts to the network's segments makes blocks match the whole-clip
    # prediction; for blocks too short for that, align to the STFT hop at least.
    alignment = segment if block - overlap >= segment else grid.hop_length
    blocks, fades = _checked_layout(len(audio), block, overlap, alignment, 4 * grid.n_fft,
                                    rate, block_seconds, overlap_seconds)

    return _stitch(lambda piece: estimator.predict([piece])[0], audio, blocks, fades,
                   unnamed=outputs_unordered(estimator), progress=progress)


def _stitching(separate_block, blocks, fades, *, unnamed, bar, workers):
    """The settings of the one inference loop that stitch blocks of a song.

    ``separate_block(audio[..., start:stop])`` returns ``(n_sources, ..., stop - start)``;
    each block's output is weighted by :func:`_block_weights` (weights summing to one)
    and, for unnamed sources, reordered to match the previous block. ``workers`` is
    ``(map, n)`` from :func:`_block_workers`: ``n`` blocks are read and separated at
    once. Returns the keyword arguments of :func:`sksep.inference.overlap_add` and
    :func:`~sksep.inference.overlap_add_stream` other than the input.
    """
    mapped, n_jobs = workers
    return dict(
        apply=lambda batch: np.stack([np.asarray(stems, dtype=np.float32)
                                      for stems in mapped(separate_block, batch)]),
        segments=blocks, output_axis=-1, batch_size=n_jobs,
        weights=lambda index: _block_weights(index, blocks, fades).astype(np.float32),
        normalize=False, reorder=_match_previous_block if unnamed else None,
        progress=None if bar is None else bar.update)


@contextlib.contextmanager
def _block_workers(n_jobs):
    """``(map, n)``: how the blocks of a song are separated, ``n`` at a time.

    One job maps in order in this thread. More run the blocks of a batch in ``n`` threads
    (the network and the FFTs release the GIL) with one torch thread each, so that the
    threads do not compete for cores inside every operation; torch's thread count is
    restored afterwards.
    """
    n_jobs = _effective_jobs(n_jobs)
    if n_jobs == 1:
        yield map, 1
        return
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with ThreadPoolExecutor(n_jobs, thread_name_prefix="sksep-block",
                                initializer=torch.set_num_threads, initargs=(1,)) as pool:
            yield pool.map, n_jobs
    finally:
        torch.set_num_threads(threads)


def _effective_jobs(n_jobs):
    """``n_jobs`` as a count: None is 1, -1 every core, -2 all but one, ..."""
    if n_jobs is None:
        return 1
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return n_jobs


@contextlib.contextmanager
def _block_progress(blocks, progress):
    bar = _progress_bar(len(blocks), "separating", progress)
    try:
        yield bar
    finally:
        if bar is not None:
            bar.close()


def _stitch(separate_block, audio, blocks, fades, *, unnamed, progress, n_jobs=None):
    """Separate ``audio (..., n_samples)`` block by block and cross-fade the pieces:
    ``(n_sources, ..., n_samples)`` float32 (see :func:`_stitching`)."""
    with _block_progress(blocks, progress) as bar, _block_workers(n_jobs) as workers:
        return overlap_add(signal=audio, axis=-1, **_stitching(
            separate_block, blocks, fades, unnamed=unnamed, bar=bar, workers=workers))


def _stitched_stretches(separate_block, read, n_samples, blocks, fades, *, unnamed,
                        progress, n_jobs=None):
    """:func:`_stitch` over a song read block by block with ``read(start, stop)``:
    yields ``(start, stop, stems)``, consecutive finished stretches of the result,
    ``stems`` ``(n_sources, ..., stop - start)`` float32."""
    with _block_progress(blocks, progress) as bar, _block_workers(n_jobs) as workers:
        yield from overlap_add_stream(read=read, n_frames=n_samples, **_stitching(
            separate_block, blocks, fades, unnamed=unnamed, bar=bar, workers=workers))


def _match_previous_block(previous_tail, piece):
    """``piece (n_sources, ..., n)`` with its sources in the order that best matches the
    previous block's estimates over their overlap, ``previous_tail``."""
    order = _matching_order(
        previous_tail.reshape(len(previous_tail), -1, previous_tail.shape[-1]).mean(1),
        piece.reshape(len(piece), -1, piece.shape[-1]).mean(1))
    return piece[order]


def separate_audio(estimator, audio, sample_rate, *, block_seconds=60.0, overlap_seconds=4.0,
                   high_band="top", wiener_iterations=0, n_jobs=None, progress=False):
    """Separate audio at its own sample rate and channel count, at full band.

    Each block of the song (cross-faded as in :func:`separate_long`) is analysed
    once: the mean of its channels is resampled to the model's rate and goes
    through the network; the masks are mapped onto the STFT of every channel at
    ``sample_rate`` (mel bands in Hz,
    linear interpolation in time, ``high_band`` above the model's Nyquist
    frequency) and inverted with each channel's phase. All channels share one set
    of masks, so each stem keeps the song's stereo image; the stems keep the whole
    band, and where the masks sum to one they sum to the song.

    Parameters
    ----------
    estimator : fitted separator (or Pipeline ending in one)
    audio : ndarray of shape (n_channels, n_samples) or (n_samples,)
        Float audio at ``sample_rate``.
    sample_rate : int
        Hz, at least 1000.
    block_seconds, overlap_seconds, progress
        As in :func:`separate_long`.
    high_band : {"top", "octave"}, default="top"
        Masks above the model's Nyquist frequency: the top band's (as spleeter does
        above its 11 kHz), or the mean of the model's top octave. Measured on the
        MUSDB excerpts (``benchmarks/bench_fullband.py``) the two are within 0.05 dB.
    wiener_iterations : int, default=0
        EM iterations (0 to 10) of the multichannel Wiener post-filter applied to
        each block's masked stems (a multichannel Wiener filter); 0
        keeps the masked stems. With it the stems sum to the song to about 1e-3.
    n_jobs : int, default=None
        Blocks separated at once, each in a thread of its own with one torch thread
        (``None``: 1, one block at a time with torch's threads; ``-1``: one per core).
        The stems are the same (to float rounding); memory grows with the blocks in
        flight. A song of one block gains nothing. Measured on a 2-core CPU, two
        blocks at once were slower than one block on two torch threads (0.91x,
        ``benchmarks/bench_block_jobs.py``): the network's share of the time is too
        small there; try it where many cores sit idle.

    Returns
    -------
    stems : ndarray of float32, shape (n_sources, n_channels, n_samples)
        ``(n_sources, n_samples)`` for 1-D ``audio``. At ``sample_rate``, as long as
        ``audio``.

    Raises
    ------
    sksep.exceptions.InvalidInputError
        Badly shaped or non-finite audio, a bad rate, or audio shorter than one of
        the model's STFT windows.

    See Also
    --------
    separate_file : the same for an audio file.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import ChimeraSeparator
    >>> from sksep.datasets import load_mir1k
    >>> from sksep.separation import separate_audio
    >>> data = load_mir1k("../shared/data/MIR-1K", "train", max_clips=2)
    >>> model = ChimeraSeparator(hidden_size=8, num_layers=1, max_epochs=1,
    ...                          random_state=0).fit(data.X, data.Y)
    >>> stereo_44k = np.random.default_rng(0).uniform(-0.1, 0.1, (2, 44100)).astype("float32")
    >>> stems = separate_audio(model, stereo_44k, 44100)
    >>> stems.shape, bool(np.allclose(stems.sum(axis=0), stereo_44k, atol=1e-5))
    ((2, 2, 44100), True)
    """
    grid = model_grid(estimator)
    sample_rate = check_int(sample_rate, name="sample_rate", minimum=1000)
    mono = np.ndim(audio) == 1
    audio = check_audio(np.asarray(audio)[None] if mono else audio, name="audio", ndim=2,
                        min_samples=_shortest_song(grid, sample_rate))
    options = _song_options(block_seconds, overlap_seconds, high_band, wiener_iterations,
                            progress, n_jobs)
    blocks, fades = _song_layout(grid, audio.shape[1], sample_rate, options)
    stems = _stitch(_block_separator(estimator, grid, sample_rate, options), audio, blocks,
                    fades, unnamed=outputs_unordered(estimator), progress=options.progress,
                    n_jobs=options.n_jobs)
    return stems[:, 0] if mono else stems


class _SongOptions(NamedTuple):
    """The checked options of a song's separation (see :func:`separate_audio`)."""

    block_seconds: float
    overlap_seconds: float
    high_band: str
    wiener_iterations: int
    progress: bool
    n_jobs: int = None


def _song_options(block_seconds, overlap_seconds, high_band, wiener_iterations, progress,
                  n_jobs=None):
    """Check the options :func:`separate_audio` and :func:`separate_to_files` share."""
    block_seconds = check_real(block_seconds, name="block_seconds", minimum=0.0,
                               exclusive_minimum=True)
    overlap_seconds = min(check_real(overlap_seconds, name="overlap_seconds", minimum=0.0),
                          block_seconds / 2)
    check_choice(high_band, name="high_band", choices=HIGH_BAND_RULES)
    wiener_iterations = check_int(wiener_iterations, name="wiener_iterations", minimum=0,
                                  maximum=MAX_WIENER_ITERATIONS)
    check_choice(progress, name="progress", choices=(True, False))
    return _SongOptions(block_seconds, overlap_seconds, high_band, wiener_iterations,
                        bool(progress), check_n_jobs(n_jobs))


def _shortest_song(grid, sample_rate):
    """Fewest samples at ``sample_rate`` to separate: one of the model's STFT windows."""
    return int(np.ceil(grid.n_fft * sample_rate / grid.sample_rate))


def _song_layout(grid, n_samples, sample_rate, options):
    """Blocks and fades of a song of ``n_samples`` at ``sample_rate``, aligned to the STFT
    hop of the song's grid (:func:`block_layout`)."""
    return _checked_layout(
        n_samples, round(options.block_seconds * sample_rate),
        round(options.overlap_seconds * sample_rate), song_grid(grid, sample_rate).hop_length,
        int(np.ceil(4 * grid.n_fft * sample_rate / grid.sample_rate)), sample_rate,
        options.block_seconds, options.overlap_seconds)


def _block_separator(estimator, grid, sample_rate, options):
    """``block (n_channels, n) -> stems (n_sources, n_channels, n)``, at full band."""
    return lambda block: separate_full_band(estimator, grid, block, sample_rate,
                                            high_band=options.high_band,
                                            wiener_iterations=options.wiener_iterations)


def separate_file(estimator, path, *, source_names=None, block_seconds=60.0,
                  overlap_seconds=4.0, high_band="top", wiener_iterations=0, n_jobs=None,
                  progress=False):
    """Separate an audio file at its own sample rate and channel count.

    The file is read with :func:`sksep.audio_io.load_audio` (WAV, FLAC, OGG,
    MP3; M4A/MP4/AAC through ``ffmpeg``) and separated by
    :func:`separate_audio`: the network hears the mid signal at its own rate once,
    and its masks are applied to every channel at the file's rate, so the stems are
    full-band, keep the stereo image and sum to the song.

    Parameters
    ----------
    estimator : fitted separator (or Pipeline ending in one)
    path : str or os.PathLike
        The audio file.
    source_names : sequence of str, optional
        One name per source, only checked against the model's number of sources
        (the caller uses them to name the stems).
    block_seconds, overlap_seconds, high_band, wiener_iterations, n_jobs, progress
        As in :func:`separate_audio`.

    Returns
    -------
    estimates : ndarray of float32, shape (n_sources, n_channels, n_samples)
        At the file's sample rate, as long as the file.
    sample_rate : int
        The file's sample rate in Hz.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    sksep.exceptions.InvalidInputError
        Not a readable audio file, or too short to separate.
    sksep.exceptions.MissingProgramError
        An M4A/MP4/AAC file and no ``ffmpeg`` on ``PATH``.

    See Also
    --------
    separate_audio : Separate an array at its own rate and channel count.
    separate_to_files : The same stems written to files, in memory that does not grow
        with the song.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sksep import ChimeraSeparator
    >>> from sksep.audio_io import save_audio
    >>> from sksep.datasets import load_mir1k
    >>> from sksep.separation import separate_file
    >>> data = load_mir1k("../shared/data/MIR-1K", "train", max_clips=2)
    >>> model = ChimeraSeparator(hidden_size=8, num_layers=1, max_epochs=1,
    ...                          random_state=0).fit(data.X, data.Y)
    >>> stereo_44k = np.random.default_rng(0).uniform(-0.1, 0.1, (2, 44100)).astype("float32")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     song = save_audio(Path(folder) / "song.wav", stereo_44k, 44100)
    ...     estimates, rate = separate_file(model, song)
    >>> estimates.shape, rate          # (n_sources, n_channels, n_samples) at the file's rate
    ((2, 2, 44100), 44100)
    """
    grid = model_grid(estimator)
    audio, file_rate = load_audio(path, mono=False)
    _check_song_length(path, audio.shape[1], file_rate, grid)
    _check_source_names(estimator, source_names)
    estimates = separate_audio(estimator, audio, file_rate, block_seconds=block_seconds,
                               overlap_seconds=overlap_seconds, high_band=high_band,
                               wiener_iterations=wiener_iterations, n_jobs=n_jobs,
                               progress=progress)
    return estimates, file_rate


def _check_song_length(path, n_samples, sample_rate, grid):
    """Refuse a file too short to separate (shorter than one of the model's windows)."""
    shortest = _shortest_song(grid, sample_rate)
    if n_samples < shortest:
        raise InvalidInputError(
            f"{str(path)!r} holds {n_samples} samples ({n_samples / sample_rate:.3f} s); "
            f"expected at least {shortest} (one {grid.n_fft}-sample STFT window at "
            f"{grid.sample_rate} Hz) to separate"
        )


def _check_source_names(estimator, source_names):
    """``source_names`` as a tuple, checked against the model's number of sources; the
    separator's own ``source_names_`` when None (None if it has none)."""
    n_sources = getattr(final_step(estimator), "n_sources_", None)
    if source_names is None:
        names = getattr(final_step(estimator), "source_names_", None)
        return tuple(names) if names is not None else None
    if isinstance(source_names, str) or not all(isinstance(n, str) for n in source_names):
        raise InvalidParameterTypeError(
            f"source_names={source_names!r} must be a sequence of str, one per source")
    if n_sources is not None and len(source_names) != n_sources:
        raise InvalidInputError(
            f"source_names={list(source_names)!r} names {len(source_names)} sources; "
            f"the model separates {n_sources}"
        )
    return tuple(source_names)


def _stem_targets(stem_paths, names, n_sources):
    """``{key: (source index, path)}`` for ``stem_paths``, keyed by source name or index."""
    if not isinstance(stem_paths, Mapping) or not stem_paths:
        raise InvalidParameterTypeError(
            f"stem_paths={stem_paths!r} must be a non-empty mapping of source (name or "
            f"index) to output file path, e.g. {{'vocals': 'out/vocals.wav'}}")
    targets, seen = {}, {}
    for key, path in stem_paths.items():
        if isinstance(key, str) and names is not None and key in names:
            index = names.index(key)
        elif isinstance(key, (int, np.integer)) and not isinstance(key, bool) and (
                n_sources is None or 0 <= key < n_sources):
            index = int(key)
        else:
            expected = [f"a source index from 0 to {n_sources - 1}"] if n_sources else []
            if names is not None:
                expected.insert(0, f"one of the model's sources {', '.join(map(repr, names))}")
            raise InvalidInputError(
                f"stem_paths key {key!r} is not a source of the model; expected "
                f"{' or '.join(expected) or 'a source index'}")
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, (str, os.PathLike)):
            raise InvalidParameterTypeError(
                f"stem_paths[{key!r}]={path!r} must be a str or os.PathLike file path")
        where = os.path.abspath(path)
        if where in seen:
            raise InvalidInputError(
                f"stem_paths[{key!r}] and stem_paths[{seen[where]!r}] are the same file "
                f"{os.fspath(path)!r}; expected one file per stem")
        if index in (i for i, _ in targets.values()):
            raise InvalidInputError(
                f"stem_paths names source {index} twice (by name and by index); expected "
                f"one file per stem")
        seen[where] = key
        targets[key] = (index, path)
    return targets


class StemFile(NamedTuple):
    """One stem written by :func:`separate_to_files`.

    Examples
    --------
    >>> from pathlib import Path
    >>> from sksep.separation import StemFile
    >>> stem = StemFile(Path("stems/song/vocals.wav"), peak=1.2, subtype="FLOAT")
    >>> stem.peak > 1, stem.subtype     # above full scale: kept as float, not clipped
    (True, 'FLOAT')
    """

    #: The file written.
    path: Path
    #: Largest absolute sample of the stem before encoding (above 1: clipped in a
    #: ``PCM_*`` file).
    peak: float
    #: The file's sample encoding, e.g. ``"PCM_16"``, ``"FLOAT"``.
    subtype: str


def separate_to_files(estimator, path, stem_paths, *, source_names=None, block_seconds=60.0,
                      overlap_seconds=4.0, high_band="top", wiener_iterations=0,
                      subtype="PCM_16", overwrite=False, n_jobs=None, progress=False):
    """Separate an audio file into one file per stem, block by block, in bounded memory.

    The stems are those :func:`separate_file` returns (the same blocks, cross-fades,
    full-band masks and source matching), but the song is read one block at a time
    (:class:`sksep.audio_io.AudioReader`) and each stretch of every stem is written
    to its file as soon as it is final (:class:`sksep.audio_io.AudioWriter`). Only
    about two blocks of audio and one block's spectra are held, so peak memory does
    not grow with the song's length (``benchmarks/results/long_audio_memory.md``). M4A, MP4
    and AAC files are first decoded whole by ``ffmpeg`` into a temporary float WAV
    file on disk (as large as the song in float32), then read the same way.

    Each stem goes to a hidden temporary file beside its target, renamed onto the
    target only once every stem is complete: on any error, Ctrl-C included, every
    temporary file is removed and existing files are left untouched.

    Parameters
    ----------
    estimator : fitted separator (or Pipeline ending in one)
    path : str or os.PathLike
        The audio file: WAV, FLAC, OGG, MP3 or another format libsndfile reads;
        M4A/MP4/AAC through ``ffmpeg``.
    stem_paths : mapping of str or int to str or os.PathLike
        The stems to write and where: keys are source names (from ``source_names``)
        or source indices, values output files whose extension (``.wav``, ``.flac``,
        ``.ogg``, ``.mp3``) picks the format (:func:`sksep.audio_io.save_audio`).
        Missing folders are created.
    source_names : sequence of str, optional
        One name per source, in the model's order. Default: the separator's
        ``source_names_``.
    block_seconds, overlap_seconds, high_band, wiener_iterations, n_jobs, progress
        As in :func:`separate_audio`: blocks of ``block_seconds`` seconds (default
        60) bound the memory, ``n_jobs`` of them in flight.
    subtype : str, None or callable, default="PCM_16"
        Sample encoding of every stem file, as in :func:`sksep.audio_io.save_audio`;
        or ``subtype(peak) -> str or None``, called for each stem once it is complete
        with its largest absolute sample, to choose an encoding by level (e.g.
        ``"FLOAT"`` for a WAV stem that peaks above full scale); the stem is then
        staged as a float WAV file and encoded at the end, one more pass on disk.
    overwrite : bool, default=False
        Replace existing files; otherwise an existing target is an error, raised
        before anything is separated.

    Returns
    -------
    written : dict
        For each key of ``stem_paths``, in its order, a :class:`StemFile`: the
        ``path`` written (:class:`pathlib.Path`), the stem's ``peak`` absolute sample
        and the file's ``subtype``. Every file holds ``(n_channels, n_samples)`` at
        the song's rate, as long as the song.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    FileExistsError
        A target exists and ``overwrite`` is False.
    sksep.exceptions.InvalidInputError
        A bad argument (the message names it), a file that is not readable audio or
        too short to separate, a target extension or subtype that cannot be written.
    sksep.exceptions.MissingProgramError
        An M4A/MP4/AAC file and no ``ffmpeg`` on ``PATH``; an MP3 target and a
        libsndfile that cannot write MP3.
    sksep.exceptions.OutputLocationError
        A target's folder is read-only, or a file stands where it must go.
    sksep.exceptions.DiskFullError
        The disk filled up; no stem was written.

    See Also
    --------
    separate_file : The same stems as arrays.
    sksep.audio_io.save_audio : Write one array atomically.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sksep import ChimeraSeparator
    >>> from sksep.audio_io import load_audio, save_audio
    >>> from sksep.datasets import load_mir1k
    >>> from sksep.separation import separate_to_files
    >>> data = load_mir1k("../shared/data/MIR-1K", "train", max_clips=2)
    >>> model = ChimeraSeparator(hidden_size=8, num_layers=1, max_epochs=1,
    ...                          random_state=0).fit(data.X, data.Y)
    >>> stereo_44k = np.random.default_rng(0).uniform(-0.1, 0.1, (2, 3 * 44100))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     song = save_audio(Path(folder) / "song.wav", stereo_44k, 44100, subtype="FLOAT")
    ...     written = separate_to_files(
    ...         model, song, {0: Path(folder) / "a.wav", 1: Path(folder) / "b.wav"},
    ...         block_seconds=1.0, overlap_seconds=0.5, subtype="FLOAT")
    ...     a, rate = load_audio(written[0].path, mono=False)
    ...     b, _ = load_audio(written[1].path, mono=False)
    >>> a.shape, rate, written[0].subtype
    ((2, 132300), 44100, 'FLOAT')
    >>> bool(np.allclose(a + b, stereo_44k, atol=1e-5))   # the stems sum to the song
    True
    """
    grid = model_grid(estimator)
    options = _song_options(block_seconds, overlap_seconds, high_band, wiener_iterations,
                            progress, n_jobs)
    check_choice(overwrite, name="overwrite", choices=(True, False))
    if not (subtype is None or isinstance(subtype, str) or callable(subtype)):
        raise InvalidParameterTypeError(
            f"subtype={subtype!r} must be a str, None or a callable subtype(peak)")
    names = _check_source_names(estimator, source_names)
    n_sources = getattr(final_step(estimator), "n_sources_", None)
    targets = _stem_targets(stem_paths, names, n_sources)

    with AudioReader(path) as reader, contextlib.ExitStack() as writers:
        _check_song_length(reader.path, reader.n_samples, reader.sample_rate, grid)
        blocks, fades = _song_layout(grid, reader.n_samples, reader.sample_rate, options)
        # Every target is opened (and checked) before the first block is separated; they
        # are committed in order once every stem is complete, and on an error the stack
        # discards every one not committed yet.
        files = {key: writers.enter_context(AudioWriter(
                     target, reader.sample_rate, reader.n_channels, overwrite=overwrite,
                     subtype=subtype))
                 for key, (_, target) in targets.items()}
        for _, _, stems in _stitched_stretches(
                _block_separator(estimator, grid, reader.sample_rate, options), reader.read,
                reader.n_samples, blocks, fades, unnamed=outputs_unordered(estimator),
                progress=options.progress, n_jobs=options.n_jobs):
            for key, (index, _) in targets.items():
                files[key].write(stems[index])
            del stems  # not held while the next block is separated
        for file in files.values():
            file.commit()
    return {key: StemFile(file.path, file.peak, file.subtype) for key, file in files.items()}
