//! The layering rules of docs/ARCHITECTURE.md, checked on the source: the crates depend on
//! each other in one direction only (scheduler ← sim ← scenarios ← CLI), and within each
//! crate the top-level modules import each other without a cycle, so every module can be
//! read knowing only the ones below it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively, in a fixed order.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("read a source directory").map(|e| e.expect("a directory entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The top-level module a file of `src` belongs to (`world/link.rs` → `world`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("a file under src");
    let first = rel.components().next().expect("a path").as_os_str().to_string_lossy().to_string();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules a file names through `crate::` (in `use` lines and in paths).
fn crate_refs(text: &str) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let braced = after.starts_with('{');
            if braced {
                let inner = after[1..].split('}').next().unwrap_or("");
                for part in inner.split(',') {
                    let name: String = part.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if !name.is_empty() {
                        refs.insert(name);
                    }
                }
            } else if !name.is_empty() {
                refs.insert(name);
            }
            rest = after;
        }
    }
    refs
}

/// The module graph of one crate: module → the modules it uses (itself excluded).
fn module_graph(crate_dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let src = crate_dir.join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut modules = BTreeSet::new();
    for file in rust_files(&src) {
        let module = module_of(&src, &file);
        if module == "lib" || module == "main" {
            continue; // The crate root only declares and re-exports.
        }
        modules.insert(module.clone());
        let text = std::fs::read_to_string(&file).expect("read a source file");
        graph.entry(module.clone()).or_default().extend(crate_refs(&text).into_iter().filter(|m| *m != module));
    }
    // `crate::some_macro!` and re-exported names are not modules.
    for deps in graph.values_mut() {
        deps.retain(|d| modules.contains(d));
    }
    graph
}

/// A cycle in `graph`, as a path of modules, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &BTreeMap<String, BTreeSet<String>>, stack: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn modules_of_each_crate_import_each_other_without_a_cycle() {
    for krate in [".", "scheduler", "sim", "scenarios"] {
        let graph = module_graph(&root().join(krate));
        assert!(!graph.is_empty(), "{krate}: no modules found");
        if let Some(cycle) = find_cycle(&graph) {
            panic!("{krate}/src: the modules {} import each other in a circle (docs/ARCHITECTURE.md, layering)", cycle.join(" -> "));
        }
    }
}

#[test]
fn crates_depend_downwards_only() {
    // scheduler ← sim ← scenarios ← CLI: a crate may name only the crates below it.
    let below: [(&str, &[&str]); 3] = [("scheduler", &["alarmsim_sim", "alarmsim_scenarios"]), ("sim", &["alarmsim_scenarios"]), ("scenarios", &[])];
    for (krate, forbidden) in below {
        for file in rust_files(&root().join(krate).join("src")) {
            let text = std::fs::read_to_string(&file).expect("read a source file");
            for name in forbidden {
                assert!(!text.contains(&format!("{name}::")), "{} names {name}, a crate above it (docs/ARCHITECTURE.md, layering)", file.display());
            }
        }
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    // The checker itself can fail: a two-module circle is reported.
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(find_cycle(&graph), Some(vec!["a".to_string(), "b".to_string(), "a".to_string()]));
    assert_eq!(crate_refs("use crate::{plan::Plan, run::x};\nlet y = crate::world::f(); // crate::gone"), BTreeSet::from(["plan".into(), "run".into(), "world".into()]));
}
