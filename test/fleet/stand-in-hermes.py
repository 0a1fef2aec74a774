#!/usr/bin/python3
"""Stand-in for the hermes-agent CLI on test hosts (installed as /opt/hermes/bin/hermes).

`hermes gateway` fails at start-up where the real gateway fails when a deployer got something
wrong (managed mode without its directories, an unreadable .env or config.yaml), then records what
it saw in $HERMES_HOME/standin-record.json and stays up, so tests can check that the service ran
as the right user and read back exactly the values that were deployed.
"""

import datetime
import hashlib
import json
import os
import pwd
import signal
import sys

VERSION = "hermes-agent 0.0.0-standin"
MANAGED_DIRS = ("cron", "sessions", "logs", "memories")


def fail(message):
    print(f"hermes: error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hermes_home():
    home = os.environ.get("HERMES_HOME")
    if home:
        return home
    return os.path.join(os.path.expanduser("~"), ".hermes")


def check_dirs(home, managed):
    if managed:
        # Managed deployments own these directories; the gateway must not paper over a broken
        # deploy by creating them.
        if not os.environ.get("HERMES_HOME"):
            fail("HERMES_MANAGED is set but HERMES_HOME is not")
        for path in (home, *(os.path.join(home, d) for d in MANAGED_DIRS)):
            if not os.path.isdir(path):
                fail(f"managed mode: required directory {path} is missing")
    else:
        for d in MANAGED_DIRS:
            os.makedirs(os.path.join(home, d), exist_ok=True)


def load_env(home):
    from dotenv import dotenv_values

    path = os.path.join(home, ".env")
    if not os.path.exists(path):
        return {}
    try:
        return dict(dotenv_values(path))
    except (OSError, UnicodeDecodeError) as e:
        fail(f"cannot read {path}: {e}")


def load_config(home):
    import yaml

    path = os.path.join(home, "config.yaml")
    if not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            config = yaml.safe_load(f)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        fail(f"cannot load {path}: {e}")
    if config is None:
        return {}
    if not isinstance(config, dict):
        fail(f"{path} must hold a mapping, not {type(config).__name__}")
    return config


def write_atomically(path, text):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def gateway(args):
    managed = os.environ.get("HERMES_MANAGED")
    home = hermes_home()
    check_dirs(home, bool(managed))
    env = load_env(home)
    config = load_config(home)
    config_json = json.dumps(config, sort_keys=True, default=str)
    uid, gid = os.getuid(), os.getgid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = None
    record = {
        "user": user,
        "uid": uid,
        "gid": gid,
        "groups": sorted(os.getgroups()),
        "hermes_home": os.environ.get("HERMES_HOME"),
        "hermes_managed": managed,
        "messaging_cwd": os.environ.get("MESSAGING_CWD"),
        "home": os.environ.get("HOME"),
        "cwd": os.getcwd(),
        "argv": sys.argv,
        "args": args,
        "env": {k: None if v is None else sha256(v) for k, v in env.items()},
        "process_env_names": sorted(os.environ),
        "config_sha256": sha256(config_json),
        "config": json.loads(config_json),
        "started_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "pid": os.getpid(),
    }
    try:
        write_atomically(os.path.join(home, "standin-record.json"), json.dumps(record, indent=2))
    except OSError as e:
        fail(f"cannot write {os.path.join(home, 'standin-record.json')}: {e}")
    if env.get("HERMES_STANDIN_FAIL") == "1":
        fail("HERMES_STANDIN_FAIL=1 in .env: failing on purpose after recording")
    print(f"hermes gateway (stand-in) running as {user}, HERMES_HOME={home}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: hermes --version | hermes gateway [run] [--replace] [args...]")
        return 0 if argv else 2
    if argv[0] in ("--version", "version"):
        print(VERSION)
        return 0
    if argv[0] == "gateway":
        gateway(argv[1:])
        return 0
    print(f"hermes: unknown command {argv[0]!r} (this is the test stand-in)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
