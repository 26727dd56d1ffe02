"""Separation against the peers: sksep vs open-unmix (umxhq, umxl) and demucs (htdemucs).

Issue 18. Each program separates the same song in a process of its own, from process
start to the last stem written (decode the song, build or load the model, separate,
write the stems as WAV files):

* ``sksep`` end to end is the command line, ``sksep separate SONG`` with the shipped
  model (``chimera-mir1k``), in this virtual environment;
* ``sksep`` separation alone is timed inside a worker process (this file with
  ``--worker sksep``): ``sksep.load`` then :func:`sksep.separation.separate_audio`, the
  function the command line runs on each song;
* the peers run in workers in their own virtual environments, created here under
  ``benchmarks/_envs/`` on first use (with the local CPU wheel ``torch==2.13.0``):
  open-unmix's ``umxhq`` and ``umxl`` (one ``openunmix.model.OpenUnmix`` per target
  and ``openunmix.model.Separator`` with one Wiener iteration, as open-unmix's
  loaders build them) and demucs' ``htdemucs`` (``demucs.htdemucs.HTDemucs`` with
  the settings of the released checkpoint, through ``demucs.apply.apply_model`` with
  the defaults of demucs' ``separate`` command), each also in a 2-source variant.

The peers' weights are RANDOM: trained weights cannot be downloaded on this machine.
The network does the same arithmetic whatever its weights, so the times and the
memory compare the compute; the stems themselves are noise. The peers separate 4
stems (2 for the variants) at 44.1 kHz stereo, sksep's shipped model 2 stems
(vocals, accompaniment) with a network that hears the 16 kHz mid signal.

Each worker prints one JSON line: the seconds of each phase (imports, model, decode,
separation, writing), its own peak memory (``ru_maxrss``), the parameter count. The
parent also takes every child's wall time and peak memory (``os.wait4``). Threads:
``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` and ``torch.set_num_threads`` in every child.

Paired rounds (BENCHMARKS.md): in each round, for each peer, the sksep command line,
the sksep worker and the peer run back to back, in the reverse order every other
round. Reported per song length and thread count: the median (and range) over rounds
of the ratios peer / sksep, end to end (peer worker / sksep command line) and
separation alone, with the real-time factors, peak memory and parameter counts.

Songs: the three 29.6 s MUSDB18 excerpts' mixtures (44.1 kHz stereo) joined end to
end and repeated, cut to 30 s and 3 min, as 16-bit FLAC in ``benchmarks/_work/peers/``.

Usage::

    python benchmarks/bench_peers.py [--quick] [--rounds 5] [--threads 1 2]
        [--lengths 30 180] [--peers umxhq htdemucs ...] [--setup-only]
    python benchmarks/bench_peers.py --worker PROGRAM SONG OUT THREADS  (internal)

``--quick``: the 30 s song, 1 thread, 2 rounds. ``--setup-only``: create the virtual
environments, separate a 5 s song once with every program, and exit. The full run
takes hours on a 2-core CPU: run it when the machine is otherwise idle.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

# The workers run this file in the peers' environments: nothing but the standard library
# and _common (standard library only) is imported at the top.
from _common import BENCHMARKS, MUSDB_EXCERPTS, RESULTS, machine, machine_line, \
    ratio_summary, write_report

ENVS = BENCHMARKS / "_envs"
WORK = BENCHMARKS / "_work" / "peers"
TORCH = "torch==2.13.0"  # the local CPU wheel: an unpinned torch pulls GBs of CUDA
RATE = 44100

#: pip steps per environment (each a list of pip arguments). torch is named in every
#: step that could otherwise resolve another torch. open-unmix requires torchaudio, whose
#: releases each pin one torch (the newest, 2.11.0, pins torch 2.11, and its library
#: does not load with torch 2.13): openunmix goes in without dependencies, its others
#: beside it, and no torchaudio (see :func:`_import_openunmix`).
ENV_RECIPES = {
    "openunmix": [[TORCH, "numpy", "tqdm", "soundfile"],
                  ["--no-deps", "openunmix==1.3.0"]],
    "demucs": [[TORCH, "demucs==4.1.0", "soundfile"]],
}

#: open-unmix's pretrained configurations, as ``openunmix.umxhq_spec`` / ``umxl_spec``
#: and ``umxhq`` / ``umxl`` (openunmix 1.3.0, ``openunmix/__init__.py``) build them:
#: ``OpenUnmix(nb_bins=4096 // 2 + 1, nb_channels=2, hidden_size, max_bin)`` with
#: ``max_bin = utils.bandwidth_to_max_bin(44100, 4096, 16000)`` per target, and
#: ``Separator(niter=1, residual, n_fft=4096, n_hop=1024, nb_channels=2,
#: sample_rate=44100, wiener_win_len=300, filterbank="torch")``.
UMX_MODEL = {"nb_bins": 4096 // 2 + 1, "nb_channels": 2, "nb_layers": 3,
             "bandwidth_hz": 16000}
UMX_SEPARATOR = {"niter": 1, "n_fft": 4096, "n_hop": 1024, "nb_channels": 2,
                 "sample_rate": 44100.0, "wiener_win_len": 300, "filterbank": "torch"}
UMX_HIDDEN = {"umxhq": 512, "umxl": 1024}
UMX_TARGETS = ["vocals", "drums", "bass", "other"]

#: The constructor arguments stored in demucs' released ``htdemucs`` checkpoint
#: (signature 955717e8, trained by the ``bottom_channels=512, t_layers=5`` run of
#: demucs' ``grids/mmi.py``), where they differ from ``HTDemucs``'s defaults or matter
#: here; every other argument is the constructor's default, as in that checkpoint.
#: ``segment`` (7.8 s) is the chunk length ``apply_model`` splits songs into.
HTDEMUCS_KWARGS = {"audio_channels": 2, "samplerate": 44100, "segment": "39/5",
                   "channels": 48, "depth": 4, "nfft": 4096, "dconv_mode": 3,
                   "dconv_comp": 8, "bottom_channels": 512, "t_layers": 5, "t_heads": 8,
                   "t_dropout": 0.02, "t_sparse_attn_window": 400, "multi_freqs": []}
HTDEMUCS_SOURCES = ["drums", "bass", "other", "vocals"]
#: ``python -m demucs.separate``'s defaults (demucs 4.1.0): one random shift, split
#: into the model's segments with 25 % overlap.
DEMUCS_APPLY = {"shifts": 1, "split": True, "overlap": 0.25, "segment": None}

#: Peer name -> its environment, family and number of sources.
PEERS = {
    "umxhq": {"env": "openunmix", "family": "umx", "sources": 4},
    "umxhq-2src": {"env": "openunmix", "family": "umx", "sources": 2},
    "umxl": {"env": "openunmix", "family": "umx", "sources": 4},
    "umxl-2src": {"env": "openunmix", "family": "umx", "sources": 2},
    "htdemucs": {"env": "demucs", "family": "htdemucs", "sources": 4},
    "htdemucs-2src": {"env": "demucs", "family": "htdemucs", "sources": 2},
}

#: How each 2-source variant is built, for the report.
TWO_SOURCE_NOTE = ("umx*-2src: one OpenUnmix target ('vocals') and the Separator's "
                   "`residual=True` (accompaniment = mixture - vocals, through the same "
                   "Wiener step); htdemucs-2src: `HTDemucs(sources=['vocals', "
                   "'accompaniment'], ...)`, the same network with 2 output sources")


# -- worker (runs in any of the environments) ----------------------------------------------

def _import_openunmix():
    """``openunmix.model`` and ``openunmix.utils``, and how torchaudio was found.

    open-unmix imports torchaudio at the top of its modules but uses it only to load,
    resample and (with ``filterbank="asteroid"``) convert spectrograms, none of which
    runs here. No torchaudio release is built for torch 2.13, so none is installed and
    an empty module stands in for it (a working torchaudio, if one is there, is used).
    """
    import types

    try:
        import torchaudio  # noqa: F401
        how = "installed"
    except Exception as error:  # none, or one built for another torch
        sys.modules["torchaudio"] = types.ModuleType("torchaudio")
        how = f"empty stand-in ({type(error).__name__})"
    from openunmix import model, utils
    return model, utils, how


def _build_umx(name, n_sources):
    """open-unmix's ``name`` configuration, random weights; 2 sources: vocals + residual."""
    model, utils, torchaudio_how = _import_openunmix()
    architecture = name.split("-")[0]
    max_bin = int(utils.bandwidth_to_max_bin(rate=UMX_SEPARATOR["sample_rate"],
                                             n_fft=UMX_SEPARATOR["n_fft"],
                                             bandwidth=UMX_MODEL["bandwidth_hz"]))
    targets = UMX_TARGETS if n_sources == 4 else ["vocals"]
    networks = {target: model.OpenUnmix(nb_bins=UMX_MODEL["nb_bins"],
                                        nb_channels=UMX_MODEL["nb_channels"],
                                        nb_layers=UMX_MODEL["nb_layers"],
                                        hidden_size=UMX_HIDDEN[architecture],
                                        max_bin=max_bin)
                for target in targets}
    separator = model.Separator(networks, residual=n_sources == 2, **UMX_SEPARATOR)
    separator.freeze()

    def separate(torch, audio):
        with torch.no_grad():
            estimates = separator(torch.from_numpy(audio)[None])
        return {key: value[0].numpy() for key, value in separator.to_dict(estimates).items()}

    return separate, separator, {"max_bin": max_bin, "torchaudio": torchaudio_how}


