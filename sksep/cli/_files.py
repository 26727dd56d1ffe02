"""Output files of the commands: every target checked before any work, written atomically."""

from pathlib import Path

from .._atomic import atomic_write, check_writable, remove_stale_temporaries
from ..exceptions import OutputLocationError
from ._console import plural, say


def check_outputs(args, paths, *, inside=None):
    """Refuse before any work is done, so a refusal leaves nothing half-written.

    Each path must be writable (:func:`sksep._atomic.check_writable`; an existing
    file only with ``--overwrite``, never a device, pipe or folder) and, when
    ``inside`` is given, lie inside that folder once links are resolved. Then the
    hidden temporary files that killed runs left beside these paths are removed (not
    those of a run still going, :func:`sksep._atomic.remove_stale_temporaries`).
    """
    for path in paths:
        if inside is not None:
            _check_inside(path, inside)
        try:
            check_writable(path, overwrite=args.overwrite)
        except FileExistsError:
            raise FileExistsError(
                f"{str(path)!r} already exists; pass --overwrite to replace it") from None
    stale = [removed for path in paths for removed in remove_stale_temporaries(path)]
    if stale:
        say(args, f"removed {plural(len(stale), 'temporary file')} left by an interrupted "
                  f"run: {', '.join(repr(str(path)) for path in stale)}")


def _check_inside(path, folder):
    """Refuse an output ``path`` that lies outside ``--out`` once links are resolved."""
    resolved = path.resolve()
    if folder.resolve() not in resolved.parents:
        raise OutputLocationError(
            f"{str(path)!r} resolves to {str(resolved)!r}, outside --out {str(folder)!r}; "
            f"expected every output inside --out (a link to another folder or file?)")


def write_text(path, text, *, overwrite):
    """Write ``text`` to ``path`` atomically (UTF-8); returns the path."""
    return atomic_write(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"),
                        overwrite=overwrite)
