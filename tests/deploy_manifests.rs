//! Checks of what ships beside the binary: the Kubernetes manifests, the Dockerfile, the
//! systemd units, and the example and demo configs with their fixtures.
//!
//! These files are only exercised for real on someone's cluster or server, long after a
//! change broke them; these tests catch the breakages that can be seen from here: YAML
//! that no longer parses, probes pointing at the wrong port, a runtime image whose
//! ENTRYPOINT names a path the binary is not copied to, a unit key systemd does not know,
//! a config key the binary rejects, a demo feed linking to a file that is not there.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use newswire_core::config::{Compression, Config, ConfigError, SinkConfig, SinkKind};
use serde::Deserialize;
use serde_json::Value;

fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // Canonical, so that paths compare equal to those read back from file:// URLs.
    std::fs::canonicalize(&root).unwrap_or(root)
}

/// A config file read and checked the way the binary does it.
fn load_config(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    Config::from_text(&text, path)
}

fn read(relative: &str) -> String {
    let path = repo_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

// ------------------------------------------------------------------------------------
// Kubernetes

/// The YAML files under `dir` (recursively), sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in
            std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn is_kustomization(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n == "kustomization.yaml" || n == "kustomization.yml")
}

/// The documents of one manifest file, each with the file's path under deploy/kubernetes.
fn manifest_documents(file: &Path) -> Vec<(String, Value)> {
    let root = repo_root().join("deploy/kubernetes");
    let name = file
        .strip_prefix(&root)
        .unwrap_or(file)
        .to_string_lossy()
        .into_owned();
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let mut documents = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_str(&text) {
        let value =
            Value::deserialize(document).unwrap_or_else(|e| panic!("{name}: not valid YAML: {e}"));
        if !value.is_null() {
            documents.push((name.clone(), value));
        }
    }
    documents
}

/// Every document of every single-node manifest under deploy/kubernetes (kustomization
/// files and the scaled-out `cluster/` variant aside), with its file name.
fn kubernetes_documents() -> Vec<(String, Value)> {
    let dir = repo_root().join("deploy/kubernetes");
    let cluster = dir.join("cluster");
    let files: Vec<PathBuf> = yaml_files(&dir)
        .into_iter()
        .filter(|f| !is_kustomization(f) && !f.starts_with(&cluster))
        .collect();
    assert!(!files.is_empty(), "no YAML files in {}", dir.display());
    files.iter().flat_map(|f| manifest_documents(f)).collect()
}

/// What `kubectl apply -k deploy/kubernetes/<variant>` applies: the kustomization's
/// `resources`, directories followed through their own kustomization. Also returns every
/// file it read, to check that no manifest is left out.
fn kustomize(dir: &Path, files_read: &mut BTreeSet<PathBuf>) -> Vec<(String, Value)> {
    let kustomization = dir.join("kustomization.yaml");
    let text = std::fs::read_to_string(&kustomization)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", kustomization.display()));
    let value: Value = serde_yaml_ng::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not valid YAML: {e}", kustomization.display()));
    assert_eq!(
        value["kind"],
        "Kustomization",
        "{}",
        kustomization.display()
    );
    files_read.insert(kustomization.clone());
    let mut documents = Vec::new();
    for resource in value["resources"].as_array().expect("resources list") {
        let resource = dir.join(resource.as_str().expect("resource path"));
        assert!(
            resource.exists(),
            "{}: resource {} does not exist",
            kustomization.display(),
            resource.display()
        );
        if resource.is_dir() {
            documents.extend(kustomize(&resource, files_read));
        } else {
            files_read.insert(std::fs::canonicalize(&resource).unwrap_or(resource.clone()));
            documents.extend(manifest_documents(&resource));
        }
    }
    documents
}