def _build_htdemucs(n_sources):
    """demucs' ``htdemucs`` network, random weights, applied as ``demucs.separate`` does."""
    from fractions import Fraction

    from demucs.apply import apply_model
    from demucs.htdemucs import HTDemucs

    kwargs = dict(HTDEMUCS_KWARGS, segment=Fraction(HTDEMUCS_KWARGS["segment"]))
    sources = HTDEMUCS_SOURCES if n_sources == 4 else ["vocals", "accompaniment"]
    network = HTDemucs(sources=sources, **kwargs).eval()

    def separate(torch, audio):
        # demucs' Separator normalises the song by its mid signal's mean and deviation
        # before apply_model and undoes it after.
        mix = torch.from_numpy(audio)
        reference = mix.mean(0)
        mean, std = reference.mean(), reference.std() + 1e-8
        with torch.no_grad():
            out = apply_model(network, ((mix - mean) / std)[None], progress=False,
                              num_workers=0, **DEMUCS_APPLY)
        out = out[0] * std + mean
        return {source: out[k].numpy() for k, source in enumerate(network.sources)}

    return separate, network, {"apply_model": DEMUCS_APPLY}


def _build_sksep():
    """The shipped model, and :func:`sksep.separation.separate_audio` with its defaults."""
    import sksep
    from sksep.separation import final_step, separate_audio

    estimator = sksep.load("chimera-mir1k")
    names = list(final_step(estimator).source_names_)

    def separate(torch, audio):
        stems = separate_audio(estimator, audio, RATE)
        return dict(zip(names, stems))

    return separate, final_step(estimator).net_.module_, {"model": "chimera-mir1k"}


