//! Docker's filters: a key and the set of values given for it. Values of one key are
//! alternatives; different keys must all hold (the daemon's rule for every list endpoint).

use crate::{Error, Result};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Key -> its values, in the order first given, without repeats.
    map: BTreeMap<String, Vec<String>>,
}

impl Filters {
    /// From the CLI's `--filter key=value` strings.
    pub fn from_cli(args: &[String]) -> Result<Filters> {
        let mut f = Filters::default();
        for spec in args {
            let (k, v) = spec.split_once('=').ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "bad format of filter (expected name=value): {spec}"
                ))
            })?;
            f.add(k, v);
        }
        Ok(f)
    }

    /// From the API's `filters` query parameter: `{"key":["value"]}`, or the older
    /// `{"key":{"value":true}}` (a value mapped to false is not given). "" means none.
    pub fn from_api_json(s: &str) -> Result<Filters> {
        let mut f = Filters::default();
        if s.trim().is_empty() {
            return Ok(f);
        }
        let bad = |why: String| Error::InvalidArgument(format!("invalid filter: {why}"));
        let v: Value = serde_json::from_str(s).map_err(|e| bad(e.to_string()))?;
        let Value::Object(keys) = v else {
            return Err(bad("expected a JSON object".into()));
        };
        for (k, values) in keys {
            match values {
                Value::Array(list) => {
                    for item in list {
                        let Value::String(item) = item else {
                            return Err(bad(format!("values of '{k}' must be strings")));
                        };
                        f.add(&k, &item);
                    }
                }
                Value::Object(set) => {
                    for (item, on) in set {
                        match on {
                            Value::Bool(true) => f.add(&k, &item),
                            Value::Bool(false) => {}
                            _ => return Err(bad(format!("values of '{k}' must be booleans"))),
                        }
                    }
                }
                _ => return Err(bad(format!("values of '{k}' must be a list"))),
            }
        }
        Ok(f)
    }

    /// Docker's `invalid filter 'x'` for the first key not in `allowed`.
    pub fn validate(&self, allowed: &[&str]) -> Result<()> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(Error::InvalidArgument(format!("invalid filter '{k}'"))),
            None => Ok(()),
        }
    }

    /// Give one more value for `key`.
    pub fn add(&mut self, key: &str, value: &str) {
        let values = self.map.entry(key.to_string()).or_default();
        if !values.iter().any(|v| v == value) {
            values.push(value.to_string());
        }
    }

    /// The values given for `key` (none if it was not given).
    pub fn get(&self, key: &str) -> &[String] {
        self.map.get(key).map_or(&[], |v| v.as_slice())
    }

    pub fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The keys given, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(|k| k.as_str())
    }

    /// Whether every `label` filter (`key` or `key=value`) holds for `labels`.
    pub fn labels_match(&self, labels: &BTreeMap<String, String>) -> bool {
        self.get("label").iter().all(|l| label_matches(l, labels))
    }
}

/// `key` (present) or `key=value` (present with that value).
pub fn label_matches(filter: &str, labels: &BTreeMap<String, String>) -> bool {
    match filter.split_once('=') {
        Some((k, want)) => labels.get(k).is_some_and(|have| have == want),
        None => labels.contains_key(filter),
    }
}

/// Docker's boolean filter values (`dangling=true`, `dangling=0`).
pub fn parse_bool(key: &str, v: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(Error::InvalidArgument(format!(
            "invalid filter '{key}={v}'"
        ))),
    }
}
