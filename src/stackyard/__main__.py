from stackyard.cli.main import main

main()