fn kinds_of(documents: &[(String, Value)]) -> BTreeSet<String> {
    documents
        .iter()
        .map(|(_, d)| d["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn kubernetes_variants_never_apply_the_daemon_and_the_cronjob_together() {
    let root = repo_root().join("deploy/kubernetes");
    let mut files_read = BTreeSet::new();
    let daemon = kinds_of(&kustomize(&root.join("daemon"), &mut files_read));
    let cron = kinds_of(&kustomize(&root.join("cron"), &mut files_read));
    let cluster = kinds_of(&kustomize(&root.join("cluster"), &mut files_read));
    let set =
        |kinds: &[&str]| -> BTreeSet<String> { kinds.iter().map(|k| k.to_string()).collect() };
    assert_eq!(
        daemon,
        set(&[
            "ConfigMap",
            "Deployment",
            "PersistentVolumeClaim",
            "Service"
        ])
    );
    assert_eq!(
        cron,
        set(&["ConfigMap", "CronJob", "PersistentVolumeClaim"])
    );
    // The scaled-out variant: workers (a Deployment) and the NATS cluster (a StatefulSet),
    // no volume of its own (the state is in JetStream KV) and no CronJob.
    assert!(cluster.contains("Deployment") && cluster.contains("StatefulSet"));
    assert!(!cluster.contains("CronJob") && !cluster.contains("PersistentVolumeClaim"));
    // `kubectl apply -f deploy/kubernetes/` (not recursive) must apply nothing at all.
    for file in yaml_files(&root) {
        assert_ne!(
            file.parent(),
            Some(root.as_path()),
            "{} would be applied by `kubectl apply -f deploy/kubernetes/`",
            file.display()
        );
    }
    // Every manifest belongs to a variant.
    for file in yaml_files(&root) {
        let file = std::fs::canonicalize(&file).unwrap_or(file);
        assert!(
            files_read.contains(&file) || is_kustomization(&file),
            "{} is in no kustomization",
            file.display()
        );
    }
}

/// The one document of `kind`.
fn only(kind: &str) -> Value {
    let mut matching: Vec<Value> = kubernetes_documents()
        .into_iter()
        .filter(|(_, d)| d["kind"] == kind)
        .map(|(_, d)| d)
        .collect();
    assert_eq!(matching.len(), 1, "expected exactly one {kind}");
    matching.remove(0)
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} is missing or not a string"))
}

fn container(pod_spec: &Value) -> &Value {
    let containers = pod_spec["containers"].as_array().expect("containers list");
    assert_eq!(containers.len(), 1, "one container per pod");
    &containers[0]
}

/// The container's numeric port for a probe's `port` (a number or a port name).
fn resolve_port(container: &Value, port: &Value) -> u64 {
    if let Some(number) = port.as_u64() {
        return number;
    }
    let name = port.as_str().expect("probe port is a number or a name");
    container["ports"]
        .as_array()
        .expect("container ports")
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["containerPort"].as_u64())
        .unwrap_or_else(|| panic!("probe port {name:?} is not a named container port"))
}

