"""Songs in parallel: ``sksep separate --jobs N`` runs up to N songs at once, each in a
process of its own.

The worker processes are *spawned* (fresh Python interpreters), not forked from the
command: a forked child inherits torch's OpenMP thread pool in whatever state the
parent left it (libgomp is not fork-safe and can hang the child), CUDA cannot be used
again in a forked child at all, and Python warns about forking a process with threads.
Spawning costs each worker a few seconds to import torch and load the model, once.

Each worker uses one thread (torch, OpenMP and BLAS), so N workers use N cores. Errors
and signals behave as with one song at a time: a song's error stops further songs from
starting, lets the songs already running finish, and is then reported as usual; Ctrl-C
or SIGTERM ends every worker, each removing the file it was writing, and the command
ends with code 130 or 143. Workers ignore SIGINT themselves, so that Ctrl-C on a
terminal (sent to every process of the job) is handled once, by the command. A worker
whose command has ended without ending it (killed with SIGKILL, say) ends itself as if
it had been sent SIGTERM, within about a second (:func:`_end_with_parent`).
"""

import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from ._exit import EXIT_TERMINATED, Terminated

#: Thread-count variables set to 1 in every worker before it imports numpy or torch.
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

#: In a worker: whether it is running a task (a SIGTERM then unwinds it, so the file it
#: writes is removed) or waiting for one (a SIGTERM then ends it at once).
_busy = False

#: Seconds between a worker's checks that the command that started it still runs.
_PARENT_POLL_SECONDS = 0.5

#: Seconds a worker whose command has ended is given to unwind before it is ended outright.
_UNWIND_SECONDS = 60.0


def run_in_processes(task, items, *, jobs, setup, setup_args=()):
    """Call ``task(item)`` for every item in up to ``jobs`` spawned processes.

    Parameters
    ----------
    task : callable
        A module-level function (workers import it by name); what it returns is dropped.
    items : sequence
        Its arguments, one call each, started in order.
    jobs : int
        The most calls running at once (at least 2; one process each).
    setup : callable
        A module-level function called once in each worker as ``setup(*setup_args)``,
        e.g. to load the model; after the worker is limited to one thread.
    setup_args : tuple
        Its (picklable) arguments.

    Raises
    ------
    Exception
        The error of the first failing item, in the order of ``items``, once the calls
        already running have ended; no further call is started after a failure.
    KeyboardInterrupt, Terminated
        Ctrl-C or SIGTERM reached this process; every worker was ended first.
    """
    context = multiprocessing.get_context("spawn")
    already = set(multiprocessing.active_children())
    executor = ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                   initializer=_start_worker,
                                   # pickled here, unpickled (which may import the
                                   # command's module, and numpy with it) only once
                                   # the worker is limited to one thread
                                   initargs=(pickle.dumps((setup, setup_args)), os.getpid()))
    try:
        failures = _run(executor, task, items, jobs)
        executor.shutdown(wait=True)
    except BaseException:  # Ctrl-C, SIGTERM: end the workers, which remove their files
        _stop_workers(set(multiprocessing.active_children()) - already)
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    if failures:
        raise _reported(*failures[min(failures)])


def _run(executor, task, items, jobs):
    """Submit the items as workers free up; stop submitting at the first failure.
    Returns ``{index: (item, error)}`` of the items that failed."""
    queue = iter(enumerate(items))
    running, failures = {}, {}

    def submit(count):
        for index, item in queue:
            running[executor.submit(_call, task, item)] = index, item
            count -= 1
            if not count:
                return

    submit(jobs)
    while running:
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            index, item = running.pop(future)
            if future.exception() is not None:
                failures[index] = item, future.exception()
        if not failures:
            submit(len(done))
    return failures


def _reported(item, error):
    """The error to report for ``item``: its own, or one that names it when its worker
    died without one (killed, out of memory)."""
    if isinstance(error, BrokenProcessPool):
        return RuntimeError(f"the process working on {str(item)!r} ended abruptly (out of "
                            f"memory, or killed?); run again with fewer --jobs")
    return error


def _stop_workers(workers):
    """Send SIGTERM to the workers and wait for them to end."""
    for worker in workers:
        if worker.is_alive():
            worker.terminate()  # SIGTERM: a busy worker unwinds, removing its file
    for worker in workers:
        worker.join()


def _start_worker(setup, parent):
    """Worker initializer: one thread, the command's output conventions, its signals, and
    an end when ``parent``, the command's process, ends; then ``setup``, the pickled
    ``(function, arguments)`` of :func:`run_in_processes`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the command's to handle
    signal.signal(signal.SIGTERM, _on_sigterm)
    threading.Thread(target=_end_with_parent, args=(parent,), daemon=True,
                     name="sksep-parent-watch").start()
    for variable in _THREAD_VARIABLES:
        os.environ[variable] = "1"  # before numpy, torch and sklearn start their pools
    import torch  # after the thread variables, which torch reads when it loads

    torch.set_num_threads(1)
    if getattr(sys.stdout, "errors", None) is not None and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")  # as the command's own stdout
    function, arguments = pickle.loads(setup)
    function(*arguments)


def _call(task, item):
    """Run one task in a worker; a SIGTERM during it unwinds it, then ends the worker."""
    global _busy
    _busy = True
    try:
        return task(item)
    except Terminated:
        # Files being written were removed while unwinding; the command is ending.
        sys.stdout.flush()
        os._exit(EXIT_TERMINATED)
    finally:
        _busy = False


def _end_with_parent(parent):
    """Watch, in a worker's thread, that the command ``parent`` still runs; once it has
    ended (this process then has another parent: init, or a subreaper) end the worker
    as SIGTERM does (a task unwinds, removing its files), and outright if that takes
    longer than :data:`_UNWIND_SECONDS`.

    A worker otherwise outlives a command killed with SIGKILL: it waits for work on a
    queue whose other end it holds itself, so the queue never reports the command gone.
    """
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_SECONDS)
    if hasattr(signal, "pthread_kill"):  # to the main thread, where Python runs handlers
        signal.pthread_kill(threading.main_thread().ident, signal.SIGTERM)
    else:
        os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(_UNWIND_SECONDS)
    os._exit(EXIT_TERMINATED)


def _on_sigterm(signum, frame):
    """Worker SIGTERM handler: unwind a running task, or end an idle worker at once."""
    if _busy:
        raise Terminated
    os._exit(EXIT_TERMINATED)