def _build(program):
    """``(separate(torch, audio) -> {name: (channels, samples)}, module, notes)``."""
    if program == "sksep":
        return _build_sksep()
    peer = PEERS[program]
    if peer["family"] == "umx":
        return _build_umx(program, peer["sources"])
    return _build_htdemucs(peer["sources"])


def _library_version(program):
    from importlib import metadata

    name = "sksep" if program == "sksep" else PEERS[program]["env"]
    return metadata.version(name)


def worker(program, song, out, threads):
    """Separate ``song`` with ``program``, write the stems to ``out``, print a JSON line."""
    import resource

    phases, tic = {}, time.perf_counter()
    import numpy  # noqa: F401  (imports are timed as a phase of their own)
    import soundfile
    import torch

    torch.set_num_threads(int(threads))
    phases["import_s"], tic = time.perf_counter() - tic, time.perf_counter()
    separate, module, notes = _build(program)
    phases["model_s"], tic = time.perf_counter() - tic, time.perf_counter()
    audio, rate = soundfile.read(song, dtype="float32", always_2d=True)
    audio = audio.T.copy()  # (channels, samples)
    if rate != RATE:
        raise SystemExit(f"{song}: {rate} Hz, expected {RATE}")
    phases["decode_s"], tic = time.perf_counter() - tic, time.perf_counter()
    stems = separate(torch, audio)
    phases["separate_s"], tic = time.perf_counter() - tic, time.perf_counter()
    Path(out).mkdir(parents=True, exist_ok=True)
    for name, stem in stems.items():
        soundfile.write(Path(out) / f"{name}.wav", stem.T, rate, subtype="PCM_16")
    phases["write_s"] = time.perf_counter() - tic
    print(json.dumps({
        **phases, "stems": list(stems), "song_seconds": audio.shape[1] / rate,
        "parameters": sum(p.numel() for p in module.parameters()),
        "self_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
        "version": _library_version(program), **notes}), flush=True)


