"""Ignores the signal named argv[1] (SIGTERM, SIGINT...), then sleeps 300 s, quietly."""
import signal
import sys
import time

signal.signal(getattr(signal, sys.argv[1]), signal.SIG_IGN)
time.sleep(300)
