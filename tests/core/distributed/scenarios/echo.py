"""Prints torchrun's variables and the script's arguments; exits with argv[1] when it is a number."""
import os
import sys

# One write per line: both ranks share mpiexec's stdout, and print() with several arguments writes each
# piece separately when output is unbuffered, so the ranks' lines could interleave mid-line.
line = " ".join(["rank", os.environ["RANK"], "local", os.environ["LOCAL_RANK"], "world", os.environ["WORLD_SIZE"],
                 "local_world", os.environ["LOCAL_WORLD_SIZE"], "master", os.environ["MASTER_ADDR"],
                 os.environ["MASTER_PORT"], "argv", *sys.argv[1:]])
sys.stdout.write(line + "\n")
sys.stdout.flush()
if sys.argv[1:] and sys.argv[1].isdigit():
    sys.exit(int(sys.argv[1]))
