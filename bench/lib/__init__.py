"""Helpers shared by the benchmark cases (bench/cases/*.py) and the front end (bench/run)."""
import importlib.util
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load_wire():
    """tests/e2e/wire.py, the wire client the e2e harness uses, loaded by its path so that
    nothing else of tests/e2e lands on sys.path."""
    spec = importlib.util.spec_from_file_location("sbx_wire", os.path.join(REPO, "tests", "e2e", "wire.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


wire = _load_wire()


class BenchError(Exception):
    """A benchmark cannot go on; the front end prints it as `NAME FAILED: ...` and runs the next."""
