from poetbench.cli import main

main()
