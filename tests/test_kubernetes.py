"""deploy/kubernetes/ offline: every YAML parses into the objects it should be, the Helm values use only
the Zero to JupyterHub keys they mean to, and the single-user image is built from environment.yml
(same Python, the same requirements, torch from the CPU wheels, the course installed and its kernel)."""

from __future__ import annotations

import re
import sys

import yaml
from packaging.requirements import Requirement

from conftest import ROOT

K8S = ROOT / "deploy" / "kubernetes"
sys.path.insert(0, str(K8S))

from requirements_from_env import python_version, requirements  # noqa: E402


def _docs(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


def test_values_are_zero_to_jupyterhub_values_for_the_course():
    values = _docs("values.yaml")[0]
    assert set(values) <= {"hub", "proxy", "singleuser", "scheduling", "cull", "prePuller", "ingress", "debug"}
    single = values["singleuser"]
    assert single["image"]["name"].endswith("cnn-course-singleuser")
    assert single["defaultUrl"] == "/lab" and single["cmd"] == "jupyterhub-singleuser"
    # the exchange on the shared RWX claim, where the users' nbgrader config looks for it
    mount = single["storage"]["extraVolumeMounts"][0]
    claim = next(v for v in single["storage"]["extraVolumes"] if v["name"] == mount["name"])
    assert claim["persistentVolumeClaim"]["claimName"] == "cnn-course-exchange"
    assert mount["mountPath"] == single["extraEnv"]["CNN_COURSE_EXCHANGE"] == "/srv/nbgrader/exchange"
    # memory: a guarantee and a larger limit, both parse as quantities
    mem = single["memory"]
    assert re.fullmatch(r"\d+[MG]", mem["guarantee"]) and re.fullmatch(r"\d+[MG]", mem["limit"])
    assert values["cull"]["enabled"] and values["cull"]["timeout"] > 0
    # distinct uids per user in the hub's extra config (the exchange's privacy rests on them)
    extra = values["hub"]["extraConfig"]["cnn-course"]
    compile(extra, "extraConfig", "exec")
    assert "c.KubeSpawner.uid" in extra


def test_exchange_claim_is_read_write_many_and_grading_jobs_are_indexed_and_sandboxed():
    claim, init = _docs("exchange-pvc.yaml")
    assert claim["kind"] == "PersistentVolumeClaim" and claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["metadata"]["name"] == "cnn-course-exchange"
    assert "chmod 1777" in " ".join(init["spec"]["template"]["spec"]["containers"][0]["command"])
    job, policy = _docs("grading-job.yaml")
    assert job["kind"] == "Job" and job["spec"]["completionMode"] == "Indexed"
    pod = job["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["runAsUser"] != 0
    script = pod["containers"][0]["args"][0]
    assert "nbgrader autograde" in script and "JOB_COMPLETION_INDEX" in script
    assert "CNN_COURSE_NO_SANDBOX" not in (K8S / "grading-job.yaml").read_text()
    assert policy["kind"] == "NetworkPolicy" and policy["spec"]["ingress"] == []


def test_the_image_is_built_from_environment_yml():
    dockerfile = (K8S / "Dockerfile").read_text()
    env_yml = ROOT / "environment.yml"
    base = re.search(r"^FROM python:(\d+\.\d+)[-.\w]*$", dockerfile, re.M)
    assert base and base.group(1) == python_version(str(env_yml)), "the image's Python is not environment.yml's"
    reqs = requirements(str(env_yml))
    assert {Requirement(r).name for r in reqs} >= {"torch", "nbgrader", "jupyterlab", "ipywidgets"}
    # the image installs environment.yml's requirements (all but torch) with the exact versions...
    assert "requirements_from_env.py environment.yml" in dockerfile
    assert "-c constraints.txt -r /tmp/requirements.txt" in dockerfile
    # ...and torch as the CPU wheel at constraints.txt's version
    pin = re.search(r"^torch==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M).group(1)
    assert f'"torch=={pin}"' in dockerfile and "download.pytorch.org/whl/cpu" in dockerfile
    torch = next(Requirement(r) for r in reqs if r.startswith("torch"))
    assert pin in torch.specifier
    assert "ipykernel install --sys-prefix --name cnn-course" in dockerfile
    assert re.search(r"^COPY source", dockerfile, re.M) is None, "source/ (solutions) must stay out of the image"
    for line in re.findall(r"^COPY (\S+)", dockerfile, re.M):
        assert (ROOT / line).exists(), f"the Dockerfile copies {line}, which the repository lacks"