/// Checks shared by the Deployment's and the CronJob's pod specs.
fn assert_pod_is_locked_down(pod_spec: &Value, what: &str) {
    assert_eq!(
        pod_spec["securityContext"]["runAsNonRoot"], true,
        "{what}: runAsNonRoot"
    );
    let uid = pod_spec["securityContext"]["runAsUser"]
        .as_u64()
        .unwrap_or(0);
    assert!(uid > 0, "{what}: runAsUser must be a non-root uid");
    let c = container(pod_spec);
    let security = &c["securityContext"];
    assert_eq!(
        security["readOnlyRootFilesystem"], true,
        "{what}: readOnlyRootFilesystem"
    );
    assert_eq!(
        security["allowPrivilegeEscalation"], false,
        "{what}: allowPrivilegeEscalation"
    );
    assert_eq!(
        security["capabilities"]["drop"],
        serde_json::json!(["ALL"]),
        "{what}: drop ALL"
    );
    for key in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                c["resources"][key][resource].is_string(),
                "{what}: resources.{key}.{resource} is missing"
            );
        }
    }
    assert!(
        pod_spec["terminationGracePeriodSeconds"]
            .as_u64()
            .unwrap_or(0)
            >= 30,
        "{what}: give newswire time to drain on SIGTERM"
    );
    // The state volume is the PVC, mounted where the config puts the state.
    let claim = pvc_name();
    let volume = pod_spec["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["persistentVolumeClaim"]["claimName"] == claim.as_str())
        .unwrap_or_else(|| panic!("{what}: no volume uses the PVC {claim}"));
    let mount = c["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .find(|m| m["name"] == volume["name"])
        .unwrap_or_else(|| panic!("{what}: the PVC volume is not mounted"));
    assert_eq!(
        mount["mountPath"], "/var/lib/newswire",
        "{what}: state mount"
    );
}

fn pvc_name() -> String {
    str_at(&only("PersistentVolumeClaim"), "/metadata/name").to_string()
}

#[test]
fn kubernetes_manifests_parse_and_have_the_expected_kinds() {
    let documents = kubernetes_documents();
    let mut kinds = BTreeSet::new();
    for (file, document) in &documents {
        for key in ["/apiVersion", "/kind", "/metadata/name"] {
            assert!(
                document.pointer(key).and_then(Value::as_str).is_some(),
                "{file}: a document without {key}"
            );
        }
        kinds.insert(document["kind"].as_str().unwrap_or_default().to_string());
    }
    let expected: BTreeSet<String> = [
        "ConfigMap",
        "CronJob",
        "Deployment",
        "PersistentVolumeClaim",
        "Service",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(kinds, expected);
}

#[test]
fn cluster_variant_runs_several_workers_on_nats_state() {
    let root = repo_root().join("deploy/kubernetes/cluster");
    let documents = kustomize(&root, &mut BTreeSet::new());
    let deployment = documents
        .iter()
        .map(|(_, d)| d)
        .find(|d| d["kind"] == "Deployment")
        .expect("a Deployment of workers");
    let replicas = deployment
        .pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    assert!(
        replicas >= 2,
        "the cluster variant runs several workers, not {replicas}"
    );
    let config_text: String = documents
        .iter()
        .filter(|(_, d)| d["kind"] == "ConfigMap")
        .filter_map(|(_, d)| d.pointer("/data").and_then(Value::as_object))
        .flat_map(|data| data.values().filter_map(Value::as_str))
        .filter(|text| text.contains("[state]"))
        .collect();
    assert!(
        config_text.contains("nats://") && config_text.contains("[cluster]"),
        "the workers' config keeps its state in NATS and has a [cluster] section"
    );
}

#[test]
fn deployment_is_a_single_writer_with_probes_on_the_metrics_port() {
    let deployment = only("Deployment");
    assert_eq!(
        deployment["spec"]["replicas"], 1,
        "SQLite state: one writer"
    );
    assert_eq!(
        str_at(&deployment, "/spec/strategy/type"),
        "Recreate",
        "a rolling update would run two pods on one state"
    );
    let template = &deployment["spec"]["template"];
    let annotations = &template["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/scrape"], "true");
    assert_eq!(annotations["prometheus.io/port"], "9464");
    let pod_spec = &template["spec"];
    assert_pod_is_locked_down(pod_spec, "Deployment");

    let c = container(pod_spec);
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let get = &c[probe]["httpGet"];
        assert_eq!(get["path"], path, "{probe} path");
        assert_eq!(resolve_port(c, &get["port"]), 9464, "{probe} port");
    }
    let args: Vec<&str> = c["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(args.first(), Some(&"run"));
    assert!(!args.contains(&"--once"), "the Deployment is the daemon");

    // The Service selects the daemon's pods and exposes the same port.
    let service = only("Service");
    for (key, value) in service["spec"]["selector"].as_object().expect("selector") {
        assert_eq!(
            &template["metadata"]["labels"][key], value,
            "Service selector {key}"
        );
    }
}

#[test]
fn cronjob_runs_once_and_forbids_overlapping_runs() {
    let cronjob = only("CronJob");
    assert_eq!(str_at(&cronjob, "/spec/concurrencyPolicy"), "Forbid");
    let pod_spec = &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_pod_is_locked_down(pod_spec, "CronJob");
    let args: Vec<&str> = container(pod_spec)["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(args.first(), Some(&"run"));
    assert!(args.contains(&"--once"), "{args:?}");
}

#[test]
fn configmap_holds_a_valid_config_that_serves_the_probes() {
    let configmap = only("ConfigMap");
    let dir = tempfile::tempdir().expect("temp dir");
    for (key, value) in configmap["data"].as_object().expect("data") {
        std::fs::write(dir.path().join(key), value.as_str().expect("text")).expect("write");
    }
    let path = dir.path().join("newswire.toml");
    let config = load_config(&path).unwrap_or_else(|e| panic!("ConfigMap newswire.toml:\n{e}"));
    let listen = config
        .metrics
        .listen
        .as_deref()
        .expect("[metrics] listen is set");
    assert!(
        listen.ends_with(":9464"),
        "metrics listen {listen:?} must match the probe port"
    );
    assert!(
        config.state_location().starts_with("/var/lib/newswire/"),
        "state must live on the PVC"
    );
    if let Some(opml) = &config.feeds_opml {
        let opml_path = config.resolve_path(opml.get_ref());
        let text = std::fs::read_to_string(&opml_path).expect("the OPML is in the ConfigMap too");
        let feeds = newswire_fetcher::parse_opml(&text, "feeds.opml").expect("valid OPML");
        assert!(!feeds.is_empty());
    }
    // The pods read the config where the ConfigMap is mounted.
    let deployment = only("Deployment");
    let c = container(&deployment["spec"]["template"]["spec"]);
    let args: Vec<&str> = c["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        args.windows(2)
            .any(|w| w == ["--config", "/etc/newswire/newswire.toml"]),
        "{args:?}"
    );
}

// ------------------------------------------------------------------------------------
// Dockerfile

/// The Dockerfile's instructions, continuation lines joined, comments dropped, split into
/// stages at each FROM.
fn dockerfile_stages() -> Vec<Vec<(String, String)>> {
    let text = read("deploy/docker/Dockerfile");
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(continued) = trimmed.strip_suffix('\\') {
            current.push_str(continued);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        instructions.push(std::mem::take(&mut current));
    }
    let mut stages: Vec<Vec<(String, String)>> = Vec::new();
    for instruction in instructions {
        let (keyword, rest) = instruction
            .split_once(char::is_whitespace)
            .unwrap_or((&instruction, ""));
        let keyword = keyword.to_ascii_uppercase();
        if keyword == "FROM" {
            stages.push(Vec::new());
        }
        let stage = stages.last_mut().expect("the Dockerfile starts with FROM");
        stage.push((keyword, rest.trim().to_string()));
    }
    stages
}

#[test]
fn dockerfile_runtime_stage_runs_the_copied_binary_as_a_created_non_root_user() {
    let stages = dockerfile_stages();
    assert!(stages.len() >= 2, "multi-stage build expected");
    let builder = &stages[0];
    assert!(
        builder.iter().any(|(k, v)| k == "RUN"
            && v.contains("cargo build")
            && v.contains("--release")
            && v.contains("--locked")),
        "the builder runs cargo build --release --locked"
    );
    let runtime = stages.last().expect("runtime stage");
    let find = |keyword: &str| -> Vec<&String> {
        runtime
            .iter()
            .filter(|(k, _)| k == keyword)
            .map(|(_, v)| v)
            .collect()
    };

    let entrypoint = find("ENTRYPOINT");
    assert_eq!(entrypoint.len(), 1, "one ENTRYPOINT");
    let entrypoint: Vec<String> =
        serde_json::from_str(entrypoint[0]).expect("ENTRYPOINT in exec (JSON) form");
    let binary = entrypoint.first().expect("ENTRYPOINT names the binary");
    let copies_binary = find("COPY").iter().any(|args| {
        let parts: Vec<&str> = args.split_whitespace().collect();
        parts.iter().any(|p| p.starts_with("--from=")) && parts.last() == Some(&binary.as_str())
    });
    assert!(
        copies_binary,
        "the runtime stage must COPY --from=<builder> … {binary}"
    );

    let users = find("USER");
    let user = users.last().expect("the runtime stage switches USER");
    let user_name = user.split(':').next().unwrap_or_default();
    assert!(
        !matches!(user_name, "" | "root" | "0"),
        "USER {user} is root"
    );
    let creates_user = find("RUN").iter().any(|run| {
        (run.contains("useradd") || run.contains("adduser"))
            && (run.contains(&format!("--uid {user_name}"))
                || run.split_whitespace().any(|w| w == user_name))
    });
    assert!(
        creates_user,
        "USER {user} is not created in the runtime stage"
    );

    assert!(
        find("EXPOSE")
            .iter()
            .any(|v| v.split_whitespace().any(|p| p == "9464")),
        "EXPOSE 9464"
    );
    assert!(
        find("VOLUME")
            .iter()
            .any(|v| v.contains("/var/lib/newswire")),
        "VOLUME for the state"
    );
    let cmd: Vec<String> =
        serde_json::from_str(find("CMD").last().expect("CMD")).expect("CMD in JSON form");
    assert_eq!(cmd.first().map(String::as_str), Some("run"));
    // Files copied from the build context must exist in the repository.
    for args in find("COPY") {
        if args.contains("--from=") {
            continue;
        }
        let parts: Vec<&str> = args.split_whitespace().collect();
        for source in &parts[..parts.len() - 1] {
            assert!(
                repo_root().join(source).exists(),
                "COPY source {source} is not in the repository"
            );
        }
    }
}

// ------------------------------------------------------------------------------------
// systemd

const UNITS: [&str; 3] = [
    "newswire.service",
    "newswire-once.service",
    "newswire-once.timer",
];

/// `key -> values` of a unit file (keys may repeat).
fn unit_keys(name: &str) -> HashMap<String, Vec<String>> {
    let mut keys: HashMap<String, Vec<String>> = HashMap::new();
    for line in read(&format!("deploy/systemd/{name}")).lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with('[') {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            keys.entry(key.trim().to_string())
                .or_default()
                .push(value.trim().to_string());
        }
    }
    keys
}

/// Seconds of a systemd time span written as `90`, `90s` or `2min` (the forms these
/// units use; systemd accepts more).
fn seconds(span: &str) -> u64 {
    let parse = |n: &str| {
        n.trim()
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("time span {span:?}"))
    };
    if let Some(minutes) = span.strip_suffix("min") {
        parse(minutes) * 60
    } else {
        parse(span.strip_suffix('s').unwrap_or(span))
    }
}

