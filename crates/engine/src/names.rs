//! Container IDs (64 random hex digits) and names: generated `adjective_noun` names as Docker
//! gives them (our own word lists), and the rules a user's `--name` must follow.

use crate::{Error, Result};

const ADJECTIVES: &[&str] = &[
    "agile",
    "amber",
    "ancient",
    "brave",
    "breezy",
    "bright",
    "calm",
    "candid",
    "cheerful",
    "clever",
    "cosmic",
    "crisp",
    "curious",
    "daring",
    "dazzling",
    "eager",
    "earnest",
    "elated",
    "fearless",
    "festive",
    "fluent",
    "frosty",
    "gallant",
    "gentle",
    "glowing",
    "golden",
    "graceful",
    "hardy",
    "humble",
    "jolly",
    "keen",
    "kind",
    "lively",
    "lucid",
    "lunar",
    "mellow",
    "merry",
    "mighty",
    "misty",
    "modest",
    "nimble",
    "noble",
    "patient",
    "placid",
    "plucky",
    "polished",
    "proud",
    "quiet",
    "radiant",
    "rapid",
    "rustic",
    "serene",
    "sharp",
    "shiny",
    "silent",
    "sleek",
    "snowy",
    "solid",
    "sparkling",
    "steady",
    "stellar",
    "sturdy",
    "sunny",
    "swift",
    "tidy",
    "tranquil",
    "upbeat",
    "vivid",
    "warm",
    "wise",
    "witty",
    "zealous",
];

/// Seafarers, harbours and ships: Berth's theme.
const NOUNS: &[&str] = &[
    "anchor",
    "atoll",
    "barge",
    "beacon",
    "bollard",
    "bosun",
    "bowline",
    "breakwater",
    "buoy",
    "cabin",
    "canal",
    "capstan",
    "cargo",
    "clipper",
    "compass",
    "corsair",
    "cove",
    "current",
    "cutter",
    "delta",
    "dinghy",
    "dock",
    "dory",
    "estuary",
    "ferry",
    "fjord",
    "frigate",
    "galley",
    "gangway",
    "harbor",
    "helm",
    "hull",
    "inlet",
    "island",
    "jetty",
    "keel",
    "ketch",
    "lagoon",
    "lantern",
    "launch",
    "lighthouse",
    "marina",
    "mast",
    "mooring",
    "navigator",
    "oar",
    "pier",
    "pilot",
    "port",
    "quay",
    "reef",
    "rudder",
    "sail",
    "schooner",
    "sextant",
    "shoal",
    "skiff",
    "sloop",
    "sound",
    "starboard",
    "stern",
    "strait",
    "tide",
    "trawler",
    "voyager",
    "wake",
    "wharf",
    "yacht",
    "yawl",
];

fn random_bytes(buf: &mut [u8]) -> Result<()> {
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: the pointer and length describe the unfilled tail of `buf`, which we own.
        let n = unsafe { libc::getrandom(buf[got..].as_mut_ptr().cast(), buf.len() - got, 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Error::io("getrandom", "/dev/urandom", e));
        }
        got += n as usize;
    }
    Ok(())
}

/// A new container ID. Like Docker, never all digits, so a short ID is never read as a number.
pub fn new_id() -> Result<String> {
    loop {
        let mut b = [0u8; 32];
        random_bytes(&mut b)?;
        let id: String = b.iter().map(|x| format!("{x:02x}")).collect();
        if !id[..12].bytes().all(|c| c.is_ascii_digit()) {
            return Ok(id);
        }
    }
}

/// A generated name; after a few clashes a random digit is appended, as Docker does.
pub fn generate(attempt: u32) -> Result<String> {
    let mut b = [0u8; 4];
    random_bytes(&mut b)?;
    let a = ADJECTIVES[u16::from_le_bytes([b[0], b[1]]) as usize % ADJECTIVES.len()];
    let n = NOUNS[u16::from_le_bytes([b[2], b[3]]) as usize % NOUNS.len()];
    Ok(if attempt > 0 {
        format!("{a}_{n}{}", b[0] % 10)
    } else {
        format!("{a}_{n}")
    })
}

/// A user's `--name` (a leading `/` is Docker's form and dropped): `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn validate(name: &str) -> Result<String> {
    let n = name.strip_prefix('/').unwrap_or(name);
    let ok = n.len() >= 2 && crate::options::parse::valid_name(n);
    if !ok {
        return Err(Error::InvalidArgument(format!(
            "Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )));
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_hex_and_differ() {
        let (a, b) = (new_id().unwrap(), new_id().unwrap());
        assert_eq!(a.len(), 64);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn names_follow_dockers_rules() {
        assert_eq!(validate("/web").unwrap(), "web");
        assert_eq!(validate("a.b-c_d").unwrap(), "a.b-c_d");
        for bad in ["", "/", "-x", "a", "x y", "é1"] {
            assert!(validate(bad).is_err(), "{bad}");
        }
        let g = generate(0).unwrap();
        assert!(validate(&g).is_ok() && g.contains('_'), "{g}");
    }
}
