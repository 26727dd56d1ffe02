"""Datasets: loaders for MIR-1K-style and MUSDB-style folders, and random remixing.

- :func:`load_mir1k` reads stereo karaoke clips (accompaniment left, vocals right).
- :func:`load_musdb` reads one folder per song with one file per stem, or MUSDB18's
  own ``.stem.mp4`` files (one AAC stream per stem).
- :func:`stems_folder_layout` tells which of the two layouts a folder has, and
  :func:`load_stems_folder` loads it with the right loader.
- :func:`hold_out_songs` splits clips into training and validation clips by whole
  songs (the validation of the shipped models).
- :func:`remove_silence` and :func:`make_remix` build DSD100-remix-style training
  clips (Luo et al. 2017) from vocal and accompaniment tracks.

Real examples of both layouts are in ``../shared/data/`` (relative to the repository).
"""

from ._folders import load_stems_folder, stems_folder_layout
from ._mir1k import load_mir1k
from ._musdb import load_musdb
from ._remix import make_remix, remove_silence
from ._split import hold_out_songs

__all__ = ["load_mir1k", "load_musdb", "stems_folder_layout", "load_stems_folder",
           "hold_out_songs", "remove_silence", "make_remix"]