const HARDENING: &[&str] = &[
    "ProtectSystem",
    "ProtectHome",
    "PrivateTmp",
    "NoNewPrivileges",
    "CapabilityBoundingSet",
    "RestrictAddressFamilies",
    "SystemCallFilter",
    "MemoryDenyWriteExecute",
    "LockPersonality",
    "RestrictNamespaces",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectControlGroups",
    "StateDirectory",
    "ConfigurationDirectory",
];

#[test]
fn systemd_units_are_hardened() {
    for name in ["newswire.service", "newswire-once.service"] {
        let keys = unit_keys(name);
        for key in HARDENING {
            assert!(keys.contains_key(*key), "{name}: {key} missing");
        }
        assert!(
            keys.contains_key("DynamicUser") || keys.contains_key("User"),
            "{name}: runs as root"
        );
        assert_eq!(
            keys["CapabilityBoundingSet"],
            [""],
            "{name}: no capabilities"
        );
        assert_eq!(
            keys["RestrictAddressFamilies"],
            ["AF_INET AF_INET6 AF_UNIX"],
            "{name}"
        );
        assert!(
            keys["SystemCallFilter"]
                .iter()
                .any(|v| v == "@system-service"),
            "{name}"
        );
    }
    let daemon = unit_keys("newswire.service");
    assert_eq!(daemon["Type"], ["notify"]);
    assert!(daemon.contains_key("WatchdogSec"));
    assert_eq!(daemon["ExecReload"], ["/bin/kill -HUP $MAINPID"]);
    assert_eq!(daemon["Restart"], ["on-failure"]);
    assert!(daemon["ExecStart"][0].starts_with("/usr/local/bin/newswire run "));
    assert!(!daemon["ExecStart"][0].contains("--once"));
    let stop = &daemon["TimeoutStopSec"][0];
    assert!(
        seconds(stop) >= 30,
        "TimeoutStopSec={stop} leaves no time to drain"
    );

    let once = unit_keys("newswire-once.service");
    assert_eq!(once["Type"], ["oneshot"]);
    assert!(once["ExecStart"][0].contains("--once"));
    assert!(
        once["SuccessExitStatus"]
            .iter()
            .any(|v| v.split_whitespace().any(|c| c == "75"))
    );
    let timer = unit_keys("newswire-once.timer");
    assert_eq!(timer["Unit"], ["newswire-once.service"]);
    assert!(timer.contains_key("OnCalendar"));
}

