"""What the bench prints: aligned text lines, `!` notes where sbx differs from README.md, and
the machine-readable records of every measured figure (written by `--json`)."""
import sys

LABEL_W = 44
NOTES = []     # (case, message): things that did not behave as README.md says
RECORDS = []   # one dict per measured figure
text = sys.stdout   # where the text goes: stderr when the JSON goes to stdout
_case = None


def begin(case):
    """Records and notes from now on belong to `case`."""
    global _case
    _case = case


def say(s=""):
    print(s, file=text, flush=True)


def note(msg):
    NOTES.append((_case, msg))
    say(f"  ! {msg}")


def line(label, *parts):
    say(f"{label:<{LABEL_W}} " + "   ".join(p for p in parts if p))


def fmt_ms(sec):
    ms = sec * 1e3
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


def fmt_s(sec):
    return f"{sec:.3f} s" if sec < 10 else f"{sec:.1f} s"


def verdict(value, limit, text):
    return f"target <= {text}: {'met' if value <= limit else 'NOT met'}"


def record(label, median, unit, **fields):
    """One figure: `median` of `n` samples (default 1: the sample itself) in `unit`; `label` is
    the text line's, white space squeezed. Optional fields:
    p90, p99, n, floor (same unit), ratio (median / floor), target (same unit; adds the verdict
    as `verdict` does), and any other figure the text line shows beside it."""
    label = " ".join(label.split())
    if label.startswith("(") and label.endswith(")"):
        label = label[1:-1]                   # a side line of the text: `  (RSS of ...)`
    rec = {"case": _case, "label": label, "median": median, "unit": unit, "n": 1}
    rec.update((k, v) for k, v in fields.items() if v is not None)
    if "target" in rec:
        rec["verdict"] = "met" if median <= rec["target"] else "NOT met"
    RECORDS.append(rec)
