"""Before the first paid request: the run's plan, what it requires (credentials, endpoints), live probes."""
