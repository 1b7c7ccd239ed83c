//! Many berth processes at once: containers started concurrently, all without error, and
//! removed concurrently leaving nothing behind.

mod container_support;
use container_support::*;

#[test]
fn twenty_containers_started_concurrently() {
    let root = Root::new();
    let threads: Vec<_> = (0..20)
        .map(|i| {
            let p = root.path().to_path_buf();
            std::thread::spawn(move || {
                let name = format!("c{i}");
                berth(&p, &["run", "-d", "--name", &name, IMAGE, "sleep", "1000"])
            })
        })
        .collect();
    let ids: Vec<String> = threads
        .into_iter()
        .map(|t| ok(&t.join().unwrap()).trim().to_string())
        .collect();
    let running = root.ok(&["ps", "-q", "--no-trunc"]);
    for id in &ids {
        assert!(
            running.contains(id.as_str()),
            "{id} not running:\n{running}"
        );
    }
    let threads: Vec<_> = ids
        .iter()
        .map(|id| {
            let (p, id) = (root.path().to_path_buf(), id.clone());
            std::thread::spawn(move || berth(&p, &["rm", "-f", &id]))
        })
        .collect();
    for t in threads {
        ok(&t.join().unwrap());
    }
    for id in &ids {
        assert_nothing_left(&root, id);
    }
}
