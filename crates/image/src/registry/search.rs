//! `docker search`: the registry's v1 search API (`GET /v1/search?q=TERM&n=LIMIT`), the one
//! Docker Hub's index and other indexes answer. A term may name its index
//! (`host:5000/name`); without one it is Docker Hub's, whose search lives on
//! `index.docker.io` rather than on the registry's own address.

use super::client::{Client, Request};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// One result, in the Engine API's shape (`GET /images/search`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub is_official: bool,
    /// Deprecated by Docker Hub (always false there), kept in the shape.
    #[serde(default)]
    pub is_automated: bool,
    pub name: String,
    #[serde(default)]
    pub star_count: u64,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    results: Vec<SearchResult>,
}

/// Split a term into its index and the words to search for: `host:5000/app` searches
/// `host:5000` for `app`; `app` and `library/app` search Docker Hub.
pub fn split_term(term: &str) -> (String, String) {
    match term.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            let index = if first == "index.docker.io" || first == "registry-1.docker.io" {
                "docker.io"
            } else {
                first
            };
            (index.to_string(), rest.to_string())
        }
        _ => ("docker.io".to_string(), term.to_string()),
    }
}

impl Client {
    /// Search `index` (a registry name, `docker.io` for Docker Hub) for `words`, at most
    /// `limit` results (the index's default when 0).
    pub fn search(&self, index: &str, words: &str, limit: u32) -> Result<Vec<SearchResult>> {
        if words.is_empty() {
            return Err(Error::Registry("search: no search term given".into()));
        }
        let base = if index == "docker.io" {
            "https://index.docker.io".to_string()
        } else {
            let probe: crate::reference::Reference = format!("{index}/berth-search").parse()?;
            self.upstream(&probe)?.base
        };
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("q", words);
        if limit > 0 {
            q.append_pair("n", &limit.to_string());
        }
        let url = format!("{base}/v1/search?{}", q.finish());
        let resp = self
            .send(&Request::new("GET", url.clone(), index))
            .map_err(|e| match e {
                Error::Status { status: 404, .. } => Error::Registry(format!(
                    "{index} offers no search (the registry has no /v1/search)"
                )),
                e => e,
            })?;
        let page: Page = serde_json::from_reader(resp.into_reader())
            .map_err(|e| Error::Registry(format!("{url}: not a search answer: {e}")))?;
        let mut results = page.results;
        if limit > 0 {
            results.truncate(limit as usize);
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_term_names_its_index_or_docker_hub() {
        assert_eq!(
            split_term("busybox"),
            ("docker.io".into(), "busybox".into())
        );
        assert_eq!(
            split_term("library/busybox"),
            ("docker.io".into(), "library/busybox".into())
        );
        assert_eq!(
            split_term("127.0.0.1:5000/app"),
            ("127.0.0.1:5000".into(), "app".into())
        );
        assert_eq!(
            split_term("localhost/app"),
            ("localhost".into(), "app".into())
        );
        assert_eq!(
            split_term("index.docker.io/nginx"),
            ("docker.io".into(), "nginx".into())
        );
    }
}
