"""Publishing a prepared folder atomically: build it beside the target, then rename."""
import os
import shutil
import tempfile
from pathlib import Path


def swap_in(tmp, out_dir):
    """Replace out_dir by tmp with renames; the old output survives any failure."""
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f'.{out_dir.name}.old-', dir=out_dir.parent))
        os.rename(out_dir, old / 'data')
    try:
        os.rename(tmp, out_dir)
    except OSError:
        if old is not None:
            os.rename(old / 'data', out_dir)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def write_folder_atomically(out_dir: Path, write):
    """Call ``write(folder)`` on a temporary folder beside ``out_dir``, then swap it in;
    on any failure ``out_dir`` is left as it was and the temporary folder removed."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f'.{out_dir.name}.tmp-', dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)              # mkdtemp makes it private; the output is not
    try:
        write(tmp)
        swap_in(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
