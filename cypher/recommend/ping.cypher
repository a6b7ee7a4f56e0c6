// One round trip and nothing else (health checks, latency baseline).
RETURN 1 AS ok
