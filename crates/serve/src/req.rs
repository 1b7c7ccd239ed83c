//! A request as the handlers see it: the path split into segments (the `/v1.NN` prefix taken
//! off and kept), the query decoded, and helpers to read a JSON body and to run engine work
//! on a blocking thread.

use crate::reply::ApiError;
use crate::state::State;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::collections::HashMap;
use std::sync::Arc;

/// The largest JSON body read (a create request is a few KiB).
const MAX_JSON: usize = 16 << 20;

pub struct Ctx {
    pub state: Arc<State>,
    pub segs: Vec<String>,
    /// The query's last value of each key.
    pub query: HashMap<String, String>,
    /// The query as given (for keys given more than once).
    pub raw_query: String,
    /// The API version of a `/vX.Y/...` path.
    pub version: Option<(u32, u32)>,
}

/// `/v1.41/containers/json` -> ([containers, json], 1.41). A version out of range is the
/// caller's error.
pub fn split_path(path: &str) -> (Vec<String>, Option<(u32, u32)>) {
    let mut segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let mut version = None;
    if let Some(v) = segs.first().and_then(|s| s.strip_prefix('v')) {
        if let Some((a, b)) = v.split_once('.') {
            if let (Ok(a), Ok(b)) = (a.parse(), b.parse()) {
                version = Some((a, b));
                segs.remove(0);
            }
        }
    }
    (segs, version)
}

fn percent_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

pub fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    form_urlencoded::parse(q.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

impl Ctx {
    /// Every value of `key` (`changes=a&changes=b`).
    pub fn all(&self, key: &str) -> Vec<String> {
        form_urlencoded::parse(self.raw_query.as_bytes())
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
            .collect()
    }

    /// The `filters` parameter (either of Docker's JSON forms) as the CLI's `key=value`
    /// strings, for the engine's parsers that take those.
    pub fn filter_args(&self) -> Result<Vec<String>, ApiError> {
        let f = berth_engine::service::Filters::from_api_json(self.q("filters").unwrap_or(""))?;
        Ok(f.keys()
            .flat_map(|k| f.get(k).iter().map(move |v| format!("{k}={v}")))
            .collect())
    }

    pub fn q(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }

    /// A boolean parameter as dockerd reads one: absent, "", "0", "false" are false.
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.q(key), Some(v) if !matches!(v, "" | "0" | "false" | "False" | "FALSE"))
    }

    /// The streams an attach asks for (`stdin`, `stdout`, `stderr` flags).
    pub fn streams(&self) -> berth_engine::monitor_client::Streams {
        berth_engine::monitor_client::Streams {
            stdin: self.flag("stdin"),
            stdout: self.flag("stdout"),
            stderr: self.flag("stderr"),
        }
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.q(key) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("invalid value for {key}: {v:?}"))),
        }
    }

    /// Runs `f` with an engine handle of its own on a blocking thread: the engine's calls
    /// block (locks, waits, the runtime), and its handles are per thread.
    pub async fn engine<T: Send + 'static>(
        &self,
        f: impl FnOnce(&berth_engine::Engine) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.state.clone();
        blocking(move || f(&state.engine()?)).await
    }
}

pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("request failed: {e}")))?
}

/// The whole body of a JSON request (at most [`MAX_JSON`] bytes).
pub async fn body_bytes(body: Incoming) -> Result<bytes::Bytes, ApiError> {
    Ok(http_body_util::Limited::new(body, MAX_JSON)
        .collect()
        .await
        .map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?
        .to_bytes())
}

/// The JSON body, `T::default()` when it is empty; a body that is not `T` is a 400 naming
/// where it went wrong.
pub async fn json_body<T: serde::de::DeserializeOwned + Default>(
    body: Incoming,
) -> Result<T, ApiError> {
    let bytes = body_bytes(body).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_prefix_is_taken_off() {
        let (s, v) = split_path("/v1.41/containers/abc/json");
        assert_eq!(s, ["containers", "abc", "json"]);
        assert_eq!(v, Some((1, 41)));
        let (s, v) = split_path("/_ping");
        assert_eq!(s, ["_ping"]);
        assert_eq!(v, None);
        // A name that starts with v is not a version.
        let (s, _) = split_path("/volumes/vdata");
        assert_eq!(s, ["volumes", "vdata"]);
    }

    #[test]
    fn segments_are_percent_decoded() {
        let (s, _) = split_path("/images/localhost%3A5000%2Fbusybox/json");
        assert_eq!(s, ["images", "localhost:5000/busybox", "json"]);
    }
}
