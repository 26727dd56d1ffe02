"""Datasets: loaders for MIR-1K-style and MUSDB-style folders, and random remixing.

- :func:`load_mir1k` reads stereo karaoke clips (accompaniment left, vocals right).
- :func:`load_musdb` reads one folder per song with one file per stem.
- :func:`load_stems_folder` detects which of the two layouts a folder has.
- :func:`remove_silence` and :func:`make_remix` build DSD100-remix-style training
  clips (Luo et al. 2017) from vocal and accompaniment tracks.

Real examples of both layouts are in ``../shared/data/`` (relative to the repository).
"""

import inspect
from pathlib import Path

import soundfile as sf

from ..exceptions import InvalidInputError
from ._mir1k import load_mir1k, _clip_parts
from ._musdb import load_musdb, _song_folders
from ._remix import make_remix, remove_silence

__all__ = ["load_mir1k", "load_musdb", "load_stems_folder", "remove_silence", "make_remix"]


def _is_mir1k(root):
    if (root / "Wavfile").is_dir():
        return True
    for file in sorted(root.glob("*.wav")):
        if _clip_parts(file.stem) is not None:
            try:
                return sf.info(file).channels == 2
            except sf.SoundFileError:
                return False
    return False


def load_stems_folder(root, **kwargs):
    """Load a folder of training stems, whichever of the two supported layouts it has.

    - MIR-1K style, if ``root`` has a ``Wavfile/`` folder or holds stereo
      ``<singer>_<song>_<clip>.wav`` files: :func:`load_mir1k`.
    - MUSDB style, if ``root`` holds song folders with stem files
      (``<song>/{mixture,vocals,drums,bass,other}.{wav,flac}``): :func:`load_musdb`.

    Parameters
    ----------
    root : str or os.PathLike
        The folder.
    **kwargs
        Passed to the loader; a keyword that loader does not take is an error.

    Returns
    -------
    data : sklearn.utils.Bunch
        What the loader returns; it has at least ``X``, ``Y``, ``names``,
        ``groups``, ``source_names`` and ``sample_rate``.

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist.
    sksep.exceptions.InvalidInputError
        If the layout is neither, or a keyword does not fit the loader.

    Examples
    --------
    >>> from sksep.datasets import load_stems_folder
    >>> data = load_stems_folder("../shared/data/MIR-1K", split="test", max_clips=1)
    >>> data.names.tolist(), data.source_names
    (['annar_1_01'], ('vocals', 'accompaniment'))
    >>> data = load_stems_folder("../shared/data/MUSDB18-excerpts", max_songs=1,
    ...                          sample_rate=8000)
    >>> data.source_names, data.Y[0].shape
    (('vocals', 'drums', 'bass', 'other'), (4, 237030))
    """
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"stems folder root={str(root)!r} does not exist")
    if not root.is_dir():
        raise InvalidInputError(f"root={str(root)!r} is a file; expected a folder of stems")
    if _is_mir1k(root):
        loader, layout = load_mir1k, "MIR-1K-style"
    elif _song_folders(root):
        loader, layout = load_musdb, "MUSDB-style"
    else:
        raise InvalidInputError(
            f"{str(root)!r} has neither supported layout; expected MIR-1K style "
            f"(Wavfile/<singer>_<song>_<clip>.wav, stereo: accompaniment left, vocals right) "
            f"or MUSDB style (<song>/{{mixture,vocals,drums,bass,other}}.{{wav,flac}})"
        )
    accepted = [name for name, parameter in inspect.signature(loader).parameters.items()
                if name != "root"]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise InvalidInputError(
            f"{', '.join(unknown)} is not an option for the {layout} folder {str(root)!r}; "
            f"its loader {loader.__name__} takes {', '.join(accepted)}"
        )
    return loader(root, **kwargs)
