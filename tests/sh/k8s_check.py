#!/usr/bin/env python3
"""k8s_check.py FLEET.yaml TMPDIR -- the rendered deploy/kubernetes fleet
keeps its promises (see tests/sh/test_kubernetes.sh).  Prints TAP-style
"ok"/"not ok" lines; exit 1 on any failure."""
import sys

import yaml

fleet = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
byname = {(d["kind"], d["metadata"]["name"]): d for d in fleet}
failed = False


def check(cond, what):
    global failed
    print(("ok - " if cond else "not ok - ") + what)
    failed |= not cond


cronjobs = [d for d in fleet if d["kind"] == "CronJob"]
check(len(cronjobs) >= 2, "%d CronJobs, one per shard" % len(cronjobs))
for cj in cronjobs:
    name = cj["metadata"]["name"]
    spec = cj["spec"]
    pod = spec["jobTemplate"]["spec"]["template"]
    ps = pod["spec"]
    check(spec.get("concurrencyPolicy") == "Forbid",
          name + ": concurrencyPolicy Forbid")
    check(pod["metadata"]["labels"].get("azure.workload.identity/use") == "true",
          name + ": pod labelled azure.workload.identity/use")
    sa = byname.get(("ServiceAccount", ps.get("serviceAccountName", "")))
    check(sa is not None and
          sa["metadata"].get("annotations", {}).get("azure.workload.identity/client-id"),
          name + ": its ServiceAccount carries azure.workload.identity/client-id")
    sc = ps.get("securityContext", {})
    check(sc.get("runAsNonRoot") is True and sc.get("runAsUser", 0) != 0,
          name + ": runs as non-root")
    for c in ps["containers"]:
        csc = c.get("securityContext", {})
        check(csc.get("readOnlyRootFilesystem") is True and
              csc.get("allowPrivilegeEscalation") is False and
              "ALL" in csc.get("capabilities", {}).get("drop", []),
              name + "/" + c["name"] + ": read-only root, no escalation, no capabilities")
        mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
        vols = {v["name"]: v for v in ps.get("volumes", [])}
        store = [n for n, v in vols.items() if "persistentVolumeClaim" in v]
        check(len(store) == 1 and
              ("PersistentVolumeClaim",
               vols[store[0]]["persistentVolumeClaim"]["claimName"]) in byname and
              mounts.get(store[0]) == "/var/lib/aksnap",
              name + ": /var/lib/aksnap is a PersistentVolumeClaim that exists")
        cms = [v["configMap"]["name"] for v in vols.values() if "configMap" in v]
        ok_cm = len(cms) == 1 and ("ConfigMap", cms[0]) in byname
        check(ok_cm, name + ": its ConfigMap exists")
        if ok_cm:
            ini = byname[("ConfigMap", cms[0])]["data"].get("aksnap.ini", "")
            check("metrics_file = /var/lib/aksnap/" in ini and
                  "auth         = workload-identity" in ini,
                  name + ": metrics on the volume, auth = workload-identity")
sys.exit(1 if failed else 0)
