"""Folders of training stems in either supported layout: which one, and loading it."""

import inspect
from pathlib import Path

from ..exceptions import InvalidInputError
from ._mir1k import is_mir1k_folder, load_mir1k
from ._musdb import load_musdb, musdb_songs, split_folders_hint

__all__ = ["stems_folder_layout", "load_stems_folder"]

#: Each layout :func:`stems_folder_layout` returns: its loader and how messages call it.
_LAYOUTS = {"mir1k": (load_mir1k, "MIR-1K-style"), "musdb": (load_musdb, "MUSDB-style")}


def stems_folder_layout(root, *, name="root"):
    """Which of the two supported layouts a folder of stems has.

    - ``"mir1k"``: a ``Wavfile/`` folder, or stereo ``<singer>_<song>_<clip>.wav``
      files (accompaniment left, vocals right), read by :func:`load_mir1k`.
    - ``"musdb"``: song folders with stem files
      (``<song>/{mixture,vocals,drums,bass,other}.{wav,flac}``) or MUSDB18's own
      ``<song>.stem.mp4`` files, read by :func:`load_musdb`.

    Parameters
    ----------
    root : str or os.PathLike
        The folder.
    name : str, default="root"
        How to call ``root`` in error messages (e.g. a command-line argument's name).

    Returns
    -------
    layout : {"mir1k", "musdb"}

    Raises
    ------
    FileNotFoundError
        ``root`` does not exist.
    sksep.exceptions.InvalidInputError
        ``root`` is a file, or a folder with neither layout.

    See Also
    --------
    load_stems_folder : Loads the folder with the loader of its layout.

    Examples
    --------
    >>> from sksep.datasets import stems_folder_layout
    >>> stems_folder_layout("../shared/data/MIR-1K"), stems_folder_layout(
    ...     "../shared/data/MUSDB18-excerpts")
    ('mir1k', 'musdb')
    """
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"stems folder {name}={str(root)!r} does not exist")
    if not root.is_dir():
        raise InvalidInputError(f"{name}={str(root)!r} is a file; expected a folder of stems")
    if is_mir1k_folder(root):
        return "mir1k"
    if musdb_songs(root):
        return "musdb"
    raise InvalidInputError(
        f"{name}={str(root)!r} has neither supported layout; expected MIR-1K style "
        f"(Wavfile/<singer>_<song>_<clip>.wav, stereo: accompaniment left, vocals right) "
        f"or MUSDB style (<song>/{{mixture,vocals,drums,bass,other}}.{{wav,flac}}, or "
        f"<song>.stem.mp4 files as MUSDB18 ships them)" + split_folders_hint(root)
    )


def load_stems_folder(root, **kwargs):
    """Load a folder of training stems, whichever of the two supported layouts it has.

    - MIR-1K style, if ``root`` has a ``Wavfile/`` folder or holds stereo
      ``<singer>_<song>_<clip>.wav`` files: :func:`load_mir1k`.
    - MUSDB style, if ``root`` holds song folders with stem files
      (``<song>/{mixture,vocals,drums,bass,other}.{wav,flac}``) or MUSDB18's
      ``<song>.stem.mp4`` files: :func:`load_musdb`.

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

    See Also
    --------
    stems_folder_layout : Which layout a folder has.

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
    layout = stems_folder_layout(root)
    loader, description = _LAYOUTS[layout]
    accepted = [name for name in inspect.signature(loader).parameters if name != "root"]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise InvalidInputError(
            f"{', '.join(unknown)} is not an option for the {description} folder "
            f"{str(root)!r}; its loader {loader.__name__} takes {', '.join(accepted)}"
        )
    return loader(root, **kwargs)
