"""Prints torchrun's variables and the script's arguments; exits with argv[1] when it is a number."""
import os
import sys

print("rank", os.environ["RANK"], "local", os.environ["LOCAL_RANK"], "world", os.environ["WORLD_SIZE"],
      "local_world", os.environ["LOCAL_WORLD_SIZE"], "master", os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"],
      "argv", " ".join(sys.argv[1:]), flush=True)
if sys.argv[1:] and sys.argv[1].isdigit():
    sys.exit(int(sys.argv[1]))
