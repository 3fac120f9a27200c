"""Rank 1 fails in the way argv[1] names while rank 0 waits in all_reduce (see test_collectives.py)."""
import datetime
import os
import sys
import time

mode = sys.argv[1]
if mode == "exit_before_init" and os.environ["RANK"] == "1":
    sys.exit(4)

import ember  # noqa: E402
import ember.distributed as dist  # noqa: E402

dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=2))
if dist.get_rank() == 1:
    if mode == "raise":
        raise ValueError("rank 1 fails on purpose")
    if mode == "hang":
        time.sleep(30)
dist.all_reduce(ember.ones(3))
print("reached the end")