/// `systemd-analyze verify` on the units, with ExecStart pointing at the binary built for
/// this test run (verify refuses a unit whose ExecStart binary does not exist).
#[test]
fn systemd_units_pass_systemd_analyze_verify() {
    let works = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|version| version.status.success());
    if !common::require(
        "systemd_units_pass_systemd_analyze_verify",
        "systemd-analyze is not installed or does not run",
        works,
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let binary = dir.path().join("newswire");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_newswire"), &binary).expect("symlink binary");
    let mut paths = Vec::new();
    for name in UNITS {
        let text = read(&format!("deploy/systemd/{name}"))
            .replace("/usr/local/bin/newswire", &binary.to_string_lossy());
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write unit");
        paths.push(path);
    }
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .args(&paths)
        .output()
        .expect("run systemd-analyze verify");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // verify exits 0 on unknown keys (it only warns), so read what it says about our files.
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|line| UNITS.iter().any(|unit| line.contains(unit)))
        .collect();
    assert!(
        output.status.success(),
        "systemd-analyze verify failed:\n{stderr}"
    );
    assert!(
        ours.is_empty(),
        "systemd-analyze verify complains:\n{}",
        ours.join("\n")
    );

    // The exposure score (0 = locked down, 10 = none) where this systemd can compute it
    // offline (systemd 250 and later).
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&paths[0])
        .output()
        .expect("run systemd-analyze security");
    let report = String::from_utf8_lossy(&security.stdout);
    match report.lines().find_map(|l| {
        l.split("Overall exposure level for newswire.service:")
            .nth(1)
    }) {
        Some(rest) => {
            let score: f64 = rest
                .split_whitespace()
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("unexpected security line: {rest}"));
            eprintln!("newswire.service exposure level: {score}");
            assert!(
                score <= 2.5,
                "newswire.service exposure level {score} (was 1.5 when written)"
            );
        }
        None => {
            common::require(
                "systemd_units_pass_systemd_analyze_verify (exposure check)",
                &format!(
                    "systemd-analyze security --offline is unsupported here ({})",
                    String::from_utf8_lossy(&security.stderr).trim()
                ),
                false,
            );
        }
    }
}