# -- environments ---------------------------------------------------------------------------

def env_python(name):
    return ENVS / name / "bin" / "python"


def ensure_env(name, log):
    """Create ``_envs/name`` from :data:`ENV_RECIPES`; return None or the error text."""
    marker = ENVS / name / ".sksep-ready"
    if marker.exists():
        return None
    ENVS.mkdir(parents=True, exist_ok=True)
    python = env_python(name)
    steps = [[sys.executable, "-m", "venv", str(ENVS / name)]]
    steps += [[str(python), "-m", "pip", "install", "-q", *args] for args in ENV_RECIPES[name]]
    for step in steps:
        print("$", " ".join(step), file=log, flush=True)
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        log.write(done.stdout[-3000:] + done.stderr[-3000:])
        if done.returncode != 0:
            return f"`{' '.join(step[2:])}` failed: {done.stderr.strip()[-800:]}"
    marker.write_text("ok\n")
    return None


def ensure_envs(peers):
    """Every environment the ``peers`` need; ``{peer: error}`` for those that failed."""
    errors = {}
    with open(WORK / "envs.log", "a") as log:
        for name in sorted({PEERS[peer]["env"] for peer in peers}):
            error = ensure_env(name, log)
            if error:
                print(f"{name}: environment failed: {error}")
                errors.update({peer: f"environment {name}: {error}" for peer in peers
                               if PEERS[peer]["env"] == name})
    return errors


# -- songs ----------------------------------------------------------------------------------

