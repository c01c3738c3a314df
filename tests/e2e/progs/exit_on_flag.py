"""Waits until the file argv[1] exists, then exits with the code argv[2]."""
import os
import sys
import time

while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
sys.exit(int(sys.argv[2]))
