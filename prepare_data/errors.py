"""Error classes of the data preparation.

Every problem with the user's input is reported as a :class:`PrepareError` whose
message is one line naming the file, the line number where there is one, and the fix.
The command-line front end prints it as ``error: ...`` and exits with status 2.
"""


class PrepareError(Exception):
    """Bad or missing input for the data preparation (one-line, actionable message)."""


class DataNotPreparedError(PrepareError, FileNotFoundError):
    """The output folder holds no (complete) prepared data."""

    def __init__(self, out_dir, missing):
        super().__init__(
            f"{out_dir}: no prepared data ({missing} is missing); run "
            f"`python prepareDataset.py` first (add `--dataset bookcrossing` for Book-Crossing)")
        self.out_dir = out_dir


def where(path, lineno=None):
    """Location prefix for messages: ``path`` or ``path, line N``."""
    return f"{path}" if lineno is None else f"{path}, line {lineno}"