def make_song(seconds):
    """``WORK/song_<seconds>s.flac``: the excerpts' mixtures end to end, repeated, cut."""
    import numpy as np
    import soundfile

    path = WORK / f"song_{seconds:g}s.flac"
    if path.exists():
        return path
    parts = [soundfile.read(song, dtype="float32", always_2d=True)[0]
             for song in sorted(MUSDB_EXCERPTS.glob("*/mixture.flac"))]
    joined = np.concatenate(parts)
    n_samples = int(round(seconds * RATE))
    audio = np.tile(joined, (-(-n_samples // len(joined)), 1))[:n_samples]
    soundfile.write(path, audio, RATE, subtype="PCM_16")
    return path


# -- running the children -------------------------------------------------------------------

def child_env(threads):
    return dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))


def command(program, song, out, threads):
    """The command line of one run of ``program`` (``sksep-cli``, ``sksep`` or a peer)."""
    if program == "sksep-cli":
        return [str(Path(sys.executable).parent / "sksep"), "separate", str(song), "-o",
                str(out), "--quiet", "--overwrite"]
    python = sys.executable if program == "sksep" else env_python(PEERS[program]["env"])
    return [str(python), str(Path(__file__).resolve()), "--worker", program, str(song),
            str(out), str(threads)]


class RunError(RuntimeError):
    """A run that failed; ``program`` names which."""

    def __init__(self, program, message):
        super().__init__(message)
        self.program = program


def run_once(program, song, threads, timeout):
    """One run: ``{"wall_s", "maxrss_mib"}`` and the worker's JSON; :class:`RunError`
    if it fails."""
    out = WORK / "out" / program
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    log = WORK / "out" / f"{program}.log"
    with open(log, "w+") as output:
        start = time.perf_counter()
        process = subprocess.Popen(command(program, song, out, threads), env=child_env(threads),
                                   cwd=out, stdout=output, stderr=subprocess.STDOUT)
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read()
    shutil.rmtree(out, ignore_errors=True)
    if process.returncode != 0:
        raise RunError(program, f"{program} exited with {process.returncode}"
                           f"{' (timed out)' if wall >= timeout else ''}: {text[-1500:].strip()}")
    lines = [line for line in text.splitlines() if line.startswith("{")]
    return {"wall_s": wall, "maxrss_mib": usage.ru_maxrss / 1024,
            **(json.loads(lines[-1]) if lines else {})}


def probe(peers, song, threads, timeout):
    """Run every program once on ``song`` (a check, and a warm-up of caches): the sksep
    runs raise, the failing peers are returned as ``{peer: error}``."""
    for program in ("sksep-cli", "sksep"):
        run_once(program, song, threads, timeout)
    errors = {}
    for peer in peers:
        try:
            result = run_once(peer, song, threads, timeout)
            print(f"  {peer}: ok, {result['parameters'] / 1e6:.1f} M parameters, "
                  f"{result['wall_s']:.1f} s", flush=True)
        except Exception as error:  # a peer that fails is reported, not fatal
            errors[peer] = f"{type(error).__name__}: {str(error)[-1500:]}"
            print(f"  {peer}: FAILED {errors[peer]}", flush=True)
    return errors


# -- paired rounds --------------------------------------------------------------------------

def paired_round(peer, song, threads, timeout, reverse):
    """The sksep command line, the sksep worker and ``peer``, back to back."""
    order = ["sksep-cli", "sksep", peer]
    if reverse:
        order.reverse()
    return {program: run_once(program, song, threads, timeout) for program in order}


def _spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


PHASES = ("import_s", "model_s", "decode_s", "separate_s", "write_s")


def _series(runs, program, key):
    """``key`` of ``program``'s result in each round."""
    return [run[program][key] for run in runs]


def _ratios(runs, peer):
    """Per-round ratios peer / sksep: end to end (against the command line and against
    the worker), separation alone, peak memory."""
    def ratio(key, base):
        return ratio_summary(_series(runs, peer, key), _series(runs, base, key))

    return {"end_to_end": ratio("wall_s", "sksep-cli"),
            "end_to_end_vs_worker": ratio("wall_s", "sksep"),
            "separation": ratio("separate_s", "sksep"),
            "memory": ratio("maxrss_mib", "sksep-cli")}


def _times(runs, peer, seconds):
    """Spreads of the seconds and peak memory, median real-time factors and phases."""
    cases = {"peer": peer, "sksep_cli": "sksep-cli", "sksep_worker": "sksep"}
    walls = {name: _series(runs, program, "wall_s") for name, program in cases.items()}
    separations = {"peer": _series(runs, peer, "separate_s"),
                   "sksep": _series(runs, "sksep", "separate_s")}
    return {
        "wall_s": {name: _spread(values) for name, values in walls.items()},
        "separate_s": {name: _spread(values) for name, values in separations.items()},
        "rtf": {"peer_end_to_end": statistics.median(walls["peer"]) / seconds,
                "sksep_cli_end_to_end": statistics.median(walls["sksep_cli"]) / seconds,
                "peer_separate": statistics.median(separations["peer"]) / seconds,
                "sksep_separate": statistics.median(separations["sksep"]) / seconds},
        "peak_mib": {name: _spread(_series(runs, program, "maxrss_mib"))
                     for name, program in cases.items()},
        "peer_phases_s": {key: statistics.median(_series(runs, peer, key)) for key in PHASES},
        "sksep_phases_s": {key: statistics.median(_series(runs, "sksep", key))
                           for key in PHASES},
    }


def summarize(runs, seconds):
    """One row of the report from the rounds of a peer: ``runs`` is a list of
    ``{program: result}``, one per round."""
    peer = next(name for name in runs[0] if name not in ("sksep-cli", "sksep"))
    first = runs[0][peer]
    notes = ("version", "torch", "torch_threads", "max_bin", "torchaudio", "apply_model")
    return {"rounds": len(runs), "n_sources": len(first["stems"]), "stems": first["stems"],
            "parameters": first["parameters"],
            "sksep_parameters": runs[0]["sksep"]["parameters"],
            **_ratios(runs, peer), **_times(runs, peer, seconds),
            "peer_notes": {key: first[key] for key in notes if key in first},
            "raw": runs}


def measure(peers, song, seconds, threads, rounds, timeout, errors):
    """Paired rounds of every peer on one song at one thread count; ``{peer: row}``.
    A peer that fails is dropped, its error kept in ``errors``."""
    runs = {peer: [] for peer in peers}
    for k in range(rounds):
        for peer in [p for p in peers if p not in errors]:
            try:
                runs[peer].append(paired_round(peer, song, threads, timeout, reverse=k % 2 == 1))
            except RunError as error:
                if error.program != peer:
                    raise  # sksep failed: no comparison is possible
                errors[peer] = f"{seconds:g} s, {threads} threads: {str(error)[-1500:]}"
                continue
            last = runs[peer][-1]
            print(f"  {seconds:g} s, {threads} thr, round {k + 1}/{rounds}, {peer}: "
                  f"wall {last[peer]['wall_s']:.1f} s vs sksep cli "
                  f"{last['sksep-cli']['wall_s']:.1f} s; separation "
                  f"{last[peer]['separate_s']:.2f} s vs {last['sksep']['separate_s']:.2f} s",
                  flush=True)
    return {peer: summarize(runs[peer], seconds) for peer in peers
            if peer not in errors and runs[peer]}


# -- report ---------------------------------------------------------------------------------

def _ratio(summary):
    return (f"**{summary['ratio_median']:.2f}** ({summary['ratio_min']:.2f}–"
            f"{summary['ratio_max']:.2f})")


def _startup(phases):
    return phases["import_s"] + phases["model_s"]


def _table_rows(rows):
    lines = ["| song | threads | peer | stems | parameters (M) | end to end: peer / sksep "
             "CLI | separation: peer / sksep | RTF end to end (peer / sksep CLI) "
             "| RTF separation (peer / sksep) | imports + model s (peer / sksep) "
             "| peak MiB (peer / sksep CLI) |",
             "|---:|---:|---|---:|---:|---|---|---|---|---|---|"]
    for row in rows:
        r = row["result"]
        lines.append(
            f"| {row['seconds']:g} s | {row['threads']} | {row['peer']} | {r['n_sources']} "
            f"| {r['parameters'] / 1e6:.1f} | {_ratio(r['end_to_end'])} "
            f"| {_ratio(r['separation'])} | {r['rtf']['peer_end_to_end']:.3f} / "
            f"{r['rtf']['sksep_cli_end_to_end']:.3f} | {r['rtf']['peer_separate']:.3f} / "
            f"{r['rtf']['sksep_separate']:.3f} | {_startup(r['peer_phases_s']):.1f} / "
            f"{_startup(r['sksep_phases_s']):.1f} | {r['peak_mib']['peer']['median']:.0f} / "
            f"{r['peak_mib']['sksep_cli']['median']:.0f} |")
    return lines


def report_markdown(result):
    """The Markdown report of a :func:`main` result (``make_report.py`` reuses it)."""
    rows = result["rows"]
    sksep_parameters = rows[0]["result"]["sksep_parameters"] if rows else None
    lines = [
        "# Separation against the peers: open-unmix and demucs", "",
        f"`bench_peers.py{' --quick' if result['quick'] else ''}`: each program separates "
        "the same 44.1 kHz stereo song (16-bit FLAC: the three MUSDB18 excerpts' mixtures "
        "end to end, repeated, cut to length) in a process of its own and writes its "
        "stems as 16-bit WAV. sksep end to end is `sksep separate SONG` (shipped model "
        f"`chimera-mir1k`, {sksep_parameters / 1e6 if sksep_parameters else 0:.1f} M "
        "parameters); sksep's separation alone is `separate_audio` timed in a worker "
        "process. Each peer runs in its own virtual environment (torch "
        f"{result.get('torch')} CPU), built with the constructor settings of its released "
        "model: " + "; ".join(result["settings"].values()) + ". "
        f"Paired rounds ({result['rounds']} per row): sksep CLI, sksep worker and the peer "
        "back to back, in the reverse order every other round; ratios are the median (and "
        "range) of the per-round ratios (> 1: sksep is faster or smaller). Wall time is "
        "the whole process: start, imports, model, decoding, separation, writing. RTF = "
        "seconds / song seconds; peak memory = the child's `ru_maxrss`. Threads: "
        "OMP/MKL_NUM_THREADS and `torch.set_num_threads` in every child. Machine: "
        f"{machine_line(result.get('machine'))}.", "",
        "**The peers' weights are random** (trained weights cannot be downloaded here): "
        "the networks do the same arithmetic whatever their weights, so these rows "
        "compare compute and memory, not separation quality. **The work differs**: the "
        "peers separate 4 stems at 44.1 kHz on full-resolution spectrograms or waveforms; "
        "sksep's shipped model separates 2 (vocals, accompaniment) with a network that "
        "hears the song's 16 kHz mid signal, its masks applied to each channel at 44.1 kHz. "
        f"The 2-source rows ({TWO_SOURCE_NOTE}) are closer to sksep's task. **Start-up "
        "differs too**: a peer builds its random network in memory, where with trained "
        "weights it would also read them (float32: about 4 bytes per parameter, e.g. "
        "450 MB for umxl); sksep reads its 10.8 MB model file. The imports + model "
        "column (medians, measured inside the workers) shows that part of the end-to-end "
        "time.", ""]
    lines += _table_rows(rows)
    lines.append("")
    for peer, error in result.get("errors", {}).items():
        lines += [f"**{peer} failed:** {error}", ""]
    lines += ["Environment recipes (created by the script under `benchmarks/_envs/`): "
              + "; ".join(f"{name} = " + ", then ".join(f"`pip install {' '.join(step)}`"
                                                        for step in steps)
                          for name, steps in result.get("env_recipes", ENV_RECIPES).items())
              + ". open-unmix imports torchaudio at the top of its modules but does not "
              "use it on this path; no torchaudio release is built for torch 2.13 (the "
              "newest, 2.11.0, pins torch 2.11 and its library does not load with 2.13), "
              "so none is installed and an empty module stands in for it (recorded per "
              "row in `peers.json`, `peer_notes.torchaudio`).", ""]
    return "\n".join(lines)


def settings():
    """The constructor settings of each peer family, as prose for the report."""
    umx = ", ".join(f"{key}={value}" for key, value in UMX_SEPARATOR.items())
    return {
        "umx": (f"open-unmix 1.3.0 `OpenUnmix(nb_bins=2049, nb_channels=2, nb_layers=3, "
                f"hidden_size=512 (umxhq) or 1024 (umxl), max_bin=bandwidth_to_max_bin("
                f"44100, 4096, 16000))` per target and `Separator({umx})`, as "
                f"`openunmix.umxhq` / `umxl` build them"),
        "htdemucs": ("demucs 4.1.0 `HTDemucs(" + ", ".join(
            f"{key}={value}" for key, value in HTDEMUCS_KWARGS.items())
            + ")` (the released htdemucs checkpoint's arguments; the rest are the "
            "constructor's defaults), `apply_model(" + ", ".join(
                f"{key}={value}" for key, value in DEMUCS_APPLY.items())
            + ")` (`demucs.separate`'s defaults) on the song normalised as demucs' "
            "`Separator` does"),
    }


# -- parent ---------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="30 s song, 1 thread, 2 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="paired rounds (default 5)")
    parser.add_argument("--threads", type=int, nargs="+", default=None,
                        help="thread counts (default 1 2)")
    parser.add_argument("--lengths", type=float, nargs="+", default=None,
                        help="song lengths in seconds (default 30 180)")
    parser.add_argument("--peers", nargs="+", choices=list(PEERS), default=list(PEERS))
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds one run may take (default 3600)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the rows of results/peers.json that this run does not "
                             "measure (several runs, e.g. other peers at another length, "
                             "make one report)")
    parser.add_argument("--setup-only", action="store_true",
                        help="create the venvs, check every program on a 5 s song, exit")
    parser.add_argument("--worker", nargs=4, metavar=("PROGRAM", "SONG", "OUT", "THREADS"))
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.threads = args.threads or ([1] if args.quick else [1, 2])
    args.lengths = args.lengths or ([30.0] if args.quick else [30.0, 180.0])
    return args


