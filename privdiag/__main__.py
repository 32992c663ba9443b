from privdiag.cli import main

main()
