//! The engine's purity is a dependency wall: no async runtime, network or disk crate may reach
//! it, directly or through another crate. This walks the workspace's `Cargo.lock` from
//! `strat-engine` (every kind of dependency, every target: stricter than one build) and fails
//! on the first forbidden crate, naming the path that brought it in.
#![allow(clippy::disallowed_methods)] // reads the lock file

use std::collections::{BTreeMap, BTreeSet};

/// Crates that would give the engine a network, a disk store or an async runtime.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "mio",
    "reqwest",
    "hyper",
    "hyper-util",
    "h2",
    "rustls",
    "socket2",
    "redb",
    "sled",
    "rusqlite",
    "postgres",
    "sqlx",
    "axum",
    "tower",
    "async-std",
    "smol",
];

/// Each package of the lock file with the names of what it depends on.
fn lock_graph(lock: &str) -> BTreeMap<String, Vec<String>> {
    let mut graph = BTreeMap::new();
    for package in lock.split("[[package]]").skip(1) {
        let mut name = None;
        let mut deps = Vec::new();
        let mut in_deps = false;
        for line in package.lines().map(str::trim) {
            if let Some(v) = line.strip_prefix("name = ") {
                name = Some(v.trim_matches('"').to_string());
            } else if let Some(rest) = line.strip_prefix("dependencies = [") {
                in_deps = !rest.ends_with(']');
                deps.extend(rest.trim_end_matches(']').split(',').filter_map(dep_name));
            } else if in_deps && line == "]" {
                in_deps = false;
            } else if in_deps {
                deps.extend(dep_name(line));
            }
        }
        if let Some(name) = name {
            graph.entry(name).or_insert_with(Vec::new).extend(deps);
        }
    }
    graph
}

/// The crate an entry names: `"name"`, `"name version"` or `"name version (source)"`.
fn dep_name(entry: &str) -> Option<String> {
    let entry = entry.trim().trim_end_matches(',').trim_matches('"');
    entry.split(' ').next().filter(|n| !n.is_empty()).map(str::to_string)
}

/// The path from `root` to every crate it reaches, breadth first.
fn reached(graph: &BTreeMap<String, Vec<String>>, root: &str) -> BTreeMap<String, Vec<String>> {
    let mut paths = BTreeMap::from([(root.to_string(), vec![root.to_string()])]);
    let mut queue = std::collections::VecDeque::from([root.to_string()]);
    while let Some(at) = queue.pop_front() {
        let path = paths[&at].clone();
        for dep in graph.get(&at).into_iter().flatten() {
            if !paths.contains_key(dep) {
                let mut p = path.clone();
                p.push(dep.clone());
                paths.insert(dep.clone(), p);
                queue.push_back(dep.clone());
            }
        }
    }
    paths
}

#[test]
fn the_engine_reaches_no_network_disk_or_async_crate() {
    let lock_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock");
    let lock = std::fs::read_to_string(lock_path).expect("the workspace's Cargo.lock");
    let graph = lock_graph(&lock);
    assert!(graph.contains_key("strat-engine"), "strat-engine is not in {lock_path}");
    let paths = reached(&graph, "strat-engine");
    let bad: BTreeSet<String> = FORBIDDEN.iter().filter_map(|f| paths.get(*f)).map(|p| p.join(" -> ")).collect();
    assert!(bad.is_empty(), "the engine must not depend on these: {bad:#?}");
}

#[test]
fn the_lock_walk_finds_a_forbidden_crate_behind_another() {
    let lock = r#"
[[package]]
name = "strat-engine"
dependencies = [
 "serde",
 "helper 1.0.0",
]

[[package]]
name = "helper"
dependencies = ["tokio 1.47.0 (registry+https://example.invalid)"]

[[package]]
name = "tokio"
"#;
    let paths = reached(&lock_graph(lock), "strat-engine");
    assert_eq!(paths.get("tokio").map(|p| p.join(" -> ")).as_deref(), Some("strat-engine -> helper -> tokio"));
    assert!(paths.contains_key("serde"));
}