// ------------------------------------------------------------------------------------
// Configs and the demo

#[test]
fn example_config_loads_with_its_opml() {
    let path = repo_root().join("config/example.toml");
    let config = load_config(&path).unwrap_or_else(|e| panic!("config/example.toml:\n{e}"));
    assert!(config.feeds.len() >= 10, "{} feeds", config.feeds.len());
    let jsonl = config
        .sinks
        .iter()
        .find_map(|s| match s {
            SinkConfig::Jsonl(jsonl) => Some(jsonl),
            _ => None,
        })
        .expect("a jsonl sink");
    assert_eq!(jsonl.compress, Some(Compression::Zstd));
    assert!(jsonl.rotate_bytes.is_some() && jsonl.rotate_interval.is_some());
    let opml = config.feeds_opml.as_ref().expect("feeds_opml is set");
    let opml_path = config.resolve_path(opml.get_ref());
    let text = std::fs::read_to_string(&opml_path)
        .unwrap_or_else(|e| panic!("{}: {e}", opml_path.display()));
    let listed = newswire_fetcher::parse_opml(&text, "config/feeds.opml").expect("valid OPML");
    assert!(listed.len() >= 10, "{} OPML feeds", listed.len());
    assert!(
        listed.iter().all(|f| !f.categories.is_empty()),
        "every OPML feed sits in a folder"
    );
    let in_toml: BTreeSet<String> = config
        .feeds
        .iter()
        .map(|f| f.url.get_ref().clone())
        .collect();
    for feed in &listed {
        assert!(
            !in_toml.contains(&feed.url),
            "{} is listed in both",
            feed.url
        );
    }
}

