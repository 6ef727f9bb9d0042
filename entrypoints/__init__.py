"""HTTP and the command line: where requests enter and the application is wired."""