def merged(rows, errors):
    """``rows`` and ``errors`` added to those of the committed ``peers.json``: a new row
    replaces the old one of the same peer, song length and thread count."""
    path = RESULTS / "peers.json"
    if not path.exists():
        return rows, errors
    old = json.loads(path.read_text())
    key = lambda row: (row["peer"], row["seconds"], row["threads"])  # noqa: E731
    new = {key(row) for row in rows}
    kept = [row for row in old.get("rows", []) if key(row) not in new]
    return sorted(kept + rows, key=lambda row: (row["seconds"], row["threads"])), {
        **old.get("errors", {}), **errors}


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return worker(*args.worker)
    WORK.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    errors = ensure_envs(args.peers)
    if args.setup_only:  # check every program on a 5 s song
        print("checking every program on a 5 s song", flush=True)
        errors.update(probe([p for p in args.peers if p not in errors], make_song(5), 1,
                            args.timeout))
        print("errors:", json.dumps(errors, indent=2) if errors else "none")
        return errors
    songs = {seconds: make_song(seconds) for seconds in args.lengths}
    print(f"warm-up and check on {songs[min(songs)].name}", flush=True)
    errors.update(probe([p for p in args.peers if p not in errors], songs[min(songs)],
                        args.threads[0], args.timeout))
    rows = []
    for seconds, song in songs.items():
        for threads in args.threads:
            measured = measure([p for p in args.peers if p not in errors], song, seconds,
                               threads, args.rounds, args.timeout, errors)
            rows += [{"peer": peer, "seconds": seconds, "threads": threads, "result": row}
                     for peer, row in measured.items()]
    import torch

    if args.merge:
        rows, errors = merged(rows, errors)
    result = {"benchmark": "peers", "quick": args.quick, "rounds": args.rounds,
              "threads": args.threads, "lengths_s": args.lengths, "peers": args.peers,
              "random_weights": True, "sksep_model": "chimera-mir1k",
              "settings": settings(), "umx_separator": UMX_SEPARATOR,
              "htdemucs_kwargs": HTDEMUCS_KWARGS, "demucs_apply": DEMUCS_APPLY,
              "env_recipes": ENV_RECIPES, "rows": rows, "errors": errors,
              "torch": torch.__version__, "seconds": time.perf_counter() - start,
              "machine": machine(threads=args.threads)}
    markdown = report_markdown(result)
    write_report(RESULTS / "peers", result, markdown)
    print(markdown)
    return result


if __name__ == "__main__":
    main()
