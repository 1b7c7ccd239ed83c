//! `WWW-Authenticate` challenges (RFC 7235 auth-params) as registries send them:
//! `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="..."` or
//! `Basic realm="Registry"`. Quoted strings may hold commas and escaped quotes.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Lowercased scheme: "bearer" or "basic" (others are kept so errors can name them).
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }
}

/// All challenges in one header value (several may be listed, comma separated).
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let b = header.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && (b[*i] == b' ' || b[*i] == b'\t' || b[*i] == b',') {
            *i += 1;
        }
    };
    let token = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && !matches!(b[*i], b' ' | b'\t' | b',' | b'=' | b'"') {
            *i += 1;
        }
        header[s..*i].to_string()
    };
    loop {
        skip_ws(&mut i);
        if i >= b.len() {
            break;
        }
        let word = token(&mut i);
        if word.is_empty() {
            i += 1;
            continue;
        }
        if i < b.len() && b[i] == b'=' && !out.is_empty() {
            // key=value of the current challenge
            i += 1;
            let value = if i < b.len() && b[i] == b'"' {
                i += 1;
                let mut v = String::new();
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                    }
                    let ch = header[i..].chars().next().expect("in bounds");
                    v.push(ch);
                    i += ch.len_utf8();
                }
                i += 1; // closing quote
                v
            } else {
                token(&mut i)
            };
            out.last_mut()
                .expect("checked")
                .params
                .insert(word.to_ascii_lowercase(), value);
        } else {
            out.push(Challenge {
                scheme: word.to_ascii_lowercase(),
                params: BTreeMap::new(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge_of_docker_hub() {
        let c = parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(c[0].param("service"), Some("registry.docker.io"));
        assert_eq!(c[0].param("scope"), Some("repository:library/busybox:pull"));
    }

    #[test]
    fn scopes_with_commas_and_escaped_quotes_stay_whole() {
        let c = parse(
            r#"Bearer realm="https://r/t",scope="repository:a/b:pull,push repository:c:pull",error="insufficient_scope",note="say \"hi\"""#,
        );
        assert_eq!(
            c[0].param("scope"),
            Some("repository:a/b:pull,push repository:c:pull")
        );
        assert_eq!(c[0].param("error"), Some("insufficient_scope"));
        assert_eq!(c[0].param("note"), Some(r#"say "hi""#));
    }

    #[test]
    fn basic_and_several_challenges() {
        let c = parse(r#"Basic realm="Registry Realm", Bearer realm="https://t",service=reg"#);
        assert_eq!(
            c.iter().map(|c| c.scheme.as_str()).collect::<Vec<_>>(),
            vec!["basic", "bearer"]
        );
        assert_eq!(c[0].param("realm"), Some("Registry Realm"));
        assert_eq!(c[1].param("service"), Some("reg"), "unquoted values too");
        assert!(parse("").is_empty());
    }
}
