"""`python -m poetbench ...` (and `accelerate launch -m poetbench train ...`)."""

from poetbench.cli import main

main()
