//! The container's environment, merged as docker does: HOSTNAME (and TERM=xterm with -t)
//! first, then the image's Env, then `-e`/`--env-file`; a later value replaces an earlier
//! one with the same name, in its place. PATH gets docker's default when nobody set it, HOME
//! the user's home directory.

pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn key(e: &str) -> &str {
    e.split_once('=').map_or(e, |(k, _)| k)
}

fn set(env: &mut Vec<String>, e: &str) {
    match env.iter_mut().find(|x| key(x) == key(e)) {
        Some(x) => *x = e.to_string(),
        None => env.push(e.to_string()),
    }
}

pub fn merge(
    image_env: &[String],
    opts_env: &[String],
    hostname: &str,
    tty: bool,
    home: &str,
) -> Vec<String> {
    let mut env = vec![format!("HOSTNAME={hostname}")];
    if tty {
        env.push("TERM=xterm".into());
    }
    if !image_env.iter().chain(opts_env).any(|e| key(e) == "PATH") {
        env.push(format!("PATH={DEFAULT_PATH}"));
    }
    // An entry without `=` is not a variable: the client fills in those it can, and one
    // left bare (the API keeps what it is given) unsets the name, as dockerd does.
    for e in image_env.iter().chain(opts_env) {
        match e.contains('=') {
            true => set(&mut env, e),
            false => env.retain(|x| key(x) != e.as_str()),
        }
    }
    if !env.iter().any(|e| key(e) == "HOME") {
        env.push(format!("HOME={home}"));
    }
    env
}
