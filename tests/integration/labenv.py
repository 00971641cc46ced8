"""The throw-away server's env file (tests/lab/README.md, DIR/env), read
by the integration scripts of this directory."""


def lab_env(path):
    """The `export NAME='VALUE'` lines of path as a dict."""
    env = {}
    with open(path) as f:
        for line in f:
            if line.startswith("export "):
                k, v = line[7:].rstrip("\n").split("=", 1)
                env[k] = v.strip("'")
    return env