#[test]
fn demo_config_loads_and_every_feed_and_article_file_exists() {
    let path = repo_root().join("config/demo.toml");
    let config = load_config(&path).unwrap_or_else(|e| panic!("config/demo.toml:\n{e}"));
    assert_eq!(config.state.path, ":memory:");
    assert!(config.sinks.iter().all(|s| s.kind() == SinkKind::Stdout));
    let mut articles = BTreeSet::new();
    for feed in &config.feeds {
        let url = config.feed_url(feed.url.get_ref()).expect("feed url");
        assert_eq!(
            url.scheme(),
            "file",
            "the demo must not touch the network: {url}"
        );
        let file = url.to_file_path().expect("file path");
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let parsed = newswire_fetcher::parse_feed(&bytes, None, &url)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!parsed.entries.is_empty(), "{}: no entries", file.display());
        let feed_dir = file.parent().expect("feed directory");
        for entry in &parsed.entries {
            let link = entry
                .link
                .as_ref()
                .unwrap_or_else(|| panic!("{}: entry without link", file.display()));
            let target = link.to_file_path().expect("file link");
            assert!(
                target.starts_with(feed_dir),
                "{link} leaves the feed's directory"
            );
            assert!(target.is_file(), "{link} does not exist");
            articles.insert(target);
        }
    }
    let pages = articles
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .count();
    assert!(pages >= 14, "{pages} distinct demo pages");
}

/// The cases config/demo/README.md promises, checked on the fixtures themselves.
#[test]
fn demo_fixtures_hold_the_promised_cases() {
    let demo = repo_root().join("config/demo");
    // One article, linked plain from the RSS feed and with tracking parameters from Atom.
    let rss = std::fs::read_to_string(demo.join("tarn-valley-herald/feed.xml")).expect("rss");
    let atom = std::fs::read_to_string(demo.join("tarn-valley-herald/feed.atom")).expect("atom");
    assert!(rss.contains("<link>articles/bridge-closure.html</link>"));
    assert!(atom.contains("articles/bridge-closure.html?utm_source=rss&amp;utm_medium=feed"));

    // The syndicated copy is a near-duplicate of the wire story; the independently
    // written piece on the same incident is not.
    let text = |relative: &str| {
        let html = std::fs::read_to_string(demo.join(relative)).expect("page");
        let hints = newswire_extractor::FeedHints::default();
        newswire_extractor::extract(&html, None, &hints).text
    };
    let fingerprint = |relative: &str| {
        let text = text(relative);
        (
            newswire_core::fingerprint::word_count(&text),
            newswire_core::fingerprint::Fingerprint::of(&text),
        )
    };
    let (_, wire) = fingerprint("meridian-wire/articles/brenik-incursion.html");
    let (copy_words, copy) =
        fingerprint("tarn-valley-herald/articles/monitors-accuse-karsova.html");
    let (own_words, own) = fingerprint("tarn-valley-herald/articles/brenik-families.html");
    let rule = newswire_core::near_dup::Rule::from(&newswire_core::config::DedupConfig::default());
    let known = [newswire_core::near_dup::Candidate {
        id: "wire".into(),
        simhash: wire.simhash,
        minhash: Some(wire.minhash.clone()),
        published_at: None,
    }];
    let decide = |words, fp: &newswire_core::fingerprint::Fingerprint| {
        rule.decide("page", words, fp, None, &known)
    };
    assert!(
        matches!(
            decide(copy_words, &copy),
            newswire_core::near_dup::Decision::CopyOf(_)
        ),
        "syndicated copy: {} bits apart, {:?}",
        wire.simhash.distance(copy.simhash),
        wire.minhash.similarity(&copy.minhash)
    );
    assert_eq!(
        decide(own_words, &own),
        newswire_core::near_dup::Decision::Original,
        "independent story: {} bits apart, {:?}",
        wire.simhash.distance(own.simhash),
        wire.minhash.similarity(&own.minhash)
    );

    // A page without any date: the feed's dc:date is the only source.
    let undated =
        std::fs::read_to_string(demo.join("drossener-tageblatt/articles/haushaltsdebatte.html"))
            .expect("page");
    for marker in [
        "datePublished",
        "published_time",
        "datetime=",
        "DC.date",
        "2026-11",
    ] {
        assert!(
            !undated.contains(marker),
            "haushaltsdebatte.html has a date ({marker})"
        );
    }
    // The PDF is a PDF.
    let pdf = std::fs::read(demo.join("tarn-valley-herald/articles/report.pdf")).expect("pdf");
    assert!(pdf.starts_with(b"%PDF-1.") && pdf.ends_with(b"%%EOF\n"));
}
