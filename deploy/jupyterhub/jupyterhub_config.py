"""JupyterHub for a class taking cnn-course on one machine: `make hub` (as root) starts it.

* Logins are the machine's Unix accounts (PAM). Only members of the students' and the instructors'
  Unix groups may log in (course_hub.py: CNN_HUB_STUDENTS, CNN_HUB_INSTRUCTORS).
* Each user's JupyterLab runs as that user (LocalProcessSpawner) from the course's .venv, in their
  home (made private, 0700, at each start), with the `cnn-course` kernel, nbgrader's Assignments tab
  and nbgitpuller. Students get no formgrader, course list nor "create assignment"; an instructor gets
  them, on their own course folder ~/cnn-course.
* nbgrader's exchange is one shared folder (CNN_HUB_EXCHANGE, /srv/nbgrader/exchange): the users'
  nbgrader_config.py (jupyter/<role>/, found through JUPYTER_CONFIG_PATH) reads it from the
  environment this file gives every server, so the hub and nbgrader always agree on it.
* Instructors grade in ~/cnn-course, as themselves: `nbgrader autograde` there and the formgrader's
  Autograde button both run every submission in the course's sandbox (nbgrader_config.py).
* The course repository itself is closed to the users except what their servers run (course_hub.SHARED):
  its source/, .git and tests/ hold every solution and hidden test.
* The proxy is configurable-http-proxy from npm (deploy/jupyterhub/node_modules, `npm ci` here).
Everything listens on 127.0.0.1: put a TLS reverse proxy (nginx, caddy) in front for a real class.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course_hub as hub

c = get_config()  # noqa: F821  (injected by traitlets)

hub.close_repository()
hub.check_reachable()
hub.ensure_exchange()
hub.STATE.mkdir(parents=True, exist_ok=True)
hub.STATE.chmod(0o700)  # the database and the cookie secret

# --- network: everything on 127.0.0.1 ---------------------------------------------------------------
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = hub.PORT
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = hub.API_PORT
c.ConfigurableHTTPProxy.command = [str(hub.PROXY)]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{hub.API_PORT + 1}"
c.ConfigurableHTTPProxy.pid_file = str(hub.STATE / "proxy.pid")
c.ConfigurableHTTPProxy.should_start = True
c.JupyterHub.db_url = f"sqlite:///{hub.STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(hub.STATE / "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user's server

# --- who may log in ------------------------------------------------------------------------------------
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {hub.STUDENTS, hub.INSTRUCTORS}
c.PAMAuthenticator.open_sessions = False  # no systemd/logind session per server

# --- each user's server ----------------------------------------------------------------------------------
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [str(hub.prepare_users_bin() / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120  # a class logging in at once, on few cores
c.Spawner.http_timeout = 120


def _pre_spawn(spawner):
    """The user's environment for their role, and a private home."""
    name = spawner.user.name
    spawner.environment = {**spawner.environment, **hub.user_environment(name)}
    hub.make_private(Path(os.path.expanduser(f"~{name}")))


c.Spawner.pre_spawn_hook = _pre_spawn

# --- servers left idle are stopped (their work is saved in the home; a login starts them again) --------
try:
    import jupyterhub_idle_culler  # noqa: F401
except ImportError:
    pass
else:
    c.JupyterHub.load_roles = [
        {
            "name": "idle-culler",
            "services": ["idle-culler"],
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        }
    ]
    c.JupyterHub.services = [
        {
            "name": "idle-culler",
            "command": [
                sys.executable,
                "-m",
                "jupyterhub_idle_culler",
                f"--timeout={os.environ.get('CNN_HUB_IDLE_TIMEOUT', '3600')}",
            ],
        }
    ]
